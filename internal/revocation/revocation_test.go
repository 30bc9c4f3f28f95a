package revocation_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/lease/sqlitestore"
	"github.com/jit-policy/jit-policy/internal/revocation"
	"github.com/jit-policy/jit-policy/issuers"
)

// listIssuer records what it revokes and publishes; Fail makes Revoke fail.
type listIssuer struct {
	revoked   []string
	published [][]string
	fail      bool
}

func (*listIssuer) Issue(context.Context, issuers.Request) (issuers.Credential, error) {
	return issuers.Credential{}, errors.New("not used")
}

func (l *listIssuer) Revoke(_ context.Context, ls lease.Lease) error {
	if l.fail {
		return errors.New("backend down")
	}
	l.revoked = append(l.revoked, ls.ID)
	return nil
}

func (l *listIssuer) Publish(_ context.Context, revoked []lease.Lease) error {
	var ids []string
	for _, r := range revoked {
		ids = append(ids, r.ID)
	}
	l.published = append(l.published, ids)
	return nil
}

func setup(t *testing.T, now time.Time) (*revocation.Revoker, *listIssuer, lease.Store) {
	t.Helper()
	st, err := sqlitestore.Open(context.Background(), filepath.Join(t.TempDir(), "leases.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	put := func(id string, issued, expires time.Time, activate bool) {
		if err := st.Put(context.Background(), lease.Lease{ID: id, Issuer: "ssh", Role: "deploy", IssuedAt: issued, ExpiresAt: expires, Credential: lease.Credential{Serial: 1}}); err != nil {
			t.Fatal(err)
		}
		if activate {
			if err := st.Activate(context.Background(), id, lease.Credential{Serial: 1}); err != nil {
				t.Fatal(err)
			}
		}
	}
	put("expired", now.Add(-time.Hour), now.Add(-time.Minute), true)
	put("live", now.Add(-time.Minute), now.Add(time.Hour), true)
	put("stuck", now.Add(-10*time.Minute), now.Add(time.Hour), false)
	put("issuing", now.Add(-time.Second), now.Add(time.Hour), false)
	iss := &listIssuer{}
	return &revocation.Revoker{Leases: st, Issuers: map[string]issuers.Issuer{"ssh": iss}}, iss, st
}

func TestSweep(t *testing.T) {
	now := time.Now()
	r, iss, st := setup(t, now)
	rep, err := r.Sweep(context.Background(), now, 2*time.Minute)
	if err != nil || rep.Err() != nil {
		t.Fatalf("Sweep: %v %v", err, rep.Err())
	}
	if got := slices.Sorted(slices.Values(rep.Revoked)); !slices.Equal(got, []string{"expired", "stuck"}) {
		t.Errorf("revoked %v, want expired and stuck (not live, not the one still issuing)", got)
	}
	// The list names the revoked leases still worth listing: the expired
	// one stays within the publishing margin.
	if len(iss.published) == 0 || !slices.Equal(slices.Sorted(slices.Values(iss.published[len(iss.published)-1])), []string{"expired", "stuck"}) {
		t.Errorf("published %v", iss.published)
	}
	l, err := st.Get(context.Background(), "stuck")
	if err != nil || l.State != lease.Revoked || l.RevokedBy != lease.BySweep {
		t.Errorf("stuck lease = %+v, %v", l, err)
	}
}

func TestRevokeTwiceAndFailure(t *testing.T) {
	now := time.Now()
	r, iss, st := setup(t, now)
	if rep := r.Revoke(context.Background(), []string{"live"}, lease.ByManual, now); len(rep.Revoked) != 1 || rep.Err() != nil {
		t.Fatalf("first revoke: %+v", rep)
	}
	if rep := r.Revoke(context.Background(), []string{"live"}, lease.ByPostStep, now); len(rep.Skipped) != 1 || rep.Err() != nil {
		t.Errorf("second revoke = %+v, want skipped", rep)
	}
	if len(iss.revoked) != 1 {
		t.Errorf("backend revoked %d times, want once", len(iss.revoked))
	}
	iss.fail = true
	rep := r.Revoke(context.Background(), []string{"stuck"}, lease.ByManual, now)
	if rep.Err() == nil {
		t.Fatal("a failing backend reported success")
	}
	if l, err := st.Get(context.Background(), "stuck"); err != nil || l.State != lease.Pending {
		t.Errorf("after a failed revoke the lease is %+v, %v; want it back to pending for a retry", l, err)
	}
}

// TestSweepBackendDown: a backend that is down leaves the expired lease
// unrevoked and reported; the next sweep, with the backend back, revokes it.
func TestSweepBackendDown(t *testing.T) {
	now := time.Now()
	r, iss, st := setup(t, now)
	iss.fail = true
	rep, err := r.Sweep(context.Background(), now, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Err() == nil || rep.Failed["expired"] == nil {
		t.Fatalf("sweep with the backend down reported %+v, want the expired lease failed", rep)
	}
	if l, _ := st.Get(context.Background(), "expired"); l.State == lease.Revoked {
		t.Fatal("the lease is marked revoked although its backend was down")
	}
	iss.fail = false
	rep, err = r.Sweep(context.Background(), now, 2*time.Minute)
	if err != nil || rep.Err() != nil {
		t.Fatalf("second sweep: %v %v", err, rep.Err())
	}
	if l, _ := st.Get(context.Background(), "expired"); l.State != lease.Revoked {
		t.Errorf("after the backend is back the lease is %s, want revoked", l.State)
	}
}

// orphanIssuer also lists credentials at its backend by lease id.
type orphanIssuer struct {
	listIssuer
	backend []string
}

func (o *orphanIssuer) LeaseIDs(context.Context) ([]string, error) { return o.backend, nil }

// TestSweepOrphans: a backend credential whose lease was never recorded,
// or is recorded revoked, is revoked; one whose lease is open is not.
func TestSweepOrphans(t *testing.T) {
	now := time.Now()
	r, _, _ := setup(t, now)
	o := &orphanIssuer{backend: []string{"live", "never-recorded"}}
	r.Issuers["pg"] = o
	rep, err := r.Sweep(context.Background(), now, 2*time.Minute)
	if err != nil || rep.Err() != nil {
		t.Fatalf("Sweep: %v %v", err, rep.Err())
	}
	if !slices.Equal(o.revoked, []string{"never-recorded"}) {
		t.Errorf("orphans revoked = %v, want only never-recorded (live's lease is open)", o.revoked)
	}
	if rep.Reasons["never-recorded"] == "" {
		t.Error("no reason recorded for the orphan")
	}
}

// TestRevokeClaimedElsewhere: a lease another revoker has revoked is
// Skipped; one another revoker is revoking right now is Pending. Neither
// is a failure, and neither is revoked at the backend again.
func TestRevokeClaimedElsewhere(t *testing.T) {
	cases := []struct {
		name        string
		other       func(r *revocation.Revoker, st lease.Store, now time.Time) error
		wantSkipped []string
		wantPending []string
	}{
		{"revoked by another revoker", func(r *revocation.Revoker, _ lease.Store, now time.Time) error {
			return r.Revoke(context.Background(), []string{"live"}, lease.BySweep, now).Err()
		}, []string{"live"}, nil},
		{"being revoked by another revoker", func(_ *revocation.Revoker, st lease.Store, _ time.Time) error {
			_, err := st.Claim(context.Background(), "live", time.Hour)
			return err
		}, nil, []string{"live"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			now := time.Now()
			r, iss, st := setup(t, now)
			if err := c.other(r, st, now); err != nil {
				t.Fatalf("the other revoker: %v", err)
			}
			calls := len(iss.revoked)
			rep := r.Revoke(context.Background(), []string{"live"}, lease.ByPostStep, now)
			if rep.Err() != nil || len(rep.Revoked) != 0 || !slices.Equal(rep.Skipped, c.wantSkipped) || !slices.Equal(rep.Pending, c.wantPending) {
				t.Errorf("Revoke = %+v, want skipped %v, pending %v, no error", rep, c.wantSkipped, c.wantPending)
			}
			if len(iss.revoked) != calls {
				t.Errorf("the backend revoked %d more times, want none", len(iss.revoked)-calls)
			}
		})
	}
}

// gatedIssuer's Revoke hands each call's result channel to the test on
// calls and returns what the test sends on it.
type gatedIssuer struct{ calls chan chan error }

func (*gatedIssuer) Issue(context.Context, issuers.Request) (issuers.Credential, error) {
	return issuers.Credential{}, errors.New("not used")
}

func (g *gatedIssuer) Revoke(context.Context, lease.Lease) error {
	result := make(chan error)
	g.calls <- result
	return <-result
}

// TestStaleRevokerFails: revoker A's backend revoke hangs, a sweep takes
// its claim over as stale and revokes; when A's revoke fails at last, A
// must not give back the claim that is no longer its: the lease ends
// revoked by the sweep, whichever finishes first.
func TestStaleRevokerFails(t *testing.T) {
	for _, aFailsFirst := range []bool{true, false} {
		name := "A fails after the sweep revoked"
		if aFailsFirst {
			name = "A fails while the sweep revokes"
		}
		t.Run(name, func(t *testing.T) {
			now := time.Now()
			_, _, st := setup(t, now)
			ctx := context.Background()
			iss := &gatedIssuer{calls: make(chan chan error)}
			a := &revocation.Revoker{Leases: st, Issuers: map[string]issuers.Issuer{"ssh": iss}}
			sweep := &revocation.Revoker{Leases: st, Issuers: map[string]issuers.Issuer{"ssh": iss}, StaleClaim: time.Nanosecond}

			repA, repSweep := make(chan revocation.Report, 1), make(chan revocation.Report, 1)
			go func() { repA <- a.Revoke(ctx, []string{"live"}, lease.ByPostStep, now) }()
			callA := <-iss.calls
			time.Sleep(time.Millisecond) // A's claim grows stale
			go func() { repSweep <- sweep.Revoke(ctx, []string{"live"}, lease.BySweep, now) }()
			callSweep := <-iss.calls

			var ra, rs revocation.Report
			if aFailsFirst {
				callA <- errors.New("backend timed out")
				ra = <-repA
				if l, err := st.Get(ctx, "live"); err != nil || l.State != lease.Revoking {
					t.Errorf("after A's failure while the sweep revokes, the lease is %+v, %v; want still revoking", l, err)
				}
				callSweep <- nil
				rs = <-repSweep
			} else {
				callSweep <- nil
				rs = <-repSweep
				callA <- errors.New("backend timed out")
				ra = <-repA
			}
			if ra.Failed["live"] == nil {
				t.Errorf("A's report = %+v, want lease live failed", ra)
			}
			if rs.Err() != nil || !slices.Equal(rs.Revoked, []string{"live"}) {
				t.Errorf("the sweep's report = %+v, %v; want live revoked", rs, rs.Err())
			}
			if l, err := st.Get(ctx, "live"); err != nil || l.State != lease.Revoked || l.RevokedBy != lease.BySweep {
				t.Errorf("the lease is %+v, %v; want revoked by the sweep", l, err)
			}
		})
	}
}
