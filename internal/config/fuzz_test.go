package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzSecret is short so that yaml.v3, which shortens long values in its
// messages, would show all of it if it leaked.
const fuzzSecret = "pw9Zq"

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*", "*.yaml"))
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("version: jit-policy/v1\nleases: ${DSN}\n"))
	f.Add([]byte("version: jit-policy/v1\nissuers:\n  ssh: {ca_key: '${S}', max_ttl: '${S}', roles: {a: {principals: ${S}}}}\n"))
	lookup := env(map[string]string{"DSN": "postgres://u:" + fuzzSecret + "@h/db", "S": fuzzSecret})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data, lookup)
		if err != nil {
			if c != nil {
				t.Fatalf("Parse returned a config with error %v", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "fuzz.yaml") {
				t.Fatalf("error does not name the file: %q", msg)
			}
			if strings.Contains(msg, fuzzSecret) && !strings.Contains(string(data), fuzzSecret) {
				t.Fatalf("error shows a secret from the environment: %q for %q", msg, data)
			}
			return
		}
		if c == nil || c.Version != Version {
			t.Fatalf("Parse returned %+v and no error for %q", c, data)
		}
		if s := c.Issuers.SSH; s != nil {
			for name, r := range s.Roles {
				if len(r.Principals) == 0 {
					t.Fatalf("ssh role %s accepted with no principals for %q", name, data)
				}
			}
		}
	})
}
