package sqlitestore

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/jit-policy/jit-policy/internal/lease/leasetest"
)

// Two processes share one file: each lease is claimed, and each token used,
// exactly once.
func TestMultiProcess(t *testing.T) {
	newFile := func(t testing.TB) string { return filepath.Join(t.TempDir(), "leases.db") }
	leasetest.MultiProcess(t, newFile, func(ctx context.Context, path string) (leasetest.GuardedStore, error) {
		return Open(ctx, path)
	})
}
