package leasetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
)

func (s *suite) testClaim(t *testing.T) {
	st := s.store(t)
	ctx := context.Background()

	for _, state := range []lease.State{lease.Pending, lease.Active} {
		id := "claim-" + string(state)
		want := newLease(id)
		put(t, st, want)
		if state == lease.Active {
			if err := st.Activate(ctx, id, want.Credential); err != nil {
				t.Fatalf("Activate(%q): %v", id, err)
			}
		}
		got, err := st.Claim(ctx, id, time.Hour)
		if err != nil {
			t.Fatalf("Claim of a %s lease: %v", state, err)
		}
		want.State = lease.Revoking
		checkLease(t, "lease returned by Claim", want, got)
		checkLease(t, "Get after Claim", want, get(t, st, id))

		if _, err := st.Claim(ctx, id, time.Hour); !errors.Is(err, lease.ErrClaimed) {
			t.Errorf("second Claim of a %s lease: got %v, want ErrClaimed", state, err)
		}
		wantState(t, st, id, lease.Revoking)
	}

	put(t, st, newLease("revoked"))
	claim(t, st, "revoked")
	if err := st.MarkRevoked(ctx, "revoked", lease.ByManual, base); err != nil {
		t.Fatalf("MarkRevoked: %v", err)
	}
	// A revoked lease is never claimed again, however old.
	if _, err := st.Claim(ctx, "revoked", time.Nanosecond); !errors.Is(err, lease.ErrClaimed) {
		t.Errorf("Claim of a revoked lease: got %v, want ErrClaimed", err)
	}
	wantState(t, st, "revoked", lease.Revoked)

	if _, err := st.Claim(ctx, "missing", time.Hour); !errors.Is(err, lease.ErrNotFound) {
		t.Errorf("Claim of an unknown lease: got %v, want ErrNotFound", err)
	}
}

func (s *suite) testClaimConcurrent(t *testing.T) {
	st := s.store(t)
	put(t, st, newLease("race"))

	const n = 20
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make(chan error, n)
	)
	for range n {
		wg.Go(func() {
			<-start
			_, err := st.Claim(context.Background(), "race", time.Hour)
			errs <- err
		})
	}
	close(start)
	wg.Wait()
	close(errs)

	wins := 0
	for err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, lease.ErrClaimed):
			t.Errorf("concurrent Claim: got %v, want nil or ErrClaimed", err)
		}
	}
	if wins != 1 {
		t.Errorf("%d of %d concurrent Claims won, want exactly 1", wins, n)
	}
	wantState(t, st, "race", lease.Revoking)
}

func (s *suite) testClaimStale(t *testing.T) {
	st := s.store(t)
	ctx := context.Background()

	want := newLease("stale")
	put(t, st, want)
	if err := st.Activate(ctx, "stale", want.Credential); err != nil {
		t.Fatalf("Activate: %v", err)
	}
	claim(t, st, "stale")
	time.Sleep(5 * time.Millisecond)

	// A claim younger than staleAfter holds; staleAfter <= 0 never expires it.
	for _, staleAfter := range []time.Duration{time.Hour, 0, -time.Second} {
		if _, err := st.Claim(ctx, "stale", staleAfter); !errors.Is(err, lease.ErrClaimed) {
			t.Errorf("Claim(staleAfter=%v) of a fresh claim: got %v, want ErrClaimed", staleAfter, err)
		}
	}

	// An older one is taken over (its revoker died) ...
	got, err := st.Claim(ctx, "stale", time.Nanosecond)
	if err != nil {
		t.Fatalf("Claim of a stale claim: %v", err)
	}
	want.State = lease.Revoking
	checkLease(t, "lease returned by a stale re-claim", want, got)

	// ... which renews the claim ...
	if _, err := st.Claim(ctx, "stale", time.Hour); !errors.Is(err, lease.ErrClaimed) {
		t.Errorf("Claim right after a stale re-claim: got %v, want ErrClaimed", err)
	}
	// ... and keeps the state the lease had before the first claim.
	if err := st.Release(ctx, "stale"); err != nil {
		t.Fatalf("Release after a stale re-claim: %v", err)
	}
	wantState(t, st, "stale", lease.Active)
}

func (s *suite) testRelease(t *testing.T) {
	st := s.store(t)
	ctx := context.Background()

	for _, state := range []lease.State{lease.Pending, lease.Active} {
		id := "release-" + string(state)
		want := newLease(id)
		put(t, st, want)
		if state == lease.Active {
			if err := st.Activate(ctx, id, want.Credential); err != nil {
				t.Fatalf("Activate(%q): %v", id, err)
			}
		}
		want.State = state
		claim(t, st, id)
		if err := st.Release(ctx, id); err != nil {
			t.Fatalf("Release of a lease claimed while %s: %v", state, err)
		}
		checkLease(t, "Get after Release", want, get(t, st, id))

		// Released, it can be claimed again, by anyone, at once.
		if _, err := st.Claim(ctx, id, time.Hour); err != nil {
			t.Errorf("Claim after Release: %v", err)
		}
		wantState(t, st, id, lease.Revoking)
	}

	// Release acts on revoking leases only.
	put(t, st, newLease("pending"))
	if err := st.Release(ctx, "pending"); !errors.Is(err, lease.ErrNotFound) {
		t.Errorf("Release of an unclaimed lease: got %v, want ErrNotFound", err)
	}
	wantState(t, st, "pending", lease.Pending)

	put(t, st, newLease("revoked"))
	claim(t, st, "revoked")
	if err := st.MarkRevoked(ctx, "revoked", lease.BySweep, base); err != nil {
		t.Fatalf("MarkRevoked: %v", err)
	}
	if err := st.Release(ctx, "revoked"); !errors.Is(err, lease.ErrNotFound) {
		t.Errorf("Release of a revoked lease: got %v, want ErrNotFound", err)
	}
	wantState(t, st, "revoked", lease.Revoked)

	if err := st.Release(ctx, "missing"); !errors.Is(err, lease.ErrNotFound) {
		t.Errorf("Release of an unknown lease: got %v, want ErrNotFound", err)
	}
}

func (s *suite) testMarkRevoked(t *testing.T) {
	st := s.store(t)
	ctx := context.Background()

	want := newLease("rev")
	put(t, st, want)
	claim(t, st, "rev")
	at := base.Add(20 * time.Minute)
	if err := st.MarkRevoked(ctx, "rev", lease.ByPostStep, at); err != nil {
		t.Fatalf("MarkRevoked: %v", err)
	}
	want.State = lease.Revoked
	want.RevokedAt = at
	want.RevokedBy = lease.ByPostStep
	checkLease(t, "Get after MarkRevoked", want, get(t, st, "rev"))

	// Again, by someone else, later: succeeds and keeps the first record.
	if err := st.MarkRevoked(ctx, "rev", lease.BySweep, at.Add(time.Hour)); err != nil {
		t.Errorf("second MarkRevoked: got %v, want nil", err)
	}
	checkLease(t, "Get after a second MarkRevoked", want, get(t, st, "rev"))

	// Only a claimed lease is marked: a revoker claims first.
	put(t, st, newLease("unclaimed"))
	if err := st.MarkRevoked(ctx, "unclaimed", lease.ByManual, at); !errors.Is(err, lease.ErrNotFound) {
		t.Errorf("MarkRevoked of an unclaimed lease: got %v, want ErrNotFound", err)
	}
	wantState(t, st, "unclaimed", lease.Pending)

	if err := st.MarkRevoked(ctx, "missing", lease.ByManual, at); !errors.Is(err, lease.ErrNotFound) {
		t.Errorf("MarkRevoked of an unknown lease: got %v, want ErrNotFound", err)
	}
}
