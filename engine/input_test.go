package engine_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jit-policy/jit-policy/engine"
)

func TestDecodeInput(t *testing.T) {
	tests := []struct {
		file    string
		wantErr string // empty: decodes
	}{
		{"pipeline.json", ""},
		{"pull_request.json", ""},
		{"unknown_field.json", `unknown field "tokn"`},
		{"wrong_type.json", "cannot unmarshal"},
		{"two_values.json", "more than one JSON value"},
		{"wrong_version.json", `version is "jit-policy/v0"`},
		{"pr_with_token.json", "carries no token"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "inputs", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			_, err = engine.DecodeInput(bytes.NewReader(data))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("DecodeInput: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("DecodeInput err = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestDecodeInputOversized(t *testing.T) {
	big := `{"version":"jit-policy/v1","request":{"reason":"` + strings.Repeat("x", engine.MaxInputBytes) + `"}}`
	_, err := engine.DecodeInput(strings.NewReader(big))
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v, want a size error", err)
	}
}

func TestRequestFieldsRoundTrip(t *testing.T) {
	src := `{"issuer":"ssh","role":"deploy","ttl_seconds":60,"public_key":"ssh-ed25519 AAAA"}`
	var r engine.Request
	if err := json.Unmarshal([]byte(src), &r); err != nil {
		t.Fatal(err)
	}
	if r.Role != "deploy" || r.TTLSeconds != 60 || r.Fields["public_key"] != "ssh-ed25519 AAAA" || r.Fields["role"] != nil {
		t.Fatalf("decoded %+v", r)
	}
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	if back["public_key"] != "ssh-ed25519 AAAA" || back["issuer"] != "ssh" {
		t.Fatalf("round trip = %s", out)
	}
}

// FuzzDecodeInput checks that no input document makes the decoder panic and
// that whatever it accepts also validates.
func FuzzDecodeInput(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "inputs", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := engine.DecodeInput(bytes.NewReader(data))
		if err != nil {
			return
		}
		if err := in.Validate(); err != nil {
			t.Fatalf("accepted input fails Validate: %v", err)
		}
		if _, err := json.Marshal(in); err != nil {
			t.Fatalf("accepted input does not marshal: %v", err)
		}
	})
}
