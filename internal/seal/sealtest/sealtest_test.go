package sealtest

import (
	"strings"
	"testing"

	"github.com/jit-policy/jit-policy/internal/seal"
)

// FuzzOutputs checks that whatever seal.FormatOutputs accepts reads back
// exactly, that it refuses only invalid or duplicate names, and that
// ParseOutputs never panics.
func FuzzOutputs(f *testing.F) {
	f.Add("password", "hunter2")
	f.Add("pem", "a\nEOF\nb\n")
	f.Add("x", "\r")
	// The multi-line values of seal's TestSealOutputsRoundTrip.
	f.Add("pem", "-----BEGIN X-----\nabc\nEOF\n-----END X-----\n")
	f.Add("crlf", "a\r\nb")
	f.Fuzz(func(t *testing.T, name, value string) {
		text, err := seal.FormatOutputs([]seal.Output{{Name: name, Value: value}, {Name: "z", Value: "1"}})
		if err != nil {
			if validName(name) && name != "z" {
				t.Fatalf("seal.FormatOutputs(%q, %q): %v", name, value, err)
			}
			return
		}
		back, err := ParseOutputs(text)
		if err != nil {
			t.Fatalf("ParseOutputs(%q): %v", text, err)
		}
		if len(back) != 2 || back[0] != (seal.Output{Name: name, Value: value}) || back[1] != (seal.Output{Name: "z", Value: "1"}) {
			t.Fatalf("round trip of %q, %q = %q", name, value, back)
		}
		_, _ = ParseOutputs(strings.ReplaceAll(text, "\n", "\r\n"))
	})
}

// validName reports whether seal accepts name as an output name.
func validName(name string) bool {
	_, err := seal.FormatOutputs([]seal.Output{{Name: name}})
	return err == nil
}
