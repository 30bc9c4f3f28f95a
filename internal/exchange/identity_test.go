package exchange_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/exchange"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/issuers"
)

// choosingIssuer chooses id (or fails with err) before issuing, and issues
// with the identity it is given.
type choosingIssuer struct {
	id  lease.Credential
	err error
}

func (i choosingIssuer) ChooseIdentity(issuers.IdentityRequest) (lease.Credential, error) {
	return i.id, i.err
}

func (choosingIssuer) Issue(_ context.Context, req issuers.Request) (issuers.Credential, error) {
	return issuers.Credential{Identity: req.Lease.Credential, ExpiresAt: req.Lease.ExpiresAt}, nil
}

func (choosingIssuer) Revoke(context.Context, lease.Lease) error { return nil }

// TestChosenIdentity: an issuer that chooses its identity
// (issuers.IdentityChooser) has it recorded and issued with; one that
// fails to choose leaves nothing recorded; one without the capability gets
// the zero identity.
func TestChosenIdentity(t *testing.T) {
	errNoRandom := errors.New("no randomness")
	chosen := lease.Credential{Serial: 7, KeyID: "jit/chosen"}
	for _, tc := range []struct {
		name    string
		issuer  issuers.Issuer
		want    lease.Credential
		wantErr error
	}{
		{"chooses", choosingIssuer{id: chosen}, chosen, nil},
		{"fails to choose", choosingIssuer{err: errNoRandom}, lease.Credential{}, errNoRandom},
		{"does not choose", lateIssuer{}, lease.Credential{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := newExchange(t)
			x.Decider = allowAll{}
			x.Issuers = map[string]issuers.Issuer{"kind": tc.issuer}
			ctx := context.Background()
			res, err := x.Issue(ctx, "token", exchange.Request{Issuer: "kind", Role: "r"}, time.Now())
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || errors.Is(err, exchange.ErrInvalidRequest) {
					t.Fatalf("Issue: err = %v, want %v, not an invalid request", err, tc.wantErr)
				}
				if ls, err := x.Leases.List(ctx, lease.Filter{}); err != nil || len(ls) != 0 {
					t.Errorf("recorded %d leases (%v), want none", len(ls), err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Issue: %v", err)
			}
			got, err := x.Leases.Get(ctx, res.Lease.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != lease.Active || got.Credential != tc.want {
				t.Errorf("recorded lease %s with %+v, want active with %+v", got.State, got.Credential, tc.want)
			}
		})
	}
}
