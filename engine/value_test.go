package engine

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// TestInputValueMatchesJSON checks that the direct conversion yields the
// document policies would see from the input's JSON encoding.
func TestInputValueMatchesJSON(t *testing.T) {
	for _, name := range []string{"pipeline.json", "pull_request.json"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "inputs", name))
			if err != nil {
				t.Fatal(err)
			}
			in, err := DecodeInput(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			got, err := inputValue(in)
			if err != nil {
				t.Fatal(err)
			}
			encoded, err := json.Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			var doc any
			if err := json.Unmarshal(encoded, &doc); err != nil {
				t.Fatal(err)
			}
			want, err := ast.InterfaceToValue(doc)
			if err != nil {
				t.Fatal(err)
			}
			if got.Compare(want) != 0 {
				t.Fatalf("inputValue = %v\nwant %v", got, want)
			}
		})
	}
}
