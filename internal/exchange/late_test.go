package exchange_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/engine"
	"github.com/jit-policy/jit-policy/internal/exchange"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/issuers"
)

// allowAll allows every request, with no grant.
type allowAll struct{}

func (allowAll) Decide(context.Context, engine.Input) (engine.Decision, error) {
	return engine.Decision{ID: "d", Allowed: true, Deny: []string{}}, nil
}

// lateIssuer issues credentials that expire late after their lease.
type lateIssuer struct{ late time.Duration }

func (i lateIssuer) Issue(_ context.Context, req issuers.Request) (issuers.Credential, error) {
	return issuers.Credential{ExpiresAt: req.Lease.ExpiresAt.Add(i.late)}, nil
}

func (lateIssuer) Revoke(context.Context, lease.Lease) error { return nil }

// TestCredentialOutlivingItsLease: a backend credential valid well past
// its lease is refused and its lease revoked; one within the clock slack
// is issued.
func TestCredentialOutlivingItsLease(t *testing.T) {
	for _, tc := range []struct {
		name    string
		late    time.Duration
		refused bool
	}{
		{"on time", 0, false},
		{"a clock ahead", 2 * time.Minute, false},
		{"an hour late", time.Hour, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := newExchange(t)
			x.Decider = allowAll{}
			x.Issuers = map[string]issuers.Issuer{"late": lateIssuer{tc.late}}
			var revoked []string
			x.OnFailure = func(_ context.Context, id string) error {
				revoked = append(revoked, id)
				return nil
			}
			res, err := x.Issue(context.Background(), "token", exchange.Request{Issuer: "late", Role: "r"}, time.Now())
			if !tc.refused {
				if err != nil || res.Lease.State != lease.Active {
					t.Fatalf("Issue: %+v, %v; want an active lease", res.Lease, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "past the lease's expiry") {
				t.Fatalf("Issue: err = %v, want a refusal naming the late expiry", err)
			}
			if len(revoked) != 1 || revoked[0] != res.Lease.ID {
				t.Errorf("revoked %v, want the lease %s", revoked, res.Lease.ID)
			}
		})
	}
}
