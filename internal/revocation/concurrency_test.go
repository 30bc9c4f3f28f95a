package revocation_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/lease/pgstore"
	"github.com/jit-policy/jit-policy/internal/lease/sqlitestore"
	"github.com/jit-policy/jit-policy/internal/pgtest"
	"github.com/jit-policy/jit-policy/internal/revocation"
	"github.com/jit-policy/jit-policy/issuers"
)

// TestMain runs the package's tests through pgtest, which stops the
// PostgreSQL server the tests start.
func TestMain(m *testing.M) { pgtest.Main(m) }

// countingIssuer counts the Revoke calls per lease. Each Revoke takes a
// moment, as a backend would, so that revokers overlap while one holds a
// claim.
type countingIssuer struct {
	mu    sync.Mutex
	calls map[string]int
}

func (*countingIssuer) Issue(context.Context, issuers.Request) (issuers.Credential, error) {
	return issuers.Credential{}, errors.New("not used")
}

func (c *countingIssuer) Revoke(_ context.Context, l lease.Lease) error {
	c.mu.Lock()
	c.calls[l.ID]++
	c.mu.Unlock()
	time.Sleep(time.Millisecond)
	return nil
}

// Revokers in 8 goroutines, over 4 connections to one store (as processes
// sharing it would), revoke the same 50 leases at once: the issuer revokes
// each exactly once and every lease ends revoked, for both stores.
func TestConcurrentRevokers(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "leases.db")
		concurrentRevokers(t, func() (lease.Store, error) { return sqlitestore.Open(context.Background(), path) })
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.NewDatabase(t)
		concurrentRevokers(t, func() (lease.Store, error) { return pgstore.Open(context.Background(), dsn) })
	})
}

func concurrentRevokers(t *testing.T, open func() (lease.Store, error)) {
	const (
		leases     = 50
		goroutines = 8
		conns      = 4
	)
	ctx := context.Background()
	stores := make([]lease.Store, conns)
	for i := range stores {
		st, err := open()
		if err != nil {
			t.Fatalf("opening the store: %v", err)
		}
		t.Cleanup(func() { st.Close() })
		stores[i] = st
	}
	now := time.Now()
	ids := make([]string, leases)
	for i := range ids {
		ids[i] = fmt.Sprintf("lease-%02d", i)
		l := lease.Lease{ID: ids[i], Issuer: "counting", Role: "deploy", Subject: "alice",
			IssuedAt: now.Add(-time.Minute), ExpiresAt: now.Add(time.Hour)}
		if err := stores[0].Put(ctx, l); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 { // half active, half still pending
			if err := stores[0].Activate(ctx, ids[i], lease.Credential{Serial: uint64(i + 1)}); err != nil {
				t.Fatal(err)
			}
		}
	}

	iss := &countingIssuer{calls: map[string]int{}}
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		reports = make([]revocation.Report, goroutines)
	)
	for g := range goroutines {
		r := &revocation.Revoker{Leases: stores[g%conns], Issuers: map[string]issuers.Issuer{"counting": iss}}
		// Each goroutine starts at another lease, so they collide everywhere.
		order := append(slices.Clone(ids[g*leases/goroutines:]), ids[:g*leases/goroutines]...)
		wg.Go(func() {
			<-start
			reports[g] = r.Revoke(ctx, order, lease.BySweep, now)
		})
	}
	close(start)
	wg.Wait()

	revokedBy := map[string]int{}
	for g, rep := range reports {
		if err := rep.Err(); err != nil {
			t.Errorf("revoker %d: %v", g, err)
		}
		for _, id := range rep.Revoked {
			revokedBy[id]++
		}
		if len(rep.Revoked)+len(rep.Skipped)+len(rep.Pending) != leases {
			t.Errorf("revoker %d revoked %d, skipped %d and left %d pending of %d leases", g, len(rep.Revoked), len(rep.Skipped), len(rep.Pending), leases)
		}
	}
	for _, id := range ids {
		if n := iss.calls[id]; n != 1 {
			t.Errorf("lease %s: the issuer's Revoke was called %d times, want 1", id, n)
		}
		if n := revokedBy[id]; n != 1 {
			t.Errorf("lease %s: %d revokers report it revoked, want 1", id, n)
		}
		l, err := stores[conns-1].Get(ctx, id)
		if err != nil || l.State != lease.Revoked || l.RevokedBy != lease.BySweep {
			t.Errorf("lease %s: state %q by %q (%v), want revoked by %s", id, l.State, l.RevokedBy, err, lease.BySweep)
		}
	}
}
