package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestInvalidConfigs checks the error text for each testdata/invalid/*.yaml
// against the .golden file next to it: the messages are the user interface.
func TestInvalidConfigs(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "invalid", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test configs: %v", err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		c, err := Parse(filepath.Base(file), data, testEnv)
		if err == nil {
			t.Errorf("%s: Parse returned %+v, want an error", file, c)
			continue
		}
		if c != nil {
			t.Errorf("%s: Parse returned a config with its error", file)
		}
		got := err.Error() + "\n"
		golden := strings.TrimSuffix(file, ".yaml") + ".golden"
		if *update {
			if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%s (run go test -update to create it): %v", golden, err)
		}
		if got != string(want) {
			t.Errorf("%s: errors differ from %s\ngot:\n%swant:\n%s", file, golden, got, want)
		}
	}
}

// TestSecretsNotInErrors routes a secret from the environment into keys that
// reject it and checks that no message repeats it.
func TestSecretsNotInErrors(t *testing.T) {
	withSecret := map[string]string{
		"S":       secret,
		"BAD_DSN": "postgress://admin:" + secret + "@db/postgres",
		"BAD_URL": "http://admin:" + secret + "@idp.example.com",
	}
	tests := []struct{ name, in string }{
		{"version", "version: ${S}\n"},
		{"policy", "version: jit-policy/v1\npolicy: ${BAD_DSN}\n"},
		{"leases", "version: jit-policy/v1\nleases: ${BAD_DSN}\n"},
		{"audit", "version: jit-policy/v1\naudit: ${S}\n"},
		{"krl", "version: jit-policy/v1\nkrl: ${BAD_DSN}\n"},
		{"oidc", "version: jit-policy/v1\noidc: [{issuer: '${BAD_URL}', audience: a}]\n"},
		{"oidc list", "version: jit-policy/v1\noidc: ${S}\n"},
		{"ca_key", "version: jit-policy/v1\nissuers:\n  ssh: {ca_key: '${BAD_DSN}', max_ttl: 1h, roles: {a: {principals: [a]}}}\n"},
		{"max_ttl", "version: jit-policy/v1\nissuers:\n  ssh: {ca_key: file://k, max_ttl: '${S}', roles: {a: {principals: [a]}}}\n"},
		{"principals", "version: jit-policy/v1\nissuers:\n  ssh:\n    ca_key: file://k\n    max_ttl: 1h\n    roles: {a: {principals: ${S}}}\n"},
		{"connection_limit", "version: jit-policy/v1\nissuers:\n  postgres:\n    dsn: x\n    owner: o\n    max_ttl: 1h\n    roles:\n      r:\n        grants: [g]\n        connection_limit: ${S}\n"},
		{"region", "version: jit-policy/v1\nissuers:\n  aws: {region: '${S}', max_ttl: 1h, roles: {r: {role_arn: '${S}', session_policy: '${S}'}}}\n"},
		{"sts_endpoint", "version: jit-policy/v1\nissuers:\n  aws: {region: us-east-1, sts_endpoint: '${BAD_URL}', max_ttl: 1h, roles: {r: {role_arn: 'arn:aws:iam::123456789012:role/x'}}}\n"},
		{"x509", "version: jit-policy/v1\nissuers:\n  x509: {ca_cert: '${BAD_DSN}', ca_key: '${S}', max_ttl: 1h, roles: {r: {common_name: x}}}\n"},
	}
	for _, tt := range tests {
		_, err := Parse("jit-policy.yaml", []byte(tt.in), env(withSecret))
		if err == nil {
			t.Errorf("%s: got no error, want one", tt.name)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: error shows the secret: %v", tt.name, err)
		}
	}
}
