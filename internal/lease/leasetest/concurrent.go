package leasetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
)

// Concurrent writers: 64 goroutines use 8 token keys and put 8 lease ids,
// each key and id from 8 of them at once. Exactly one use of each key and
// one Put of each id succeeds; every other fails alone, with ErrReplayed or
// ErrExists, whatever else runs beside it (a backend that batches writes
// must not let one write's failure touch another's).
func (s *suite) testConcurrentWrites(t *testing.T) {
	st := s.store(t)
	ConcurrentWrites(t, st)
}

// ConcurrentWrites runs the concurrent-writers case against st, which must
// be empty, and leaves in it leases "cw-0" … "cw-7", Active, and, if st is a
// lease.ReplayGuard, used token keys "cw-key-0" … "cw-key-7". A backend's
// own tests may call it and then check, say, that all of it survives a
// reopen.
func ConcurrentWrites(t *testing.T, st lease.Store) {
	t.Helper()
	const goroutines, keys = 64, 8
	rg, guard := st.(lease.ReplayGuard)
	ctx := context.Background()
	later := time.Now().Add(time.Hour)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		used    = map[string]int{}
		put     = map[string]int{}
		unknown []error
		start   = make(chan struct{})
	)
	record := func(m map[string]int, k string, err, want error) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err == nil:
			m[k]++
		case !errors.Is(err, want):
			unknown = append(unknown, err)
		}
	}
	for g := range goroutines {
		wg.Go(func() {
			<-start
			k := g % keys
			if guard {
				key := fmt.Sprintf("cw-key-%d", k)
				record(used, key, rg.UseToken(ctx, key, later), lease.ErrReplayed)
			}
			l := newLease(fmt.Sprintf("cw-%d", k))
			l.Subject = fmt.Sprintf("writer-%d", g)
			err := st.Put(ctx, l)
			record(put, l.ID, err, lease.ErrExists)
			if err == nil {
				if err := st.Activate(ctx, l.ID, l.Credential); err != nil {
					mu.Lock()
					unknown = append(unknown, fmt.Errorf("Activate(%s): %w", l.ID, err))
					mu.Unlock()
				}
			}
		})
	}
	close(start)
	wg.Wait()
	for _, err := range unknown {
		t.Errorf("concurrent write: %v, want nil, ErrReplayed or ErrExists", err)
	}
	for k := range keys {
		if key := fmt.Sprintf("cw-key-%d", k); guard && used[key] != 1 {
			t.Errorf("token key %s was used %d times, want exactly 1", key, used[key])
		}
		id := fmt.Sprintf("cw-%d", k)
		if put[id] != 1 {
			t.Errorf("lease %s was put %d times, want exactly 1", id, put[id])
		}
		if l, err := st.Get(ctx, id); err != nil || l.State != lease.Active {
			t.Errorf("lease %s after the concurrent writes: %v, %v; want active", id, l.State, err)
		}
	}
}
