package leasetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
)

// testSpendAndPut checks lease.SpendingStore: the token is spent and the
// lease recorded together, or neither.
func (s *suite) testSpendAndPut(t *testing.T) {
	st := s.store(t)
	sp, ok := st.(lease.SpendingStore)
	if !ok {
		t.Skipf("%T does not implement lease.SpendingStore", st)
	}
	rg, ok := st.(lease.ReplayGuard)
	if !ok {
		t.Fatalf("%T spends tokens (SpendingStore) but is no lease.ReplayGuard", st)
	}
	ctx := context.Background()
	later := time.Now().Add(time.Hour)

	active := newLease("spend-active")
	active.State = lease.Active
	if err := sp.SpendAndPut(ctx, "jti-spend", later, active); err != nil {
		t.Fatalf("SpendAndPut: %v", err)
	}
	if got := get(t, st, active.ID); got.State != lease.Active {
		t.Errorf("lease recorded %s, want active as given", got.State)
	}
	if err := rg.UseToken(ctx, "jti-spend", later); !errors.Is(err, lease.ErrReplayed) {
		t.Errorf("UseToken after SpendAndPut: %v, want ErrReplayed (the token was spent)", err)
	}

	// A spent token records no lease.
	if err := sp.SpendAndPut(ctx, "jti-spend", later, newLease("spend-replayed")); !errors.Is(err, lease.ErrReplayed) {
		t.Errorf("SpendAndPut of a spent token: %v, want ErrReplayed", err)
	}
	if _, err := st.Get(ctx, "spend-replayed"); !errors.Is(err, lease.ErrNotFound) {
		t.Errorf("the replayed token's lease: %v, want ErrNotFound (nothing recorded)", err)
	}

	// A lease that cannot be recorded leaves the token unspent.
	if err := sp.SpendAndPut(ctx, "jti-fresh", later, newLease(active.ID)); !errors.Is(err, lease.ErrExists) {
		t.Errorf("SpendAndPut of an existing lease id: %v, want ErrExists", err)
	}
	if err := rg.UseToken(ctx, "jti-fresh", later); err != nil {
		t.Errorf("UseToken after a failed SpendAndPut: %v, want the token unspent", err)
	}
}
