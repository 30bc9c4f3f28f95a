package strictyaml

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite golden files")

type inner struct {
	Level int      `yaml:"level"`
	Names []string `yaml:"names"`
}

type common struct {
	Owner string `yaml:"owner"`
}

type stamp struct{ t time.Time }

func (s *stamp) UnmarshalYAML(n *yaml.Node) error {
	if err := n.Decode(&s.t); err != nil {
		return NodeError(n, "not a time; write one such as 2026-11-28T06:00:00Z")
	}
	return nil
}

type sample struct {
	Name   string            `yaml:"name"`
	Count  int               `yaml:"count"`
	Tags   []string          `yaml:"tags"`
	Meta   map[string]string `yaml:"meta"`
	Inner  *inner            `yaml:"inner"`
	Roles  map[string]inner  `yaml:"roles"`
	Any    any               `yaml:"any"`
	When   stamp             `yaml:"when"`
	Hidden string            `yaml:"-"`
	common `yaml:",inline"`
}

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

var testEnv = env(map[string]string{"USER": "alice", "SECRET": "hunter2", "EMPTY": ""})

func TestDecodeErrors(t *testing.T) {
	laughs := "any:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	for _, c := range "bcdefghi" {
		prev := string(c - 1)
		laughs += fmt.Sprintf("  %c: &%c [*%s, *%s]\n", c, c, prev, prev)
	}
	tests := []struct {
		name string
		in   string
	}{
		{"too large", "name: " + strings.Repeat("x", DefaultMaxBytes) + "\n"},
		{"empty", ""},
		{"comments only", "# nothing here\n"},
		{"null document", "---\n~\n"},
		{"second document", "name: a\n---\nname: b\n"},
		{"syntax error", "name: a\n  count: [1\n"},
		{"tab indentation", "name: a\n\tcount: 1\n"},
		{"unknown field", "name: a\nfoo: 1\n"},
		{"unknown nested field", "inner:\n  level: 1\n  lvl: 2\n"},
		{"unknown field in map value", "roles:\n  a: {level: 1, nme: x}\n"},
		{"hidden field", "Hidden: x\n"},
		{"duplicate key", "name: a\ncount: 1\nname: b\n"},
		{"duplicate nested key", "meta:\n  k: a\n  k: b\n"},
		{"duplicate key differently quoted", "meta: {1: a, '1': b}\n"},
		{"wrong type", "count: many\ntags: x\n"},
		{"wrong type in unmarshaler", "when: yesterday\n"},
		{"wrong types in flow mapping", "roles: {a: {level: x, names: y}}\nany: &w [{when: 1}]\ntags: [*w]\n"},
		{"merge key", "inner: &i {level: 1}\nroles:\n  a:\n    <<: *i\n"},
		{"too many aliases", "name: &n a\nany: [" + strings.Repeat("*n, ", 16) + "*n]\n"},
		{"alias expansion budget", laughs},
		{"anchor contains itself", "any: &a [x, *a]\n"},
		{"unknown anchor", "any: *nope\n"},
		{"top level sequence", "- a\n- b\n"},
		{"unset variable", "name: ${USER}-${NOPE}\ntags: [\"${ALSO_NOPE}\"]\n"},
		{"secret in wrong type", "count: ${SECRET}\ntags: ${SECRET}\n"},
	}
	var golden strings.Builder
	for _, tt := range tests {
		var got sample
		_, err := DecodeWith("test.yaml", []byte(tt.in), &got, Options{Expand: testEnv})
		if err == nil {
			t.Errorf("%s: got no error, want one", tt.name)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: error shows the secret: %v", tt.name, err)
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: error %v is not a *strictyaml.Error", tt.name, err)
		}
		fmt.Fprintf(&golden, "-- %s --\n%v\n", tt.name, err)
	}
	checkGolden(t, filepath.Join("testdata", "errors.golden"), golden.String())
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("errors differ from %s (run go test -update after checking them):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestDecode(t *testing.T) {
	in := `# a comment
name: ${USER}@example   # expanded
count: 3
tags: [a, "${USER}", '${USER}']
meta:
  ${USER}: x        # keys are never expanded
  k: ${EMPTY}
inner: &in
  level: 2
  names: [x]
roles:
  a: *in
  b: {level: 1}
owner: bob
when: 2026-11-28T06:00:00Z
any: {free: [form, 1]}
`
	var got sample
	lines, err := DecodeWith("test.yaml", []byte(in), &got, Options{Expand: testEnv})
	if err != nil {
		t.Fatalf("DecodeWith: %v", err)
	}
	checks := []struct{ what, got, want string }{
		{"name", got.Name, "alice@example"},
		{"count", fmt.Sprint(got.Count), "3"},
		{"tags", strings.Join(got.Tags, ","), "a,alice,alice"},
		{"meta key", got.Meta["${USER}"], "x"},
		{"meta empty", fmt.Sprintf("%q", got.Meta["k"]), `""`},
		{"alias", fmt.Sprint(got.Roles["a"].Level, got.Roles["a"].Names), "2 [x]"},
		{"inline", got.Owner, "bob"},
		{"unmarshaler", got.When.t.Format(time.RFC3339), "2026-11-28T06:00:00Z"},
		{"any", fmt.Sprint(got.Any), "map[free:[form 1]]"},
		{"line of name", fmt.Sprint(lines["name"]), "2"},
		{"line of meta key", fmt.Sprint(lines["meta.${USER}"]), "6"},
		{"line of nested", fmt.Sprint(lines["roles.b.level"]), "13"},
		{"line through alias", fmt.Sprint(lines["roles.a.level"]), "9"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %s, want %s", c.what, c.got, c.want)
		}
	}
}

func TestDecodeWithoutExpand(t *testing.T) {
	var got sample
	if _, err := DecodeWith("request.yaml", []byte("name: ${SECRET}\n"), &got, Options{}); err != nil {
		t.Fatalf("DecodeWith: %v", err)
	}
	if got.Name != "${SECRET}" {
		t.Errorf("name: got %q, want the text left as written", got.Name)
	}
}

func TestOptionsLimits(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		opts    Options
		wantErr bool
	}{
		{"at size limit", "name: abcd\n", Options{MaxBytes: 11}, false},
		{"over size limit", "name: abcde\n", Options{MaxBytes: 11}, true},
		{"aliases at limit", "name: &n a\nany: [*n, *n]\n", Options{MaxAliases: 2}, false},
		{"aliases over limit", "name: &n a\nany: [*n, *n, *n]\n", Options{MaxAliases: 2}, true},
		{"expansion at limit", "inner: &i {level: 1}\nany: [*i]\n", Options{MaxAliasNodes: 3}, false},
		{"expansion over limit", "inner: &i {level: 1}\nany: [*i, *i]\n", Options{MaxAliasNodes: 3}, true},
	}
	for _, tt := range tests {
		var got sample
		_, err := DecodeWith("t.yaml", []byte(tt.in), &got, tt.opts)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: got error %v, want error %v", tt.name, err, tt.wantErr)
		}
	}
}
