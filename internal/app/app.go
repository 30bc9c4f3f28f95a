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

// Store is what jit-policy needs of a lease backend.
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
	log, err := audit.Open(a.Config.Audit, stderr)
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, log)
	eng, err := engine.Load(ctx, []string{a.Config.PolicyDir()}, engine.Options{Audit: log})
	if err != nil {
		return nil, err
	}
	verifier, err := oidc.NewVerifier(a.Config.OIDC, nil)
	if err != nil {
		return nil, err
	}
	return &exchange.Exchange{
		Verifier: verifier, Decider: eng, Leases: a.Leases, Replay: a.Leases, Issuers: a.Issuers,
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
