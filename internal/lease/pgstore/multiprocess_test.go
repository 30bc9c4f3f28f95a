package pgstore

import (
	"context"
	"testing"

	"github.com/jit-policy/jit-policy/internal/lease/leasetest"
	"github.com/jit-policy/jit-policy/internal/pgtest"
)

// Two processes share one database: each lease is claimed, and each token
// used, exactly once.
func TestMultiProcess(t *testing.T) {
	leasetest.MultiProcess(t, pgtest.NewDatabase, func(ctx context.Context, dsn string) (leasetest.GuardedStore, error) {
		return Open(ctx, dsn)
	})
}
