package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckFile: without the environment, values holding ${NAME} are
// unknown and unchecked; the structure and every value written out are
// checked as Parse checks them.
func TestCheckFile(t *testing.T) {
	const head = "version: jit-policy/v1\npolicy: ./rego\n"
	tests := []struct {
		name, in string
		want     string // "" when accepted, else part of the error
	}{
		{"unset dsn", head + "issuers:\n  postgres:\n    dsn: ${SOME_UNSET_SECRET}\n    owner: o\n    max_ttl: 1h\n    roles: {r: {grants: [g]}}\n", ""},
		{"unset values of every kind", head + "leases: ${JIT_LEASES_DSN}\naudit: ${AUDIT}\noidc: [{issuer: '${IDP}', audience: a}]\n" +
			"ci:\n  github: {api_url: '${API}', token: '${GITHUB_TOKEN}'}\n" +
			"issuers:\n  ssh: {ca_key: '${KEY}', max_ttl: '${TTL}', roles: {a: {principals: [a]}}}\n" +
			"  aws: {region: '${REGION}', max_ttl: 1h, roles: {r: {role_arn: 'arn:aws:iam::${ACCOUNT}:role/x'}}}\n", ""},
		{"issuer max_ttl unset, a longer role max_ttl", head + "issuers:\n  ssh: {ca_key: file://k, max_ttl: '${TTL}', roles: {a: {principals: [a], max_ttl: 2h}}}\n", ""},
		{"role max_ttl unset", head + "issuers:\n  ssh: {ca_key: file://k, max_ttl: 30m, roles: {a: {principals: [a], max_ttl: '${ROLE_TTL}'}}}\n", ""},
		{"literal role max_ttl longer than the issuer's", head + "issuers:\n  ssh: {ca_key: file://k, max_ttl: 30m, roles: {a: {principals: [a], max_ttl: 2h}}}\n", "is longer than the issuer's max_ttl"},
		{"literal remote dsn without TLS", head + "leases: postgres://u@db.internal/db\n", "jit-policy.yaml:3: leases: reaches a host"},
		{"literal bad value", head + "audit: syslog\n", `jit-policy.yaml:3: audit: must be "stderr" or file://PATH`},
		{"unknown key", head + "leeses: file://l.db\n", `field "leeses" not valid here`},
		{"wrong version", "version: ${V}\npolicy: ./rego\nkrl: nope\n", "jit-policy.yaml:3: krl: must be file://PATH"},
		{"policy from the environment", "version: jit-policy/v1\npolicy: ${POLICY}\n", "jit-policy.yaml:2: policy: names its folder with ${NAME}"},
	}
	// Set in the environment, these would fail: CheckFile must not read it.
	t.Setenv("SOME_UNSET_SECRET", "postgres://admin:"+secret+"@db.internal/db?sslmode=disable")
	t.Setenv("AUDIT", secret)
	for _, tt := range tests {
		paths, err := checkData(filepath.Join("conf", "jit-policy.yaml"), []byte(tt.in))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v, want no error", tt.name, err)
		case tt.want == "" && (paths.Policy != filepath.Join("conf", "rego") || paths.Requests != DefaultRequestsDir):
			t.Errorf("%s: folders %+v, want policy conf/rego and requests %s", tt.name, paths, DefaultRequestsDir)
		case tt.want == "":
		case err == nil || !strings.Contains(err.Error(), tt.want):
			t.Errorf("%s: got %v, want an error saying %q", tt.name, err, tt.want)
		case strings.Contains(err.Error(), secret):
			t.Errorf("%s: error shows a secret: %v", tt.name, err)
		}
	}

	path := filepath.Join(t.TempDir(), "jit-policy.yaml")
	if err := os.WriteFile(path, []byte(tests[0].in), 0o600); err != nil {
		t.Fatal(err)
	}
	if paths, err := CheckFile(path); err != nil || paths.Policy != filepath.Join(filepath.Dir(path), "rego") {
		t.Errorf("CheckFile: got %+v, %v; want the rego folder beside the file", paths, err)
	}
	if _, err := CheckFile(path + ".missing"); err == nil || !strings.Contains(err.Error(), "open config") {
		t.Errorf("CheckFile of a missing file: got %v, want an open error", err)
	}
}
