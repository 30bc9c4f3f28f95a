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
		if got.ClaimedAt.IsZero() || got.ClaimedAt.Location() != time.UTC {
			t.Errorf("Claim of a %s lease: ClaimedAt = %v, want the claim's time in UTC", state, got.ClaimedAt)
		}
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
	ctx := context.Background()
	// After a takeover the first claimant's Release changes nothing; the
	// new claimant finishes the lease, however it ends.
	cases := []struct {
		name      string
		finish    func(st lease.Store, second lease.Lease) error
		wantState lease.State
	}{
		{"new claimant revokes", func(st lease.Store, second lease.Lease) error {
			return st.MarkRevoked(ctx, second.ID, lease.BySweep, base)
		}, lease.Revoked},
		// Released, the lease keeps the state it had before the first claim.
		{"new claimant releases", func(st lease.Store, second lease.Lease) error {
			return st.Release(ctx, second)
		}, lease.Active},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := s.store(t)
			want := newLease("stale")
			put(t, st, want)
			if err := st.Activate(ctx, "stale", want.Credential); err != nil {
				t.Fatalf("Activate: %v", err)
			}
			first := claim(t, st, "stale")
			time.Sleep(5 * time.Millisecond)

			// A claim younger than staleAfter holds; staleAfter <= 0 never expires it.
			for _, staleAfter := range []time.Duration{time.Hour, 0, -time.Second} {
				if _, err := st.Claim(ctx, "stale", staleAfter); !errors.Is(err, lease.ErrClaimed) {
					t.Errorf("Claim(staleAfter=%v) of a fresh claim: got %v, want ErrClaimed", staleAfter, err)
				}
			}

			// An older one is taken over (its revoker died, or hangs) ...
			second, err := st.Claim(ctx, "stale", time.Nanosecond)
			if err != nil {
				t.Fatalf("Claim of a stale claim: %v", err)
			}
			want.State = lease.Revoking
			checkLease(t, "lease returned by a stale re-claim", want, second)
			if !second.ClaimedAt.After(first.ClaimedAt) {
				t.Errorf("stale re-claim's ClaimedAt = %v, want after the first claim's %v", second.ClaimedAt, first.ClaimedAt)
			}

			// ... which renews the claim ...
			if _, err := st.Claim(ctx, "stale", time.Hour); !errors.Is(err, lease.ErrClaimed) {
				t.Errorf("Claim right after a stale re-claim: got %v, want ErrClaimed", err)
			}
			// ... and is not undone by the first claimant, whose revoke
			// failed late.
			if err := st.Release(ctx, first); !errors.Is(err, lease.ErrClaimed) {
				t.Errorf("Release by the first claimant after a takeover: got %v, want ErrClaimed", err)
			}
			checkLease(t, "Get after the first claimant's Release", want, get(t, st, "stale"))
			if _, err := st.Claim(ctx, "stale", time.Hour); !errors.Is(err, lease.ErrClaimed) {
				t.Errorf("Claim after the first claimant's Release: got %v, want ErrClaimed", err)
			}

			if err := c.finish(st, second); err != nil {
				t.Fatalf("the new claimant finishing: %v", err)
			}
			wantState(t, st, "stale", c.wantState)
			// Later still, the first claimant's Release changes nothing.
			if err := st.Release(ctx, first); !errors.Is(err, lease.ErrNotFound) {
				t.Errorf("Release by the first claimant once the lease is %s: got %v, want ErrNotFound", c.wantState, err)
			}
			wantState(t, st, "stale", c.wantState)
		})
	}
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
		claimed := claim(t, st, id)
		if err := st.Release(ctx, claimed); err != nil {
			t.Fatalf("Release of a lease claimed while %s: %v", state, err)
		}
		checkLease(t, "Get after Release", want, get(t, st, id))
		// Released, the claim is gone: releasing it again changes nothing.
		if err := st.Release(ctx, claimed); !errors.Is(err, lease.ErrNotFound) {
			t.Errorf("second Release of a lease claimed while %s: got %v, want ErrNotFound", state, err)
		}
		wantState(t, st, id, state)

		// Released, it can be claimed again, by anyone, at once; the old
		// claim does not release the new one.
		again, err := st.Claim(ctx, id, time.Hour)
		if err != nil {
			t.Fatalf("Claim after Release: %v", err)
		}
		if again.ClaimedAt.Equal(claimed.ClaimedAt) {
			t.Errorf("Claim after Release: ClaimedAt %v is the released claim's", again.ClaimedAt)
		}
		if err := st.Release(ctx, claimed); !errors.Is(err, lease.ErrClaimed) {
			t.Errorf("Release under a released claim of a lease claimed again: got %v, want ErrClaimed", err)
		}
		wantState(t, st, id, lease.Revoking)
	}

	// Release acts on revoking leases only, and needs the claim.
	put(t, st, newLease("pending"))
	if err := st.Release(ctx, lease.Lease{ID: "pending", ClaimedAt: base}); !errors.Is(err, lease.ErrNotFound) {
		t.Errorf("Release of an unclaimed lease: got %v, want ErrNotFound", err)
	}
	wantState(t, st, "pending", lease.Pending)

	put(t, st, newLease("unnamed"))
	claim(t, st, "unnamed")
	if err := st.Release(ctx, get(t, st, "unnamed")); err == nil {
		t.Errorf("Release of a lease without ClaimedAt (from Get): got nil, want an error")
	}
	wantState(t, st, "unnamed", lease.Revoking)

	put(t, st, newLease("revoked"))
	revoked := claim(t, st, "revoked")
	if err := st.MarkRevoked(ctx, "revoked", lease.BySweep, base); err != nil {
		t.Fatalf("MarkRevoked: %v", err)
	}
	if err := st.Release(ctx, revoked); !errors.Is(err, lease.ErrNotFound) {
		t.Errorf("Release of a revoked lease: got %v, want ErrNotFound", err)
	}
	wantState(t, st, "revoked", lease.Revoked)

	if err := st.Release(ctx, lease.Lease{ID: "missing", ClaimedAt: base}); !errors.Is(err, lease.ErrNotFound) {
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
