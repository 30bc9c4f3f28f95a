// Package app wires a jit-policy.yaml to what the commands run on: the
// lease store, the issuers, the policy engine with its audit log, the token
// verifier, and from them an exchange (issue) and a revoker. The CLI and
// the GitHub Action share it, so both issue and revoke the same way.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jit-policy/jit-policy/engine"
	"github.com/jit-policy/jit-policy/internal/audit"
	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/internal/exchange"
	"github.com/jit-policy/jit-policy/internal/jobstate"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/lease/pgstore"
	"github.com/jit-policy/jit-policy/internal/lease/sqlitestore"
	"github.com/jit-policy/jit-policy/internal/oidc"
	"github.com/jit-policy/jit-policy/internal/revocation"
	"github.com/jit-policy/jit-policy/issuers"
	"github.com/jit-policy/jit-policy/issuers/registry"
)

// Store is what jit-policy needs of a lease backend: the leases and the
// spent tokens, in one store (safe for concurrent use, shared by every
// process that uses it).
type Store interface {
	lease.Store
	lease.ReplayGuard
}

// App is an opened configuration. Close releases it.
type App struct {
	Config  *config.Config
	Leases  Store
	Issuers map[string]issuers.Issuer
	closers []io.Closer
}

// Open loads the config at path and opens its lease store; issuers are
// built lazily (see issuers/registry). getenv supplies key passphrases.
func Open(ctx context.Context, path string, getenv func(string) string) (*App, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	return New(ctx, cfg, getenv)
}

// New opens the lease store of an already loaded config.
func New(ctx context.Context, cfg *config.Config, getenv func(string) string) (*App, error) {
	st, err := OpenStore(ctx, cfg.Leases)
	if err != nil {
		return nil, err
	}
	iss, err := registry.New(cfg, getenv)
	if err != nil {
		st.Close()
		return nil, err
	}
	return &App{Config: cfg, Leases: st, Issuers: iss}, nil
}

// OpenStore opens the lease store a `leases:` URI names.
func OpenStore(ctx context.Context, uri string) (Store, error) {
	if p, ok := config.FilePath(uri); ok {
		return sqlitestore.Open(ctx, p)
	}
	if strings.HasPrefix(uri, "postgres://") || strings.HasPrefix(uri, "postgresql://") {
		return pgstore.Open(ctx, uri)
	}
	return nil, fmt.Errorf("leases %q: use file://PATH", uri)
}

// Revoker revokes this config's leases.
func (a *App) Revoker() *revocation.Revoker {
	return &revocation.Revoker{Leases: a.Leases, Issuers: a.Issuers}
}

// SweepRevoker is Revoker with the CI providers of the config's ci:
// section, so the sweep also revokes the leases of ended jobs and of pull
// requests closed without merge.
func (a *App) SweepRevoker() (*revocation.Revoker, error) {
	r := a.Revoker()
	gh, gl := a.Config.CI.GitHub, a.Config.CI.GitLab
	if gh == nil && gl == nil {
		return r, nil
	}
	var cfg jobstate.Config
	if gh != nil {
		cfg.GitHubAPI, cfg.GitHubToken, cfg.GitHubMaxJobTime = gh.APIURL, gh.Token, gh.MaxJobTime.Duration
	}
	if gl != nil {
		cfg.GitLabAPI, cfg.GitLabToken, cfg.GitLabMaxJobTime = gl.APIURL, gl.Token, gl.MaxJobTime.Duration
	}
	jobs, err := jobstate.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("ci: %w", err)
	}
	r.Jobs = jobs
	return r, nil
}

// Exchange loads the policy (auditing to the config's sink; stderr for
// "stderr") and the token verifier, and returns an exchange that revokes
// what fails half-way.
func (a *App) Exchange(ctx context.Context, stderr io.Writer) (*exchange.Exchange, error) {
	return a.ExchangeDeciding(ctx, stderr, func(ctx context.Context, dirs []string, opts engine.Options) (exchange.Decider, error) {
		return engine.Load(ctx, dirs, opts)
	})
}

// ExchangeDeciding is Exchange with the policy loaded by load, given the
// policy folders and engine options that audit to the config's sink (the
// broker loads a policy it can reload).
func (a *App) ExchangeDeciding(ctx context.Context, stderr io.Writer, load func(ctx context.Context, dirs []string, opts engine.Options) (exchange.Decider, error)) (*exchange.Exchange, error) {
	log, err := audit.Open(a.Config.Audit, stderr)
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, log)
	decider, err := load(ctx, []string{a.Config.PolicyDir()}, engine.Options{Audit: log})
	if err != nil {
		return nil, err
	}
	verifier, err := oidc.NewVerifier(a.Config.OIDC, nil)
	if err != nil {
		return nil, err
	}
	return &exchange.Exchange{
		Verifier: verifier, Decider: decider, Leases: a.Leases, Replay: a.Leases, Issuers: a.Issuers,
		Limits: registry.Limits(a.Config),
		OnFailure: func(ctx context.Context, id string) error {
			return a.Revoker().Revoke(ctx, []string{id}, lease.ByManual, time.Now()).Err()
		},
	}, nil
}

// Close closes the audit log and the lease store.
func (a *App) Close() error {
	errs := []error{a.Leases.Close()}
	for _, c := range a.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// Lists serves the public material of the config's issuers: the SSH CA
// public key and KRL, the X.509 CA certificate and CRL. The lists are
// built from the lease store on every call (as the revoker publishes
// them), so every process sharing the store serves the same revocations.
// Safe for concurrent use. An issuer the config lacks gives an error
// wrapping registry.ErrNotConfigured.
type Lists struct {
	issuers map[string]issuers.Issuer
	revoker *revocation.Revoker
}

// Lists returns the config's public material (see Lists).
func (a *App) Lists() *Lists {
	return &Lists{issuers: a.Issuers, revoker: a.Revoker()}
}

func (l *Lists) entry(name string) (registry.ListPublisher, error) {
	p, ok := l.issuers[name].(registry.ListPublisher)
	if !ok {
		return nil, fmt.Errorf("the %s issuer: %w", name, registry.ErrNotConfigured)
	}
	return p, nil
}

func (l *Lists) ca(ctx context.Context, name string) ([]byte, error) {
	p, err := l.entry(name)
	if err != nil {
		return nil, err
	}
	return p.CA(ctx)
}

func (l *Lists) list(ctx context.Context, name string) ([]byte, error) {
	p, err := l.entry(name)
	if err != nil {
		return nil, err
	}
	revoked, err := l.revoker.Revoked(ctx, name, time.Now())
	if err != nil {
		return nil, err
	}
	return p.List(ctx, revoked)
}

// SSHCA returns the SSH CA public key (an authorized_keys line).
func (l *Lists) SSHCA(ctx context.Context) ([]byte, error) { return l.ca(ctx, "ssh") }

// KRL returns the SSH KRL of every revoked lease in the store.
func (l *Lists) KRL(ctx context.Context) ([]byte, error) { return l.list(ctx, "ssh") }

// X509CA returns the X.509 CA certificate (PEM).
func (l *Lists) X509CA(ctx context.Context) ([]byte, error) { return l.ca(ctx, "x509") }

// CRL returns the signed X.509 CRL (PEM) of every revoked lease in the store.
func (l *Lists) CRL(ctx context.Context) ([]byte, error) { return l.list(ctx, "x509") }
