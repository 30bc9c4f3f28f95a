package registry

import (
	"context"
	"fmt"
	"net/url"

	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/issuers"
	pgissuer "github.com/jit-policy/jit-policy/issuers/postgres"
)

// postgresEntry is the PostgreSQL issuer, built on first use, with its
// capability to list the roles it created for the sweep.
type postgresEntry struct{ lazy }

// LeaseIDs lists the lease ids of this store's roles at the server.
func (e *postgresEntry) LeaseIDs(ctx context.Context) ([]string, error) {
	iss, err := e.get(ctx)
	if err != nil {
		return nil, err
	}
	lister, ok := iss.(interface {
		LeaseIDs(context.Context) ([]string, error)
	})
	if !ok {
		return nil, fmt.Errorf("the postgres issuer cannot list its roles")
	}
	return lister.LeaseIDs(ctx)
}

// newPostgres builds the PostgreSQL issuer; the store tag it writes on every
// role it creates names this config's lease store, so a sweep only ever
// touches roles its own store issued.
func newPostgres(ctx context.Context, c *config.PostgresIssuer, leases string) (issuers.Issuer, error) {
	return pgissuer.New(context.WithoutCancel(ctx), c, storeTag(leases))
}

// storeTag names a lease store without its credentials: the file path, or
// host:port/database of a PostgreSQL DSN.
func storeTag(uri string) string {
	if p, ok := config.FilePath(uri); ok {
		return "file://" + p
	}
	u, err := url.Parse(uri)
	if err != nil {
		return "unnamed"
	}
	return u.Scheme + "://" + u.Host + u.Path
}
