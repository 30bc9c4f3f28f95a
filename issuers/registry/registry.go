// Package registry builds the issuers a jit-policy.yaml configures, by
// name: "ssh", "x509", "postgres" and "aws". Issuers are
// built lazily, on their first Issue, so commands that only revoke, sweep
// or list never load a CA key or reach a KMS: revocation must work while
// the signing key is unreachable.
package registry

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/issuers"
)

// New returns the configured issuers by name. getenv supplies key
// passphrases and similar settings.
func New(cfg *config.Config, getenv func(string) string) (map[string]issuers.Issuer, error) {
	out := map[string]issuers.Issuer{}
	if c := cfg.Issuers.SSH; c != nil {
		krlPath, ok := config.FilePath(cfg.KRL)
		if !ok {
			return nil, fmt.Errorf("krl %q: use file://PATH", cfg.KRL)
		}
		out["ssh"] = &sshEntry{
			lazy: lazy{build: func(ctx context.Context) (issuers.Issuer, error) { return newSSH(ctx, c, getenv) }},
			cfg:  c, getenv: getenv, krl: krlPath,
		}
	}
	if c := cfg.Issuers.X509; c != nil {
		crlPath, ok := config.FilePath(cfg.CRL)
		if !ok {
			return nil, fmt.Errorf("crl %q: use file://PATH", cfg.CRL)
		}
		out["x509"] = &x509Entry{
			lazy: lazy{build: func(ctx context.Context) (issuers.Issuer, error) { return newX509(ctx, c, getenv) }},
			cfg:  c, getenv: getenv, crl: crlPath,
		}
	}
	if c := cfg.Issuers.Postgres; c != nil {
		leases := cfg.Leases
		out["postgres"] = &postgresEntry{lazy{build: func(ctx context.Context) (issuers.Issuer, error) { return newPostgres(ctx, c, leases) }}}
	}
	if c := cfg.Issuers.AWS; c != nil {
		certs := out["x509"] // nil without an x509 issuer; config validation requires one for certificate mode
		out["aws"] = &awsEntry{lazy{build: func(ctx context.Context) (issuers.Issuer, error) { return newAWS(ctx, c, certs) }}}
	}
	return out, nil
}

// ErrNotConfigured is returned (wrapped) for an issuer the config does
// not configure.
var ErrNotConfigured = errors.New("not configured")

// ListPublisher is what the "ssh" and "x509" entries offer besides
// issuing: their CA (SSH: an authorized_keys line; X.509: the PEM
// certificate) and their revocation list built from revoked (the KRL; the
// PEM CRL), the bytes Publish writes. Both are safe for concurrent use and
// need no signing key for SSH (the CRL is signed, so X.509 needs it).
type ListPublisher interface {
	CA(ctx context.Context) ([]byte, error)
	List(ctx context.Context, revoked []lease.Lease) ([]byte, error)
}

// Limits returns the longest lifetime cfg allows for role of issuer kind:
// the role's max_ttl when set, capped by the issuer's.
func Limits(cfg *config.Config) func(kind, role string) (time.Duration, error) {
	return func(kind, role string) (time.Duration, error) {
		var issuerMax, roleMax config.Duration
		found := false
		switch kind {
		case "ssh":
			if c := cfg.Issuers.SSH; c != nil {
				r, ok := c.Roles[role]
				issuerMax, roleMax, found = c.MaxTTL, r.MaxTTL, ok
			}
		case "postgres":
			if c := cfg.Issuers.Postgres; c != nil {
				r, ok := c.Roles[role]
				issuerMax, roleMax, found = c.MaxTTL, r.MaxTTL, ok
			}
		case "aws":
			if c := cfg.Issuers.AWS; c != nil {
				r, ok := c.Roles[role]
				issuerMax, roleMax, found = c.MaxTTL, r.MaxTTL, ok
			}
		case "x509":
			if c := cfg.Issuers.X509; c != nil {
				r, ok := c.Roles[role]
				issuerMax, roleMax, found = c.MaxTTL, r.MaxTTL, ok
			}
		}
		if !found {
			return 0, fmt.Errorf("role %q of issuer %q is not configured: add it under issuers.%s.roles in jit-policy.yaml", role, kind, kind)
		}
		if roleMax.Duration > 0 && roleMax.Duration < issuerMax.Duration {
			return roleMax.Duration, nil
		}
		return issuerMax.Duration, nil
	}
}

// lazy builds an issuer once, on first use.
type lazy struct {
	build func(ctx context.Context) (issuers.Issuer, error)
	mu    sync.Mutex
	iss   issuers.Issuer
}

func (l *lazy) get(ctx context.Context) (issuers.Issuer, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.iss != nil {
		return l.iss, nil
	}
	iss, err := l.build(ctx)
	if err != nil {
		return nil, err // not cached: a later call may reach the key
	}
	l.iss = iss
	return iss, nil
}

// built returns the issuer when it is already built, else nil; it never
// builds it nor waits for a build under way.
func (l *lazy) built() issuers.Issuer {
	if !l.mu.TryLock() {
		return nil
	}
	defer l.mu.Unlock()
	return l.iss
}

// Issue builds the issuer if needed and issues.
func (l *lazy) Issue(ctx context.Context, req issuers.Request) (issuers.Credential, error) {
	iss, err := l.get(ctx)
	if err != nil {
		return issuers.Credential{}, err
	}
	return iss.Issue(ctx, req)
}

// Revoke builds the issuer if needed and revokes.
func (l *lazy) Revoke(ctx context.Context, ls lease.Lease) error {
	iss, err := l.get(ctx)
	if err != nil {
		return err
	}
	return iss.Revoke(ctx, ls)
}
