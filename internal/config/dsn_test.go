package config

import (
	"strings"
	"testing"
)

// clearPGEnv unsets the PG* variables pgx reads, so the runner's own
// PGSSLMODE or PGHOST cannot change the outcome.
func clearPGEnv(t *testing.T) {
	t.Helper()
	for _, k := range []string{"PGHOST", "PGPORT", "PGSSLMODE", "PGSSLROOTCERT", "PGSSLCERT", "PGSSLKEY", "PGSERVICE", "PGSERVICEFILE", "PGSSLNEGOTIATION"} {
		t.Setenv(k, "")
	}
}

// TestPostgresDSNTLS: a DSN (issuers.postgres.dsn or leases, URL or
// key=value) that reaches a host other than loopback or a unix socket must
// verify the server's certificate; loopback keeps every sslmode.
func TestPostgresDSNTLS(t *testing.T) {
	clearPGEnv(t)
	const refused = "without checking its certificate; set sslmode=verify-full"
	const unparsable = "is not a PostgreSQL connection string pgx can use"
	tests := []struct {
		name, dsn string
		want      string // "" when accepted, else part of the message
	}{
		{"loopback sslmode=disable", "postgres://u:" + secret + "@127.0.0.1:5432/db?sslmode=disable", ""},
		{"localhost without sslmode", "postgres://u:" + secret + "@localhost/db", ""},
		{"ipv6 loopback prefer", "postgresql://u:" + secret + "@[::1]:5432/db?sslmode=prefer", ""},
		{"unix socket key=value", "host=/var/run/postgresql dbname=db user=u", ""},
		{"unix socket in the URL query", "postgres://u@/db?host=/tmp", ""},
		{"remote verify-full", "postgres://u:" + secret + "@db.internal/db?sslmode=verify-full", ""},
		{"remote verify-ca key=value", "host=db.internal user=u password=" + secret + " sslmode=verify-ca", ""},
		{"remote sslrootcert=system", "postgres://u@db.internal/db?sslrootcert=system", ""},
		{"every host verify-full", "postgres://u@a.internal,b.internal:5433/db?sslmode=verify-full", ""},
		{"remote without sslmode", "postgres://u:" + secret + "@db.internal:5432/db", refused},
		{"remote disable", "postgres://u:" + secret + "@db.internal/db?sslmode=disable", refused},
		{"remote allow", "postgres://u:" + secret + "@db.internal/db?sslmode=allow", refused},
		{"remote prefer", "postgres://u:" + secret + "@db.internal/db?sslmode=prefer", refused},
		{"remote require", "postgres://u:" + secret + "@db.internal/db?sslmode=require", refused},
		{"remote address require key=value", "host=10.0.0.5 user=u password=" + secret + " sslmode=require", refused},
		{"one remote host among loopback", "postgres://u@127.0.0.1,db.internal/db?sslmode=disable", refused},
		{"bad port", "postgres://u:" + secret + "@db.internal:nope/db?sslmode=verify-full", unparsable},
		{"unknown sslmode", "postgres://u:" + secret + "@127.0.0.1/db?sslmode=on", unparsable},
		{"unreadable sslrootcert", "postgres://u:" + secret + "@db.internal/db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem", unparsable},
	}
	// The same DSN as the issuer's admin connection and as the lease store
	// (which takes only the URL form).
	configs := []struct {
		prefix, in string
		urlOnly    bool
	}{
		{"jit-policy.yaml:5: issuers.postgres.dsn: ", "version: jit-policy/v1\nleases: file://l.db\nissuers:\n  postgres:\n    dsn: ${DSN}\n    owner: o\n    max_ttl: 1h\n    roles: {r: {grants: [g]}}\n", false},
		{"jit-policy.yaml:2: leases: ", "version: jit-policy/v1\nleases: ${DSN}\n", true},
	}
	for _, tt := range tests {
		for _, cfg := range configs {
			if cfg.urlOnly && !strings.Contains(tt.dsn, "://") {
				continue
			}
			_, err := Parse("jit-policy.yaml", []byte(cfg.in), env(map[string]string{"DSN": tt.dsn}))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("%s as %q: Parse: %v, want no error", tt.name, cfg.prefix, err)
			case tt.want == "":
			case err == nil || !strings.HasPrefix(err.Error(), cfg.prefix) || !strings.Contains(err.Error(), tt.want):
				t.Errorf("%s: got %v, want an error starting %q saying %q", tt.name, err, cfg.prefix, tt.want)
			case strings.Contains(err.Error(), secret):
				t.Errorf("%s as %q: error shows the password: %v", tt.name, cfg.prefix, err)
			}
		}
	}
}
