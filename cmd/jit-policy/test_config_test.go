package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTree writes files (name → contents) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// pgIssuerConfig is a jit-policy.yaml whose secrets come from variables
// that are not set, as in a pull request's CI job.
const pgIssuerConfig = `version: jit-policy/v1
policy: ./rego
leases: ${SOME_UNSET_LEASES_DSN}
issuers:
  postgres:
    dsn: ${SOME_UNSET_SECRET}
    owner: jit_owner
    max_ttl: 1h
    roles:
      ro: {grants: [reader]}
`

// TestRunTestWithoutSecrets: `jit-policy test` reads jit-policy.yaml
// without the environment, so it runs where the production secrets are not
// set, and still refuses a config that is wrong in itself.
func TestRunTestWithoutSecrets(t *testing.T) {
	for _, name := range []string{"SOME_UNSET_SECRET", "SOME_UNSET_LEASES_DSN"} {
		if _, set := os.LookupEnv(name); set {
			t.Fatalf("%s is set in the environment; unset it to run this test", name)
		}
	}
	pass, err := os.ReadFile("testdata/tests/pass/policy.rego")
	if err != nil {
		t.Fatal(err)
	}
	passTest, err := os.ReadFile("testdata/tests/pass/policy_test.rego")
	if err != nil {
		t.Fatal(err)
	}
	goodRequest, err := os.ReadFile(filepath.Join("..", "..", "examples", "requests", "alice.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	badRequest := string(goodRequest) + "bogus: 1\n"
	tests := []struct {
		name     string
		files    map[string]string
		args     []string // empty: the policy folder of ./jit-policy.yaml
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"policy folder from a config with unset secrets",
			map[string]string{"jit-policy.yaml": pgIssuerConfig, "rego/policy.rego": string(pass), "rego/policy_test.rego": string(passTest)},
			nil, 0, "PASS: 2/2", ""},
		{"a config with unset secrets under PATH is validated",
			map[string]string{"rego/jit-policy.yaml": pgIssuerConfig, "rego/policy.rego": string(pass), "rego/policy_test.rego": string(passTest)},
			[]string{"rego"}, 0, "PASS: 2/2", ""},
		{"a config wrong in itself still fails",
			map[string]string{"jit-policy.yaml": pgIssuerConfig + "krl: revoked.krl\n", "rego/policy.rego": string(pass), "rego/policy_test.rego": string(passTest)},
			nil, 1, "", "jit-policy.yaml:11: krl: must be file://PATH"},
		{"a literal DSN to a remote host without TLS fails",
			map[string]string{"jit-policy.yaml": strings.Replace(pgIssuerConfig, "${SOME_UNSET_LEASES_DSN}", "postgres://u@db.internal/leases", 1), "rego/policy.rego": string(pass), "rego/policy_test.rego": string(passTest)},
			nil, 1, "", "jit-policy.yaml:3: leases: reaches a host that is not loopback"},
		{"a policy folder from the environment is refused",
			map[string]string{"jit-policy.yaml": strings.Replace(pgIssuerConfig, "./rego", "${POLICY_DIR}", 1)},
			nil, 1, "", "jit-policy.yaml:2: policy: names its folder with ${NAME}"},
		{"test files without test rules exit 1",
			map[string]string{"jit-policy.yaml": pgIssuerConfig, "rego/policy.rego": string(pass), "rego/policy_test.rego": "package jit_test\n\nhelper := 1\n"},
			nil, 1, "", "no tests ran: no rules named test_* under rego"},
		{"the config's request files are validated",
			map[string]string{"jit-policy.yaml": pgIssuerConfig, "rego/policy.rego": string(pass), "rego/policy_test.rego": string(passTest),
				"requests/alice.yaml": string(goodRequest), "requests/team/bad.yaml": badRequest},
			nil, 1, "", filepath.Join("requests", "team", "bad.yaml")},
		{"the config's request files pass, data.yaml is not one",
			map[string]string{"jit-policy.yaml": pgIssuerConfig, "rego/policy.rego": string(pass), "rego/policy_test.rego": string(passTest),
				"requests/alice.yaml": string(goodRequest), "requests/data.yaml": "teams: [acme/sre]\n"},
			nil, 0, "PASS: 2/2", ""},
		{"a configured requests folder is validated",
			map[string]string{"jit-policy.yaml": pgIssuerConfig + "pull_requests:\n  requests: access\n", "rego/policy.rego": string(pass), "rego/policy_test.rego": string(passTest),
				"access/bad.yml": badRequest},
			nil, 1, "", filepath.Join("access", "bad.yml")},
		{"a folder without test files exits 1",
			map[string]string{"jit-policy.yaml": pgIssuerConfig, "rego/policy.rego": string(pass)},
			nil, 1, "", "no tests ran: no *_test.rego files under rego"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, tc.files)
			t.Chdir(dir)
			code, out, errOut := runTestCmd(t, testCmd(tc.args...))
			if code != tc.wantCode {
				t.Fatalf("exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantCode, out, errOut)
			}
			if !strings.Contains(out, tc.wantOut) {
				t.Errorf("stdout lacks %q:\n%s", tc.wantOut, out)
			}
			if !strings.Contains(errOut, tc.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tc.wantErr, errOut)
			}
		})
	}
}
