// Package leasetest is the contract suite every lease.Store must pass. A
// backend's own test calls Run with a function that opens a fresh, empty
// store; Run closes each store when its subtest ends.
//
// Beyond the lease.Store documentation, the suite pins these behaviours, which
// every backend must share:
//
//   - Put requires an ID, IssuedAt and ExpiresAt, a State of "" or Pending
//     (the lease is stored as Pending), and no RevokedAt/RevokedBy.
//   - Times come back in UTC, equal to what was put to within a microsecond;
//     zero times stay zero. Credential.Serial round-trips all 64 bits.
//   - List orders by IssuedAt, then by ID; ExpiresBefore and IssuedBefore are
//     strict (a lease expiring exactly at the bound is not selected);
//     ExpiresAfter is inclusive.
//   - Claim with staleAfter <= 0 never takes over an existing claim.
//   - Release and MarkRevoked act on Revoking leases only; on any other lease
//     they return ErrNotFound and change nothing, except that MarkRevoked on
//     a Revoked lease succeeds and keeps the first RevokedAt and RevokedBy.
//   - If the store implements lease.ReplayGuard, a key can be used once until
//     its expiresAt, and once more after it.
package leasetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
)

// Run runs the contract suite against the stores that open returns. open is
// called once per subtest and must return a new, empty store; it may use t
// for temporary directories and cleanups.
func Run(t *testing.T, open func(t *testing.T) lease.Store) {
	s := &suite{open: open}
	t.Run("PutGet", s.testPutGet)
	t.Run("PutInvalid", s.testPutInvalid)
	t.Run("Activate", s.testActivate)
	t.Run("List", s.testList)
	t.Run("Claim", s.testClaim)
	t.Run("ClaimConcurrent", s.testClaimConcurrent)
	t.Run("ClaimStale", s.testClaimStale)
	t.Run("Release", s.testRelease)
	t.Run("MarkRevoked", s.testMarkRevoked)
	t.Run("ReplayGuard", s.testReplayGuard)
	t.Run("SpendAndPut", s.testSpendAndPut)
	t.Run("ConcurrentWrites", s.testConcurrentWrites)
}

type suite struct {
	open func(t *testing.T) lease.Store
}

// store opens a fresh store for one subtest and closes it when the subtest
// ends.
func (s *suite) store(t *testing.T) lease.Store {
	t.Helper()
	st := s.open(t)
	if st == nil {
		t.Fatal("open returned a nil store")
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return st
}

// base is the reference time of the suite's leases: not UTC and with
// nanoseconds, so stores must normalise both.
var base = time.Date(2026, 11, 28, 10, 30, 0, 123456789, time.FixedZone("UTC+1", 3600))

// newLease returns a lease with every field set, as an issuer would put it.
func newLease(id string) lease.Lease {
	return lease.Lease{
		ID:      id,
		Issuer:  "ssh",
		Role:    "deploy",
		Subject: "repo:acme/app:ref:refs/heads/main",
		Job: lease.Job{
			Issuer:     "https://token.actions.githubusercontent.com",
			Provider:   "github",
			Repository: "acme/app",
			RunID:      "9001",
			Attempt:    "2",
			JobID:      "77",
		},
		PR: 12,
		Credential: lease.Credential{
			Serial:        1<<63 + 12345, // high bit set: must survive int64 storage
			KeyID:         "jit/" + id,
			SessionName:   "jit-" + id,
			AssumedRoleID: "AROAEXAMPLE:jit-" + id,
			RoleName:      "jit_" + id,
		},
		DecisionID: "decision-" + id,
		State:      lease.Pending,
		IssuedAt:   base,
		ExpiresAt:  base.Add(15 * time.Minute),
	}
}

// put stores l, failing the test on error.
func put(t *testing.T, st lease.Store, l lease.Lease) {
	t.Helper()
	if err := st.Put(context.Background(), l); err != nil {
		t.Fatalf("Put(%q): %v", l.ID, err)
	}
}

// get loads one lease, failing the test on error.
func get(t *testing.T, st lease.Store, id string) lease.Lease {
	t.Helper()
	l, err := st.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("Get(%q): %v", id, err)
	}
	return l
}

// claim claims one lease for an hour, failing the test on error.
func claim(t *testing.T, st lease.Store, id string) lease.Lease {
	t.Helper()
	l, err := st.Claim(context.Background(), id, time.Hour)
	if err != nil {
		t.Fatalf("Claim(%q): %v", id, err)
	}
	return l
}

// wantState fails the test unless the stored lease is in state want.
func wantState(t *testing.T, st lease.Store, id string, want lease.State) {
	t.Helper()
	if got := get(t, st, id).State; got != want {
		t.Errorf("lease %q is %q, want %q", id, got, want)
	}
}

// diffLease lists the fields where got differs from want. Times must be UTC
// and within a microsecond of want; zero times must stay zero.
func diffLease(want, got lease.Lease) []string {
	var d []string
	field := func(name string, w, g any) {
		if w != g {
			d = append(d, fmt.Sprintf("%s = %#v, want %#v", name, g, w))
		}
	}
	field("ID", want.ID, got.ID)
	field("Issuer", want.Issuer, got.Issuer)
	field("Role", want.Role, got.Role)
	field("Subject", want.Subject, got.Subject)
	field("Job", want.Job, got.Job)
	field("PR", want.PR, got.PR)
	field("Credential", want.Credential, got.Credential)
	field("DecisionID", want.DecisionID, got.DecisionID)
	field("State", want.State, got.State)
	field("RevokedBy", want.RevokedBy, got.RevokedBy)
	d = append(d, diffTime("IssuedAt", want.IssuedAt, got.IssuedAt)...)
	d = append(d, diffTime("ExpiresAt", want.ExpiresAt, got.ExpiresAt)...)
	d = append(d, diffTime("RevokedAt", want.RevokedAt, got.RevokedAt)...)
	return d
}

func diffTime(name string, want, got time.Time) []string {
	switch {
	case want.IsZero() != got.IsZero():
		return []string{fmt.Sprintf("%s = %v, want %v", name, got, want)}
	case want.IsZero():
		return nil
	case got.Location() != time.UTC:
		return []string{fmt.Sprintf("%s = %v is in %v, want UTC", name, got, got.Location())}
	}
	if delta := got.Sub(want).Abs(); delta >= time.Microsecond {
		return []string{fmt.Sprintf("%s = %v, want %v (off by %v)", name, got, want, delta)}
	}
	return nil
}

// checkLease fails the test if got differs from want.
func checkLease(t *testing.T, what string, want, got lease.Lease) {
	t.Helper()
	for _, d := range diffLease(want, got) {
		t.Errorf("%s: %s", what, d)
	}
}
