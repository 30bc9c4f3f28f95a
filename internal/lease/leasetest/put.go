package leasetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
)

func (s *suite) testPutGet(t *testing.T) {
	st := s.store(t)
	ctx := context.Background()

	want := newLease("full")
	put(t, st, want)
	checkLease(t, "Get after Put", want, get(t, st, "full"))

	// A zero State is stored as Pending; optional fields may be empty.
	bare := lease.Lease{
		ID:        "bare",
		Issuer:    "aws",
		Role:      "deploy",
		Subject:   "someone",
		IssuedAt:  base.UTC(),
		ExpiresAt: base.Add(time.Hour).UTC(),
	}
	put(t, st, bare)
	bare.State = lease.Pending
	checkLease(t, "Get of a lease put with a zero State", bare, get(t, st, "bare"))

	// Put of a taken id fails and leaves the first lease as it was.
	again := newLease("full")
	again.Subject = "intruder"
	if err := st.Put(ctx, again); !errors.Is(err, lease.ErrExists) {
		t.Errorf("second Put of %q: got %v, want ErrExists", again.ID, err)
	}
	checkLease(t, "Get after a refused Put", want, get(t, st, "full"))

	if _, err := st.Get(ctx, "missing"); !errors.Is(err, lease.ErrNotFound) {
		t.Errorf("Get of an unknown id: got %v, want ErrNotFound", err)
	}

	got, err := st.List(ctx, lease.Filter{Issuer: "ssh"})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(got) != 1 {
		t.Fatalf("List(issuer ssh) returned %d leases, want 1", len(got))
	}
	checkLease(t, "List after Put", want, got[0])
}

func (s *suite) testPutInvalid(t *testing.T) {
	st := s.store(t)
	ctx := context.Background()

	cases := []struct {
		name   string
		change func(*lease.Lease)
	}{
		{"empty id", func(l *lease.Lease) { l.ID = "" }},
		{"state active", func(l *lease.Lease) { l.State = lease.Active }},
		{"state revoked", func(l *lease.Lease) { l.State = lease.Revoked }},
		{"unknown state", func(l *lease.Lease) { l.State = "bogus" }},
		{"zero IssuedAt", func(l *lease.Lease) { l.IssuedAt = time.Time{} }},
		{"zero ExpiresAt", func(l *lease.Lease) { l.ExpiresAt = time.Time{} }},
		{"RevokedAt set", func(l *lease.Lease) { l.RevokedAt = base }},
		{"RevokedBy set", func(l *lease.Lease) { l.RevokedBy = lease.ByManual }},
	}
	for _, c := range cases {
		l := newLease("invalid")
		c.change(&l)
		err := st.Put(ctx, l)
		if err == nil {
			t.Errorf("Put with %s succeeded, want an error", c.name)
			continue
		}
		if errors.Is(err, lease.ErrExists) {
			t.Errorf("Put with %s: got %v, want a validation error, not ErrExists", c.name, err)
		}
	}
	// Nothing was stored: the id is still free.
	put(t, st, newLease("invalid"))
}

func (s *suite) testActivate(t *testing.T) {
	st := s.store(t)
	ctx := context.Background()

	want := newLease("act")
	put(t, st, want)
	cred := lease.Credential{
		Serial:        ^uint64(0),
		KeyID:         "jit/act/final",
		SessionName:   "jit-act-final",
		AssumedRoleID: "AROAFINAL:jit-act-final",
		RoleName:      "jit_act_final",
	}
	if err := st.Activate(ctx, "act", cred); err != nil {
		t.Fatalf("Activate: %v", err)
	}
	want.State = lease.Active
	want.Credential = cred
	checkLease(t, "Get after Activate", want, get(t, st, "act"))

	// Only a pending lease can be activated.
	if err := st.Activate(ctx, "act", lease.Credential{KeyID: "again"}); !errors.Is(err, lease.ErrNotFound) {
		t.Errorf("Activate of an active lease: got %v, want ErrNotFound", err)
	}
	checkLease(t, "Get after a refused Activate", want, get(t, st, "act"))

	if err := st.Activate(ctx, "missing", cred); !errors.Is(err, lease.ErrNotFound) {
		t.Errorf("Activate of an unknown lease: got %v, want ErrNotFound", err)
	}

	// A pending lease claimed by a revoker (say a sweep) cannot be activated.
	put(t, st, newLease("claimed"))
	claim(t, st, "claimed")
	if err := st.Activate(ctx, "claimed", cred); !errors.Is(err, lease.ErrNotFound) {
		t.Errorf("Activate of a revoking lease: got %v, want ErrNotFound", err)
	}
	wantState(t, st, "claimed", lease.Revoking)
}
