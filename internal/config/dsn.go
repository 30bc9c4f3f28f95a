package config

import (
	"crypto/tls"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/jit-policy/jit-policy/internal/loopback"
)

// postgresDSN checks a PostgreSQL connection string (URL or key=value, as
// pgx parses it; PG* environment variables fill what it leaves out, as they
// will when it connects): every host it may reach that is not this machine
// (loopback, or a unix socket: a path starting with /) must be reached over
// TLS with a verified certificate, sslmode=verify-full or verify-ca. Any
// other mode would let a machine in the middle read the admin password and
// everything after it: require and prefer accept any certificate, prefer and
// allow fall back to plain text. Messages never repeat the string: it holds
// a password.
func (v *validator) postgresDSN(path, dsn string) {
	pc, err := pgconn.ParseConfig(dsn)
	if err != nil {
		v.Fail(path, "is not a PostgreSQL connection string pgx can use (postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=verify-full, or key=value), or names an sslrootcert, sslcert or sslkey file it cannot read; fix it")
		return
	}
	// The first host, then the others pgx tries (more hosts, or plain text
	// after TLS with sslmode=prefer or allow).
	targets := append([]*pgconn.FallbackConfig{{Host: pc.Host, Port: pc.Port, TLSConfig: pc.TLSConfig}}, pc.Fallbacks...)
	for _, t := range targets {
		if !localHost(t.Host) && !verifiesServer(t.TLSConfig) {
			v.Fail(path, "reaches a host that is not loopback or a unix socket without checking its certificate; "+
				"set sslmode=verify-full (with sslrootcert=PATH for a private CA, or sslrootcert=system) or sslmode=verify-ca: "+
				"the other modes (prefer when none is set) let a machine in between read the connection")
			return
		}
	}
}

// localHost reports whether a pgx host is this machine: a loopback name or
// address, or a unix socket folder.
func localHost(host string) bool {
	return strings.HasPrefix(host, "/") || loopback.Is(host)
}

// verifiesServer reports whether a pgx TLS config checks the server's
// certificate: sslmode=verify-full (Go's own verification) or verify-ca
// (pgx verifies the chain in VerifyPeerCertificate). nil is plain text.
func verifiesServer(c *tls.Config) bool {
	return c != nil && (!c.InsecureSkipVerify || c.VerifyPeerCertificate != nil)
}
