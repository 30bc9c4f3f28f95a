package exchange

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jit-policy/jit-policy/engine"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/issuers"
)

// ErrAlreadyIssued is returned (wrapped) by IssueApproved when the same
// request was already issued: its once-key is spent.
var ErrAlreadyIssued = errors.New("already issued for this request and commit")

// Approved is a request the policy allowed outside a token exchange: one
// item of a pull-request access request.
type Approved struct {
	Decision engine.Decision // must be allowed
	Request  Request
	Subject  string    // the requester's login
	Job      lease.Job // the repository (Provider "github")
	PR       int
	// OnceKey names the request item at its head commit; a second
	// IssueApproved with the same key issues nothing (ErrAlreadyIssued)
	// until OnceUntil.
	OnceKey   string
	OnceUntil time.Time
}

// IssueApproved records and issues what a.Decision allowed, at most once
// per a.OnceKey. The lease carries a.PR, so closing the pull request
// without merging revokes it.
func (x *Exchange) IssueApproved(ctx context.Context, a Approved, now time.Time) (Result, error) {
	res := Result{Decision: a.Decision}
	if !a.Decision.Allowed {
		return res, ErrDenied
	}
	if a.OnceKey == "" || a.PR <= 0 {
		return res, errors.New("an approved request needs its pull request and once-key")
	}
	req := a.Request
	iss, ok := x.Issuers[req.Issuer]
	if !ok {
		return res, fmt.Errorf("issuer %q is not configured: add it under issuers: in jit-policy.yaml", req.Issuer)
	}
	maxTTL, err := x.Limits(req.Issuer, req.Role)
	if err != nil {
		return res, err
	}
	l, err := newLease(iss, a.Subject, a.Job, a.PR, req, a.Decision.ID, now)
	if err != nil {
		return res, err
	}
	ireq := issuers.Request{
		Lease: l, Now: now, TTL: req.TTL, Principals: req.Principals, Grant: a.Decision.Grant,
		PublicKey: req.PublicKey, CSR: req.CSR, GenerateKey: req.GenerateKey,
	}
	res, err = x.grant(ctx, res, grantRequest{issuer: iss, req: ireq, maxTTL: maxTTL, onceKey: a.OnceKey, onceUntil: a.OnceUntil, dryRun: req.DryRun})
	if errors.Is(err, lease.ErrReplayed) {
		return res, fmt.Errorf("%w: %s", ErrAlreadyIssued, a.OnceKey)
	}
	return res, err
}
