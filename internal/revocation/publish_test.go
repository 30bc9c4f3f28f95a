package revocation_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/revocation"
	"github.com/jit-policy/jit-policy/issuers"
)

// fileIssuer keeps one published list, as a KRL file would: each Publish
// replaces it. hold, when set, is called inside Publish before the list is
// replaced; fail makes Publish fail.
type fileIssuer struct {
	listIssuer
	mu     sync.Mutex
	list   []string
	writes int
	hold   func(ids []string)
	fail   error
}

func (f *fileIssuer) Publish(_ context.Context, revoked []lease.Lease) error {
	var ids []string
	for _, l := range revoked {
		ids = append(ids, l.ID)
	}
	if f.hold != nil {
		f.hold(ids)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.list, f.writes = slices.Sorted(slices.Values(ids)), f.writes+1
	return nil
}

func (f *fileIssuer) current() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.list
}

func fileSetup(t *testing.T, now time.Time) (*revocation.Revoker, *fileIssuer, lease.Store) {
	t.Helper()
	r, _, st := setup(t, now)
	f := &fileIssuer{}
	r.Issuers = map[string]issuers.Issuer{"ssh": f}
	return r, f, st
}

// TestPublishStaleWriteRepaired: revoker A reads the store before B's
// revocation and writes its list after B's; A sees the store holds more
// than it wrote and writes again, so the list keeps B's lease.
func TestPublishStaleWriteRepaired(t *testing.T) {
	now := time.Now()
	r, f, _ := fileSetup(t, now)
	aHeld, bDone := make(chan struct{}), make(chan struct{})
	var once sync.Once
	f.hold = func(ids []string) {
		if slices.Equal(ids, []string{"live"}) {
			once.Do(func() { // A's first, stale write waits for B's
				close(aHeld)
				<-bDone
			})
		}
	}
	aRep := make(chan revocation.Report)
	go func() { aRep <- r.Revoke(context.Background(), []string{"live"}, lease.ByManual, now) }()
	<-aHeld
	bRep := r.Revoke(context.Background(), []string{"stuck"}, lease.ByManual, now)
	close(bDone)
	if err := errors.Join(bRep.Err(), (<-aRep).Err()); err != nil {
		t.Fatal(err)
	}
	if got := f.current(); !slices.Equal(got, []string{"live", "stuck"}) {
		t.Errorf("final list %v, want live and stuck (A's stale write must not win)", got)
	}
}

// TestRetryRepublishes: a revoke whose list failed to publish is repaired
// by revoking the same lease again, though the lease is already revoked,
// by id and by job.
func TestRetryRepublishes(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name  string
		retry func(r *revocation.Revoker) (revocation.Report, error)
	}{
		{"by id", func(r *revocation.Revoker) (revocation.Report, error) {
			return r.Revoke(context.Background(), []string{"live"}, lease.ByManual, now), nil
		}},
		{"matching", func(r *revocation.Revoker) (revocation.Report, error) {
			return r.RevokeMatching(context.Background(), lease.Filter{Issuer: "ssh"}, lease.ByManual, now)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, f, st := fileSetup(t, now)
			f.fail = errors.New("disk full")
			if rep := r.Revoke(context.Background(), []string{"live"}, lease.ByManual, now); rep.Err() == nil {
				t.Fatal("a failed publish was not reported")
			}
			if l, err := st.Get(context.Background(), "live"); err != nil || l.State != lease.Revoked {
				t.Fatalf("live = %+v, %v; want revoked", l, err)
			}
			f.fail = nil
			rep, err := tc.retry(r)
			if err != nil || rep.Err() != nil {
				t.Fatalf("retry: %v %v", err, rep.Err())
			}
			if got := f.current(); !slices.Contains(got, "live") {
				t.Errorf("after the retry the list is %v, want it to hold live", got)
			}
		})
	}
}

// TestRevokingIsListed: a lease claimed for revocation, whose revoker died
// before recording it revoked, is on the list.
func TestRevokingIsListed(t *testing.T) {
	now := time.Now()
	r, _, st := fileSetup(t, now)
	if _, err := st.Claim(context.Background(), "live", time.Minute); err != nil {
		t.Fatal(err)
	}
	got, err := r.Revoked(context.Background(), "ssh", now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != "live" {
		t.Errorf("Revoked = %v, want the claimed lease live", got)
	}
}

// TestRetryByJobRepublishes: revoking a job's leases again, all of them
// already revoked, writes their list again (the first publish failed).
func TestRetryByJobRepublishes(t *testing.T) {
	now := time.Now()
	r, f, st := fileSetup(t, now)
	job := lease.Job{Provider: "github", Repository: "org/app", RunID: "7", Attempt: "1"}
	l := lease.Lease{ID: "job-lease", Issuer: "ssh", Role: "deploy", Job: job, IssuedAt: now, ExpiresAt: now.Add(time.Hour), Credential: lease.Credential{Serial: 7}}
	if err := st.Put(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	f.fail = errors.New("disk full")
	if rep, err := r.RevokeMatching(context.Background(), lease.Filter{Job: job}, lease.ByManual, now); err != nil || rep.Err() == nil {
		t.Fatalf("first revoke: %v, %v; want the failed publish reported", rep, err)
	}
	f.fail = nil
	rep, err := r.RevokeMatching(context.Background(), lease.Filter{Job: job}, lease.ByManual, now)
	if err != nil || rep.Err() != nil || len(rep.Revoked) != 0 {
		t.Fatalf("retry: %+v, %v; want nothing left to revoke and no failure", rep, err)
	}
	if got := f.current(); !slices.Contains(got, "job-lease") {
		t.Errorf("after the retry the list is %v, want it to hold job-lease", got)
	}
}
