package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pgDSN holds a password, as a real admin DSN would, and verifies the
// server's certificate, as a DSN to another host must.
const (
	secret = "Sup3rS3cret"
	pgDSN  = "postgres://admin:" + secret + "@db.internal:5432/postgres?sslmode=verify-full"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

var testEnv = env(map[string]string{"JIT_PG_DSN": pgDSN, "SECRET": secret})

func TestParseDesignExample(t *testing.T) {
	name := filepath.Join("testdata", "valid", "design.yaml")
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(name, data, testEnv)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	dir := filepath.Join("testdata", "valid")
	oidc, ok := c.OIDCProvider("https://token.actions.githubusercontent.com")
	ssh, pg, aws, x := c.Issuers.SSH, c.Issuers.Postgres, c.Issuers.AWS, c.Issuers.X509
	checks := []struct{ what, got, want string }{
		{"version", c.Version, Version},
		{"dir", c.Dir, dir},
		{"policy", c.PolicyDir(), filepath.Join(dir, "policies")},
		{"audit", c.Audit, "stderr"},
		{"oidc", fmt.Sprint(ok, " ", oidc.Audience), "true jit-policy"},
		{"leases", c.Leases, "file://" + filepath.Join(dir, ".jit/leases.db")},
		{"krl", c.KRL, "file://" + filepath.Join(dir, ".jit/revoked.krl")},
		{"crl", c.CRL, "file://" + filepath.Join(dir, ".jit/revoked.crl")},
		{"ssh ca_key", ssh.CAKey, "file://" + filepath.Join(dir, "ca/ssh-ca")},
		{"ssh max_ttl", ssh.MaxTTL.String(), "1h0m0s"},
		{"ssh role", fmt.Sprint(ssh.Roles["deploy"].Principals, ssh.Roles["deploy"].MaxTTL), "[deploy] 15m0s"},
		{"postgres dsn", pg.DSN, pgDSN},
		{"postgres owner", pg.Owner, "jit_owner"},
		{"postgres role", fmt.Sprintf("%+v", pg.Roles["orders-readonly"]),
			"{Grants:[orders_reader] Databases:[orders] ConnectionLimit:5 MaxTTL:0s}"},
		{"aws", fmt.Sprint(aws.Region, " ", aws.STSEndpoint == "", " ", aws.MaxTTL), "us-east-1 true 1h0m0s"},
		{"aws role", aws.Roles["deploy"].RoleARN, "arn:aws:iam::123456789012:role/deploy"},
		{"x509 ca_cert", x.CACert, "file://" + filepath.Join(dir, "ca/x509-ca.pem")},
		{"x509 ca_key", x.CAKey, "file://" + filepath.Join(dir, "ca/x509-ca.key")},
		{"x509 role", fmt.Sprint(x.Roles["k8s-dev"].CommonName, x.Roles["k8s-dev"].Organizations), "{{subject}}[dev]"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.what, c.got, c.want)
		}
	}
}

func TestParseGood(t *testing.T) {
	tests := []struct {
		name, in string
		got      func(*Config) string
		want     string
	}{
		{"defaults", "version: jit-policy/v1\n",
			func(c *Config) string { return strings.Join([]string{c.Policy, c.Audit, c.Leases, c.KRL, c.CRL}, " ") },
			"conf/policies stderr file://conf/.jit/leases.db file://conf/.jit/revoked.krl file://conf/.jit/revoked.crl"},
		{"absolute paths kept", "version: jit-policy/v1\npolicy: /srv/policies\naudit: file:///var/log/jit.log\n",
			func(c *Config) string { return c.Policy + " " + c.Audit }, "/srv/policies file:///var/log/jit.log"},
		{"postgres leases from env", "version: jit-policy/v1\nleases: ${JIT_PG_DSN}\n",
			func(c *Config) string { return c.Leases }, pgDSN},
		{"partial expansion", "version: jit-policy/v1\npolicy: ./p-${SECRET}\n",
			func(c *Config) string { return c.Policy }, "conf/p-" + secret},
		{"loopback oidc", "version: jit-policy/v1\noidc:\n- {issuer: 'http://127.0.0.1:8080', audience: a}\n- {issuer: 'http://[::1]/x', audience: a}\n- {issuer: 'http://localhost:9', audience: b}\n",
			func(c *Config) string {
				p, ok := c.OIDCProvider("http://localhost:9")
				return fmt.Sprint(p.Audience, ok)
			}, "btrue"},
		{"unknown oidc issuer", "version: jit-policy/v1\n",
			func(c *Config) string { _, ok := c.OIDCProvider("https://example.com"); return fmt.Sprint(ok) }, "false"},
		{"kms key kept", "version: jit-policy/v1\nissuers:\n  ssh:\n    ca_key: awskms:///alias/ssh\n    max_ttl: 1h\n    roles: {a: {principals: [a]}}\n",
			func(c *Config) string { return c.Issuers.SSH.CAKey }, "awskms:///alias/ssh"},
		{"aws loopback sts and limits", "version: jit-policy/v1\nissuers:\n  aws:\n    region: us-gov-west-1\n    sts_endpoint: http://localhost:4566\n    max_ttl: 12h\n    roles: {r: {role_arn: 'arn:aws-us-gov:iam::123456789012:role/a/b', max_ttl: 15m}}\n",
			func(c *Config) string { return c.Issuers.AWS.Roles["r"].MaxTTL.String() }, "15m0s"},
		{"ssh vendor extension", "version: jit-policy/v1\nissuers:\n  ssh:\n    ca_key: file:///etc/ca\n    max_ttl: 1h\n    roles: {a: {principals: [a], extensions: {permit-pty: '', x@example.com: y}, critical_options: {source-address: 10.0.0.0/8}}}\n",
			func(c *Config) string { return c.Issuers.SSH.Roles["a"].CriticalOptions["source-address"] }, "10.0.0.0/8"},
	}
	for _, tt := range tests {
		c, err := Parse("conf/jit-policy.yaml", []byte(tt.in), testEnv)
		if err != nil {
			t.Errorf("%s: Parse: %v", tt.name, err)
			continue
		}
		if got := tt.got(c); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "jit-policy.yaml")
	in := "version: jit-policy/v1\nissuers:\n  postgres:\n    dsn: ${JIT_TEST_DSN}\n    owner: o\n    max_ttl: 1h\n    roles: {r: {grants: [g]}}\n"
	if err := os.WriteFile(path, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("JIT_TEST_DSN", pgDSN)
	c, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Issuers.Postgres.DSN != pgDSN {
		t.Errorf("dsn: got %q, want the environment's value", c.Issuers.Postgres.DSN)
	}
	if want := filepath.Join(dir, "policies"); c.PolicyDir() != want {
		t.Errorf("policy: got %q, want %q", c.PolicyDir(), want)
	}

	missing := filepath.Join(dir, "nope.yaml")
	if _, err := Load(missing); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("Load of a missing file: got %v, want fs.ErrNotExist naming %s", err, missing)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("version: jit-policy/v1\n#"+strings.Repeat("x", 70000)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil || !strings.HasPrefix(err.Error(), big+": file is larger") {
		t.Errorf("Load of a large file: got %v, want a size error naming it", err)
	}
}

func TestDurationValues(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration // 0: an error
	}{
		{"15m", 15 * time.Minute}, {"1h30m", 90 * time.Minute}, {"'2h'", 2 * time.Hour},
		{"0s", 0}, {"-1h", 0}, {"1d", 0}, {"60", 0}, {"{a: 1}", 0},
	}
	for _, tt := range tests {
		in := "version: jit-policy/v1\nissuers:\n  ssh:\n    ca_key: file://k\n    max_ttl: " + tt.in + "\n    roles: {a: {principals: [a]}}\n"
		c, err := Parse("d.yaml", []byte(in), nil)
		var got time.Duration
		if err == nil {
			got = c.Issuers.SSH.MaxTTL.Duration
		}
		if got != tt.want {
			t.Errorf("max_ttl %s: got %v (error %v), want %v", tt.in, got, err, tt.want)
		}
	}
}
