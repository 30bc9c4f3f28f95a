package ghcmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jit-policy/jit-policy/action/ghcmd/ghcmdtest"
)

func TestEscapeData(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"100%", "100%25"},
		{"a\r\nb", "a%0D%0Ab"},
		{"%0A", "%250A"},
		{"x\n::error::y", "x%0A::error::y"},
	}
	for _, tc := range tests {
		if got := EscapeData(tc.in); got != tc.want {
			t.Errorf("EscapeData(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"secret", "::add-mask::secret\n"},
		{"-----BEGIN K-----\r\n  abc \n\n%x\n-----END K-----\n", "::add-mask::-----BEGIN K-----\n::add-mask::abc\n::add-mask::%25x\n::add-mask::-----END K-----\n"},
	}
	for _, tc := range tests {
		var b bytes.Buffer
		if err := Mask(&b, tc.in); err != nil || b.String() != tc.want {
			t.Errorf("Mask(%q) = %q, %v; want %q", tc.in, b.String(), err, tc.want)
		}
	}
}

func TestErrorAndWarning(t *testing.T) {
	var b bytes.Buffer
	Error(&b, "a\nb 5%")
	Warning(&b, "w")
	if want := "::error::a%0Ab 5%25\n::warning::w\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func TestFormatAndParse(t *testing.T) {
	values := []string{"", "x", "two\nlines", "ends in newline\n", "crlf\r\ninside", "\n\nleading", "a=b<<c", "ghadelimiter_x"}
	var file strings.Builder
	for i, v := range values {
		s, err := Format(string(rune('a'+i)), v)
		if err != nil {
			t.Fatal(err)
		}
		file.WriteString(s)
	}
	file.WriteString("simple=value=with=equals\n\nheredocname<<EOF\r\nline1\r\nline2\r\nEOF\r\n")
	got, err := ghcmdtest.Parse(file.String())
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range values {
		if g := got[string(rune('a'+i))]; g != v {
			t.Errorf("value %d: got %q, want %q", i, g, v)
		}
	}
	if got["simple"] != "value=with=equals" || got["heredocname"] != "line1\r\nline2" {
		t.Errorf("got %q", got)
	}
}

func TestFormatRefuses(t *testing.T) {
	for _, tc := range []struct{ name, value string }{{"", "v"}, {"a=b", "v"}, {"a<<b", "v"}, {"a\nb", "v"}, {"ok", "ends in CR\r"}} {
		if _, err := Format(tc.name, tc.value); err == nil {
			t.Errorf("Format(%q, %q): no error", tc.name, tc.value)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{"novalue\n", "=v\n", "a<<EOF\nno end\n", "<<EOF\nEOF\n", "a<<\n"} {
		if _, err := ghcmdtest.Parse(in); err == nil {
			t.Errorf("ghcmdtest.Parse(%q): no error", in)
		}
	}
}

func TestAppend(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out")
	if err := Append(path, Pair{"a", "1"}); err == nil {
		t.Errorf("Append to a missing file: no error")
	}
	if err := os.WriteFile(path, []byte("first=1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Append(path, Pair{"a", "x\ny"}, Pair{"b", ""}); err != nil {
		t.Fatal(err)
	}
	if err := Append(path, Pair{"bad=name", ""}); err == nil {
		t.Errorf("Append with a bad name: no error")
	}
	data, _ := os.ReadFile(path)
	got, err := ghcmdtest.Parse(string(data))
	if err != nil || got["first"] != "1" || got["a"] != "x\ny" || got["b"] != "" || len(got) != 3 {
		t.Errorf("file %q parses to %q, %v", data, got, err)
	}
}

// FuzzFormatParse checks that every value Format accepts reads back
// exactly, and that Parse never panics on what it is given.
func FuzzFormatParse(f *testing.F) {
	f.Add("name", "value")
	f.Add("k", "a\r\nb\n")
	f.Fuzz(func(t *testing.T, name, value string) {
		_, _ = ghcmdtest.Parse(name + value)
		s, err := Format(name, value)
		if err != nil {
			return
		}
		got, err := ghcmdtest.Parse(s)
		if err != nil {
			t.Fatalf("ghcmdtest.Parse(Format(%q, %q)): %v", name, value, err)
		}
		if len(got) != 1 || got[name] != value {
			t.Fatalf("ghcmdtest.Parse(Format(%q, %q)) = %q", name, value, got)
		}
	})
}
