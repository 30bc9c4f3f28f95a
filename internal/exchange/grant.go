package exchange

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/issuers"
)

// backendClockSlack is how much later than its lease a backend may make a
// credential expire: the lease's expiry is taken before the backend call,
// and the backend's clock may run ahead. A later credential is refused,
// since its revocation (a deny until its lease's expiry, a role dropped at
// it) would lapse before the credential does.
const backendClockSlack = 5 * time.Minute

// grantRequest is what grant needs besides the decision.
type grantRequest struct {
	issuer issuers.Issuer
	req    issuers.Request // req.TTL is the requested lifetime, clamped by grant
	maxTTL time.Duration
	// onceKey is spent (lease.ReplayGuard) before the lease is recorded:
	// the token's key, or a pull request's item and head commit.
	onceKey   string
	onceUntil time.Time
	dryRun    bool
}

// grant issues what the policy allowed (res.Decision): clamp the lifetime,
// let the issuer check the request, then either sign first and record
// (signThenRecord), or spend the replay key, record the lease, issue and
// activate. Nothing is recorded before the key is spent.
func (x *Exchange) grant(ctx context.Context, res Result, g grantRequest) (Result, error) {
	d, iss, ireq := res.Decision, g.issuer, g.req
	var grantSeconds *int64
	if d.Grant != nil {
		grantSeconds = d.Grant.MaxTTLSeconds
	}
	ttl, err := issuers.ClampTTL(ireq.TTL, grantSeconds, 0, g.maxTTL)
	if err != nil {
		return res, invalid(fmt.Errorf("clamping the lifetime: %w", err))
	}
	ireq.TTL = ttl
	ireq.Lease.ExpiresAt = ireq.Now.Add(ttl).UTC()
	l := ireq.Lease
	res.Lease = l
	issuer := l.Issuer
	if c, ok := iss.(issuers.Checker); ok {
		if err := c.Check(ctx, ireq); err != nil {
			return res, invalid(fmt.Errorf("checking the %s request: %w", issuer, err))
		}
	}
	if g.dryRun {
		return res, nil
	}
	if store, ok := x.signFirst(iss); ok {
		return x.signThenRecord(ctx, res, g, ireq, store)
	}
	if err := x.spendAndRecord(ctx, g, l); err != nil {
		return res, err
	}
	cred, err := iss.Issue(ctx, ireq)
	if err != nil {
		return res, x.failed(ctx, l.ID, fmt.Errorf("issuing %s credential for lease %s: %w", issuer, l.ID, err))
	}
	if late := cred.ExpiresAt.Sub(l.ExpiresAt); late > backendClockSlack {
		return res, x.failed(ctx, l.ID, fmt.Errorf("issuing %s credential for lease %s: the backend made it valid until %s, %s past the lease's expiry; it is refused and the lease revoked (check the backend's clock and its duration limits)",
			issuer, l.ID, cred.ExpiresAt.UTC().Format(time.RFC3339), late.Round(time.Second)))
	}
	if err := x.Leases.Activate(ctx, l.ID, cred.Identity); err != nil {
		return res, x.failed(ctx, l.ID, fmt.Errorf("activating lease %s: %w", l.ID, err))
	}
	res.Lease.State, res.Lease.Credential, res.Credential = lease.Active, cred.Identity, cred
	return res, nil
}

// signFirst says whether to sign before recording: the issuer only signs
// in memory (issuers.Signer) and the lease store spends the token and
// records an Active lease in one write (lease.SpendingStore).
func (x *Exchange) signFirst(iss issuers.Issuer) (lease.SpendingStore, bool) {
	signer, ok := iss.(issuers.Signer)
	if !ok || !signer.SignsOnly() {
		return nil, false
	}
	store, ok := x.Leases.(lease.SpendingStore)
	if !ok || any(x.Leases) != any(x.Replay) {
		return nil, false
	}
	return store, true
}

// signThenRecord signs the credential in memory, then spends the token and
// records the lease, already Active, in one durable write; the credential
// is returned (released) only after that. A failure before the write
// leaves nothing: the signed credential is dropped, never seen.
func (x *Exchange) signThenRecord(ctx context.Context, res Result, g grantRequest, ireq issuers.Request, store lease.SpendingStore) (Result, error) {
	l := ireq.Lease
	cred, err := g.issuer.Issue(ctx, ireq)
	if err != nil {
		return res, fmt.Errorf("issuing %s credential for lease %s: %w", l.Issuer, l.ID, err)
	}
	if cred.Identity != l.Credential {
		return res, fmt.Errorf("issuing %s credential for lease %s: the issuer changed the identity it was given", l.Issuer, l.ID)
	}
	l.State = lease.Active
	if err := store.SpendAndPut(ctx, g.onceKey, g.onceUntil, l); err != nil {
		return res, fmt.Errorf("spending the OIDC token and recording the lease (the signed credential was dropped): %w", err)
	}
	res.Lease, res.Credential = l, cred
	return res, nil
}

// spendAndRecord spends the once-key, then records the lease: in one write
// when the lease store is also the replay guard and can (lease.SpendingStore).
func (x *Exchange) spendAndRecord(ctx context.Context, g grantRequest, l lease.Lease) error {
	if s, ok := x.Leases.(lease.SpendingStore); ok && any(x.Leases) == any(x.Replay) {
		if err := s.SpendAndPut(ctx, g.onceKey, g.onceUntil, l); err != nil {
			return fmt.Errorf("spending the OIDC token and recording the lease: %w", err)
		}
		return nil
	}
	if err := x.Replay.UseToken(ctx, g.onceKey, g.onceUntil); err != nil {
		return fmt.Errorf("spending the OIDC token: %w", err)
	}
	if err := x.Leases.Put(ctx, l); err != nil {
		return fmt.Errorf("recording the lease: %w", err)
	}
	return nil
}

// failed revokes a lease whose issuing went wrong, so no credential
// outlives the error, and returns err (joined with any revocation error).
func (x *Exchange) failed(ctx context.Context, id string, err error) error {
	if x.OnFailure == nil {
		return err
	}
	if rerr := x.OnFailure(context.WithoutCancel(ctx), id); rerr != nil {
		return errors.Join(err, fmt.Errorf("revoking lease %s after the failure (the sweep will retry): %w", id, rerr))
	}
	return err
}
