package strictyaml

import (
	"strings"
	"testing"
)

func TestMaxDepth(t *testing.T) {
	var v any
	for _, tt := range []struct {
		name, doc string
		ok        bool
	}{
		{"flow at the bound", "a: " + strings.Repeat("[", 63) + strings.Repeat("]", 63) + "\n", true},
		{"flow over the bound", "a: " + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "\n", false},
		{"block over the bound", strings.Repeat("- ", 100) + "x\n", false},
		{"mappings over the bound", strings.Repeat("{a: ", 100) + "1" + strings.Repeat("}", 100) + "\n", false},
	} {
		_, err := DecodeWith("f.yaml", []byte(tt.doc), &v, Options{})
		if tt.ok != (err == nil) || (err != nil && !strings.Contains(err.Error(), "f.yaml:1: nested more than 64 levels deep")) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}
