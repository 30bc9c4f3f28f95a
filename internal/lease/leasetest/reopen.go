package leasetest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
)

// ReopenKeepsData checks that a second store on the same database (another
// process, later) sees the leases, the claim and its earlier state, and the
// spent tokens. open opens a store on that database, empty at first.
func ReopenKeepsData(t *testing.T, open func(t *testing.T) GuardedStore) {
	ctx := context.Background()
	s := open(t)
	for _, id := range []string{"a", "b"} {
		l := newLease(id)
		l.Subject = "alice"
		put(t, s, l)
	}
	if err := s.Activate(ctx, "a", lease.Credential{Serial: 43, KeyID: "jit/a"}); err != nil {
		t.Fatalf("Activate: %v", err)
	}
	claimed := claim(t, s, "a")
	if err := s.UseToken(ctx, "jti-1", time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("UseToken: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = open(t)
	defer s.Close()
	a, err := s.Get(ctx, "a")
	if err != nil {
		t.Fatalf("Get after reopen: %v", err)
	}
	if a.State != lease.Revoking || a.Credential.Serial != 43 || a.Subject != "alice" {
		t.Errorf("after reopen lease a = %+v, want revoking, serial 43, subject alice", a)
	}
	// The claim and its earlier state survived.
	if _, err := s.Claim(ctx, "a", time.Hour); !errors.Is(err, lease.ErrClaimed) {
		t.Errorf("Claim after reopen: got %v, want ErrClaimed", err)
	}
	if err := s.Release(ctx, claimed); err != nil {
		t.Fatalf("Release after reopen: %v", err)
	}
	wantState(t, s, "a", lease.Active)
	if l, err := s.List(ctx, lease.Filter{}); err != nil || len(l) != 2 {
		t.Errorf("List after reopen: %d leases, %v; want 2", len(l), err)
	}
	if err := s.UseToken(ctx, "jti-1", time.Now().Add(time.Hour)); !errors.Is(err, lease.ErrReplayed) {
		t.Errorf("UseToken after reopen: got %v, want ErrReplayed", err)
	}
}

// NewerSchemaRefused checks that open, opening a database whose schema is
// newer than the store's, fails and says to upgrade jit-policy.
func NewerSchemaRefused(t *testing.T, open func() (lease.Store, error)) {
	s, err := open()
	if err == nil {
		s.Close()
		t.Fatal("Open of a database with a newer schema succeeded, want an error")
	}
	if !strings.Contains(err.Error(), "upgrade jit-policy") {
		t.Errorf("Open error %q does not say to upgrade jit-policy", err)
	}
}

// ConcurrentOpen opens 8 stores on a new database at once with open, and
// puts a lease through each; it returns the stores, which it closes when
// the test ends (nil where Open failed).
func ConcurrentOpen[S lease.Store](t *testing.T, open func() (S, error)) []S {
	var wg sync.WaitGroup
	stores := make([]S, 8)
	opened := make([]bool, len(stores))
	for i := range stores {
		wg.Go(func() {
			s, err := open()
			if err != nil {
				t.Errorf("concurrent Open: %v", err)
				return
			}
			stores[i], opened[i] = s, true
			if err := s.Put(context.Background(), newLease(string(rune('a'+i)))); err != nil {
				t.Errorf("Put after a concurrent Open: %v", err)
			}
		})
	}
	wg.Wait()
	t.Cleanup(func() {
		for i, s := range stores {
			if opened[i] {
				s.Close()
			}
		}
	})
	return stores
}
