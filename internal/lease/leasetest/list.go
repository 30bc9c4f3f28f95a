package leasetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
)

// listFixture puts five leases, in an order other than their IssuedAt order,
// and moves them to different states:
//
//	id  issuer subject job (provider:repo/run/attempt/job) PR issued expires state
//	l-a ssh    alice   github:r1/1/1/10 (iss A)             0  +0m    +10m    pending
//	l-b aws    bob     github:r1/1/1/11 (no iss)            0  +1m    +20m    active
//	l-c ssh    bob     gitlab:r2/2/1/- (iss B)              0  +2m    +5m     revoking
//	l-d x509   carol   -                                    42 +3m    +30m    revoked
//	l-e ssh    alice   -                                    42 +1m    +15m    active
func listFixture(t *testing.T, st lease.Store) {
	t.Helper()
	ctx := context.Background()
	mk := func(id, issuer, subject string, job lease.Job, pr int, issued, expires time.Duration) lease.Lease {
		l := newLease(id)
		l.Issuer, l.Subject, l.Job, l.PR = issuer, subject, job, pr
		l.IssuedAt, l.ExpiresAt = base.Add(issued), base.Add(expires)
		return l
	}
	for _, l := range []lease.Lease{
		mk("l-d", "x509", "carol", lease.Job{}, 42, 3*time.Minute, 30*time.Minute),
		mk("l-b", "aws", "bob", lease.Job{Provider: "github", Repository: "r1", RunID: "1", Attempt: "1", JobID: "11"}, 0, time.Minute, 20*time.Minute),
		mk("l-e", "ssh", "alice", lease.Job{}, 42, time.Minute, 15*time.Minute),
		mk("l-a", "ssh", "alice", lease.Job{Issuer: "https://a.example", Provider: "github", Repository: "r1", RunID: "1", Attempt: "1", JobID: "10"}, 0, 0, 10*time.Minute),
		mk("l-c", "ssh", "bob", lease.Job{Issuer: "https://b.example", Provider: "gitlab", Repository: "r2", RunID: "2", Attempt: "1"}, 0, 2*time.Minute, 5*time.Minute),
	} {
		put(t, st, l)
	}
	for _, id := range []string{"l-b", "l-e"} {
		if err := st.Activate(ctx, id, newLease(id).Credential); err != nil {
			t.Fatalf("Activate(%q): %v", id, err)
		}
	}
	claim(t, st, "l-c")
	claim(t, st, "l-d")
	if err := st.MarkRevoked(ctx, "l-d", lease.BySweep, base.Add(time.Hour)); err != nil {
		t.Fatalf("MarkRevoked(l-d): %v", err)
	}
}

func (s *suite) testList(t *testing.T) {
	st := s.store(t)
	listFixture(t, st)
	ctx := context.Background()

	cases := []struct {
		name string
		f    lease.Filter
		want []string
	}{
		{"no filter", lease.Filter{}, []string{"l-a", "l-b", "l-e", "l-c", "l-d"}},
		{"state pending", lease.Filter{States: []lease.State{lease.Pending}}, []string{"l-a"}},
		{"state active", lease.Filter{States: []lease.State{lease.Active}}, []string{"l-b", "l-e"}},
		{"state revoking", lease.Filter{States: []lease.State{lease.Revoking}}, []string{"l-c"}},
		{"state revoked", lease.Filter{States: []lease.State{lease.Revoked}}, []string{"l-d"}},
		{"states pending+revoking", lease.Filter{States: []lease.State{lease.Revoking, lease.Pending}}, []string{"l-a", "l-c"}},
		{"issuer", lease.Filter{Issuer: "ssh"}, []string{"l-a", "l-e", "l-c"}},
		{"subject", lease.Filter{Subject: "bob"}, []string{"l-b", "l-c"}},
		{"job provider github", lease.Filter{Job: lease.Job{Provider: "github"}}, []string{"l-a", "l-b"}},
		{"job provider gitlab", lease.Filter{Job: lease.Job{Provider: "gitlab"}}, []string{"l-c"}},
		{"job provider mismatch", lease.Filter{Job: lease.Job{Provider: "gitlab", Repository: "r1"}}, nil},
		{"job issuer a", lease.Filter{Job: lease.Job{Issuer: "https://a.example"}}, []string{"l-a"}},
		{"job issuer b", lease.Filter{Job: lease.Job{Issuer: "https://b.example"}}, []string{"l-c"}},
		{"job issuer unknown", lease.Filter{Job: lease.Job{Issuer: "https://c.example"}}, nil},
		{"job issuer mismatch", lease.Filter{Job: lease.Job{Issuer: "https://b.example", Repository: "r1", RunID: "1", Attempt: "1"}}, nil},
		{"whole job with issuer", lease.Filter{Job: lease.Job{Issuer: "https://a.example", Provider: "github", Repository: "r1", RunID: "1", Attempt: "1", JobID: "10"}}, []string{"l-a"}},
		{"job repository", lease.Filter{Job: lease.Job{Repository: "r1"}}, []string{"l-a", "l-b"}},
		{"job run id", lease.Filter{Job: lease.Job{RunID: "2"}}, []string{"l-c"}},
		{"job attempt", lease.Filter{Job: lease.Job{Attempt: "1"}}, []string{"l-a", "l-b", "l-c"}},
		{"job id", lease.Filter{Job: lease.Job{JobID: "11"}}, []string{"l-b"}},
		{"whole job", lease.Filter{Job: lease.Job{Provider: "github", Repository: "r1", RunID: "1", Attempt: "1", JobID: "10"}}, []string{"l-a"}},
		{"job run attempt", lease.Filter{Job: lease.Job{Repository: "r1", RunID: "1", Attempt: "1"}}, []string{"l-a", "l-b"}},
		{"pr", lease.Filter{PR: 42}, []string{"l-e", "l-d"}},
		{"expires before (strict)", lease.Filter{ExpiresBefore: base.Add(10 * time.Minute)}, []string{"l-c"}},
		{"expires before", lease.Filter{ExpiresBefore: base.Add(10*time.Minute + time.Microsecond)}, []string{"l-a", "l-c"}},
		{"expires after (inclusive)", lease.Filter{ExpiresAfter: base.Add(10 * time.Minute)}, []string{"l-a", "l-b", "l-e", "l-d"}},
		{"expires after", lease.Filter{ExpiresAfter: base.Add(15 * time.Minute)}, []string{"l-b", "l-e", "l-d"}},
		{"revocation list: revoking or revoked, not long expired", lease.Filter{
			States:       []lease.State{lease.Revoking, lease.Revoked},
			ExpiresAfter: base.Add(5 * time.Minute),
		}, []string{"l-c", "l-d"}},
		{"issued before (strict)", lease.Filter{IssuedBefore: base.Add(time.Minute)}, []string{"l-a"}},
		{"issued before", lease.Filter{IssuedBefore: base.Add(2 * time.Minute)}, []string{"l-a", "l-b", "l-e"}},
		{"issuer+subject+state", lease.Filter{Issuer: "ssh", Subject: "alice", States: []lease.State{lease.Active}}, []string{"l-e"}},
		{"pr+expires before", lease.Filter{PR: 42, ExpiresBefore: base.Add(25 * time.Minute)}, []string{"l-e"}},
		{"sweep: live and expired", lease.Filter{
			States:        []lease.State{lease.Pending, lease.Active},
			ExpiresBefore: base.Add(16 * time.Minute),
		}, []string{"l-a", "l-e"}},
		{"all fields", lease.Filter{
			States:        []lease.State{lease.Active},
			Issuer:        "aws",
			Subject:       "bob",
			Job:           lease.Job{Provider: "github", Repository: "r1", RunID: "1", Attempt: "1", JobID: "11"},
			ExpiresBefore: base.Add(time.Hour),
			IssuedBefore:  base.Add(time.Hour),
		}, []string{"l-b"}},
		{"all fields, pr mismatch", lease.Filter{
			States: []lease.State{lease.Active}, Issuer: "aws", PR: 42,
		}, nil},
		{"no match", lease.Filter{Issuer: "nope"}, nil},
	}
	for _, c := range cases {
		got, err := st.List(ctx, c.f)
		if err != nil {
			t.Errorf("List(%s): %v", c.name, err)
			continue
		}
		var ids []string
		for _, l := range got {
			ids = append(ids, l.ID)
		}
		if !slices.Equal(ids, c.want) {
			t.Errorf("List(%s) = %q, want %q", c.name, ids, c.want)
		}
	}

	// List returns whole leases, not just ids.
	got, err := st.List(ctx, lease.Filter{States: []lease.State{lease.Revoked}})
	if err != nil || len(got) != 1 {
		t.Fatalf("List(revoked) = %d leases, %v; want 1", len(got), err)
	}
	checkLease(t, "List(revoked)", get(t, st, "l-d"), got[0])
	if got[0].RevokedBy != lease.BySweep || got[0].RevokedAt.IsZero() {
		t.Errorf("List(revoked): RevokedBy %q, RevokedAt %v; want %q and a time", got[0].RevokedBy, got[0].RevokedAt, lease.BySweep)
	}
}
