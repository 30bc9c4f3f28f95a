package sqlitestore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/lease/leasetest"
)

// The concurrent writes of the contract suite are all on disk after a
// reopen: a batch's success is only reported once it is committed.
func TestConcurrentWritesDurable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "leases.db")
	s := open(t, path)
	leasetest.ConcurrentWrites(t, s)
	st := s.Stats()
	t.Logf("%d write ops in %d commits", st.Ops, st.Commits)
	if st.Commits == 0 || st.Ops < st.Commits {
		t.Errorf("Stats = %+v: want at least one commit, and no more commits than ops", st)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, path)
	defer s.Close()
	for k := range 8 {
		id := fmt.Sprintf("cw-%d", k)
		if l, err := s.Get(ctx, id); err != nil || l.State != lease.Active {
			t.Errorf("lease %s after reopen: %v, %v; want active", id, l.State, err)
		}
		key := fmt.Sprintf("cw-key-%d", k)
		if err := s.UseToken(ctx, key, time.Now().Add(time.Hour)); !errors.Is(err, lease.ErrReplayed) {
			t.Errorf("UseToken(%s) after reopen: %v, want ErrReplayed", key, err)
		}
	}
}

// A write whose context is done before it is started is not applied and
// returns the context's error.
func TestCanceledWriteNotApplied(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "leases.db"))
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Put(ctx, testLease("a")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with a canceled context: %v, want context.Canceled", err)
	}
	if err := s.UseToken(ctx, "k", time.Now().Add(time.Hour)); !errors.Is(err, context.Canceled) {
		t.Fatalf("UseToken with a canceled context: %v, want context.Canceled", err)
	}
	if _, err := s.Get(context.Background(), "a"); !errors.Is(err, lease.ErrNotFound) {
		t.Errorf("Get of the canceled Put: %v, want ErrNotFound", err)
	}
	if err := s.UseToken(context.Background(), "k", time.Now().Add(time.Hour)); err != nil {
		t.Errorf("UseToken of the canceled key: %v", err)
	}
}

// Writers racing with cancellation and with Close: every write reported
// successful is on disk after a reopen, and every write reported failed is
// not.
func TestCancelAndCloseNeverLie(t *testing.T) {
	path := filepath.Join(t.TempDir(), "leases.db")
	s := open(t, path)
	const writers, each = 16, 40
	var (
		wg sync.WaitGroup
		mu sync.Mutex
		ok = map[string]bool{}
	)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("w%d-%d", w, i)
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%4)*100*time.Microsecond)
				err := s.Put(ctx, testLease(id))
				cancel()
				mu.Lock()
				ok[id] = err == nil
				mu.Unlock()
			}
		})
	}
	time.Sleep(20 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err := s.Put(context.Background(), testLease("late")); !errors.Is(err, errClosed) {
		t.Errorf("Put after Close: %v, want the store-closed error", err)
	}

	s = open(t, path)
	defer s.Close()
	n := 0
	for id, applied := range ok {
		_, err := s.Get(context.Background(), id)
		switch {
		case applied && err != nil:
			t.Errorf("Put(%s) succeeded but after reopen: %v", id, err)
		case !applied && err == nil:
			t.Errorf("Put(%s) failed but the lease is recorded", id)
		case applied:
			n++
		}
	}
	t.Logf("%d of %d writes succeeded", n, len(ok))
}
