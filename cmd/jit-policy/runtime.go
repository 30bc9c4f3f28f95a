package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/jit-policy/jit-policy/engine"
	"github.com/jit-policy/jit-policy/internal/audit"
	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/lease/sqlitestore"
	"github.com/jit-policy/jit-policy/internal/revocation"
	"github.com/jit-policy/jit-policy/issuers"
	"github.com/jit-policy/jit-policy/issuers/registry"
)

// store is what the commands need of a lease backend.
type store interface {
	lease.Store
	lease.ReplayGuard
}

// runtime is what the lease commands share: the config, the lease store
// and the issuers. Close releases it.
type runtime struct {
	cfg     *config.Config
	leases  store
	issuers map[string]issuers.Issuer
}

func openRuntime(ctx context.Context, configPath string) (*runtime, error) {
	cfg, err := config.Load(configPath)
	if err != nil {
		return nil, err
	}
	st, err := openStore(ctx, cfg.Leases)
	if err != nil {
		return nil, err
	}
	iss, err := registry.New(cfg, os.Getenv)
	if err != nil {
		st.Close()
		return nil, err
	}
	return &runtime{cfg: cfg, leases: st, issuers: iss}, nil
}

func openStore(ctx context.Context, uri string) (store, error) {
	if p, ok := config.FilePath(uri); ok {
		return sqlitestore.Open(ctx, p)
	}
	if strings.HasPrefix(uri, "postgres://") || strings.HasPrefix(uri, "postgresql://") {
		return nil, errors.New("leases: the PostgreSQL lease store is not built yet: use file://PATH")
	}
	return nil, fmt.Errorf("leases %q: use file://PATH", uri)
}

func (r *runtime) revoker() *revocation.Revoker {
	return &revocation.Revoker{Leases: r.leases, Issuers: r.issuers}
}

// engine loads the policy folder with the config's audit sink.
func (r *runtime) engine(ctx context.Context, stderr io.Writer) (*engine.Engine, *audit.Log, error) {
	log, err := audit.Open(r.cfg.Audit, stderr)
	if err != nil {
		return nil, nil, err
	}
	eng, err := engine.Load(ctx, []string{r.cfg.PolicyDir()}, engine.Options{Audit: log})
	if err != nil {
		log.Close()
		return nil, nil, err
	}
	return eng, log, nil
}

func (r *runtime) Close() error { return r.leases.Close() }
