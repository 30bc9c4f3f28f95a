// Package exchange turns a pipeline's verified OIDC token and its request
// into a credential: verify the token, decide with the policy, spend the
// token, record the lease, issue, activate the lease. Every failure before
// the lease is recorded leaves nothing behind; a failure after it leaves a
// lease the revoker or the sweep revokes. A certificate that is only
// signed (ssh, x509: issuers.Signer) is signed in memory first and released
// only after the spent token and its Active lease are recorded in one
// durable write, when the store can (lease.SpendingStore).
package exchange

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jit-policy/jit-policy/engine"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/oidc"
	"github.com/jit-policy/jit-policy/issuers"
)

// TokenVerifier turns a raw OIDC ID token into verified claims, or an error
// naming the failed check. It must be safe for concurrent use.
type TokenVerifier interface {
	Verify(ctx context.Context, raw string) (*oidc.Claims, error)
}

// Decider evaluates the policy. *engine.Engine implements it. It must be
// safe for concurrent use: the exchange decides concurrent requests with
// one Decider.
type Decider interface {
	Decide(ctx context.Context, in engine.Input) (engine.Decision, error)
}

// Limits returns the longest lifetime the configuration allows for a role
// of an issuer kind (the smaller of the role's and the issuer's max_ttl),
// or an error when the issuer or role is not configured.
type Limits func(issuer, role string) (time.Duration, error)

// Exchange issues credentials for pipeline requests. Its fields are set
// once; it is safe for concurrent use when they are.
type Exchange struct {
	Verifier TokenVerifier
	Decider  Decider
	Leases   lease.Store
	Replay   lease.ReplayGuard
	Issuers  map[string]issuers.Issuer
	Limits   Limits
	// OnFailure revokes a lease whose issuing failed after it was recorded;
	// nil leaves it to the sweep.
	OnFailure func(ctx context.Context, leaseID string) error
}

// Request is what a pipeline asks for.
type Request struct {
	Issuer      string
	Role        string
	TTL         time.Duration // zero: the maximum allowed
	Principals  []string
	PublicKey   []byte
	CSR         []byte
	GenerateKey bool
	DryRun      bool // decide and report; spend, record and issue nothing
}

// Result is the outcome of an exchange. Decision is always set once the
// token verified; Lease and Credential only when something was issued.
type Result struct {
	Decision   engine.Decision
	Lease      lease.Lease
	Credential issuers.Credential
}

// SpentTokenKept is how long past its expiry a spent token stays recorded
// as spent. A request that verified the token just before it expired
// spends it later, after the policy and the durable write; were the record
// dropped at the expiry, a replay verified in that same last moment would
// find no record and be spent again. The margin outlasts any request's
// deadline and the clock skew between processes sharing a lease store.
const SpentTokenKept = time.Hour

// ErrDenied is returned (wrapped) when the policy denies; Result.Decision
// holds every reason.
var ErrDenied = errors.New("denied by policy")

// ErrInvalidRequest marks (errors.Is) an error caused by the request's
// values: an issuer or role that is not configured, a lifetime that cannot
// be granted, a request the issuer's Check refuses. Nothing was recorded.
var ErrInvalidRequest = errors.New("invalid request")

// ErrPolicy marks (errors.Is) a failure to evaluate the policy (not a
// deny). Nothing was recorded.
var ErrPolicy = errors.New("policy evaluation failed")

// kindError gives err a kind (ErrInvalidRequest, ErrPolicy) for errors.Is
// without changing its message.
type kindError struct{ kind, err error }

func (e kindError) Error() string   { return e.err.Error() }
func (e kindError) Unwrap() []error { return []error{e.kind, e.err} }

func invalid(err error) error { return kindError{ErrInvalidRequest, err} }

// Issue runs one exchange at time now.
func (x *Exchange) Issue(ctx context.Context, rawToken string, req Request, now time.Time) (Result, error) {
	if _, _, err := x.target(req); err != nil {
		return Result{}, err
	}
	claims, err := x.Verifier.Verify(ctx, rawToken)
	if err != nil {
		return Result{}, fmt.Errorf("verifying the OIDC token: %w", err)
	}
	return x.IssueVerified(ctx, claims, rawToken, req, now)
}

// IssueVerified is Issue for a token the caller has already verified with
// x.Verifier (claims are what it returned for rawToken): the broker
// verifies first to learn the subject it rate-limits by, and must not pay
// for a second verification. The token is still spent (single use).
func (x *Exchange) IssueVerified(ctx context.Context, claims *oidc.Claims, rawToken string, req Request, now time.Time) (Result, error) {
	iss, maxTTL, err := x.target(req)
	if err != nil {
		return Result{}, err
	}
	in := pipelineInput(claims, req, now)
	d, err := x.Decider.Decide(ctx, in)
	res := Result{Decision: d}
	if err != nil {
		return res, kindError{ErrPolicy, fmt.Errorf("deciding: %w", err)}
	}
	if !d.Allowed {
		return res, ErrDenied
	}
	l, err := newLease(iss, claims.Subject, JobOf(claims), 0, req, d.ID, now)
	if err != nil {
		return res, err
	}
	ireq := issuers.Request{
		Lease: l, Now: now, TTL: req.TTL, Principals: req.Principals, Grant: d.Grant,
		PublicKey: req.PublicKey, CSR: req.CSR, GenerateKey: req.GenerateKey,
		Claims: claims.All, Token: rawToken,
	}
	return x.grant(ctx, res, grantRequest{
		issuer: iss, req: ireq, maxTTL: maxTTL,
		onceKey: claims.ReplayKey(rawToken), onceUntil: claims.Expiry.Add(SpentTokenKept), dryRun: req.DryRun,
	})
}

// target returns the issuer and the longest lifetime of the request's
// issuer and role, or an ErrInvalidRequest error.
func (x *Exchange) target(req Request) (issuers.Issuer, time.Duration, error) {
	iss, ok := x.Issuers[req.Issuer]
	if !ok {
		return nil, 0, invalid(fmt.Errorf("issuer %q is not configured: add it under issuers: in jit-policy.yaml", req.Issuer))
	}
	maxTTL, err := x.Limits(req.Issuer, req.Role)
	if err != nil {
		return nil, 0, invalid(err)
	}
	return iss, maxTTL, nil
}

// newLease returns the Pending lease of req, with the identity the
// issuer chooses for its credential before issuing
// (issuers.IdentityChooser), so a lease recorded before a crash already
// names what to revoke. An issuer without that capability gets the zero
// identity and reports its own from Issue.
func newLease(iss issuers.Issuer, subject string, job lease.Job, pr int, req Request, decisionID string, now time.Time) (lease.Lease, error) {
	l := lease.Lease{
		ID: newLeaseID(), Issuer: req.Issuer, Role: req.Role, Subject: subject, Job: job, PR: pr,
		DecisionID: decisionID, State: lease.Pending, IssuedAt: now.UTC(),
	}
	if c, ok := iss.(issuers.IdentityChooser); ok {
		id, err := c.ChooseIdentity(issuers.IdentityRequest{LeaseID: l.ID, Job: job, PR: pr, Subject: subject})
		if err != nil {
			return lease.Lease{}, fmt.Errorf("choosing the identity of the %s credential (nothing was recorded; retry the request): %w", req.Issuer, err)
		}
		l.Credential = id
	}
	return l, nil
}

// JobOf reads the job a token belongs to: GitHub's repository, run_id,
// run_attempt and check_run_id claims, or GitLab's project_path,
// pipeline_id and job_id.
func JobOf(c *oidc.Claims) lease.Job {
	j := JobOfClaims(c.All)
	j.Issuer = c.Issuer
	return j
}

// JobOfClaims is JobOf for a token's claims alone, as a client that only
// decodes the token (without verifying it) has them: the same job, with
// Issuer left empty.
func JobOfClaims(claims map[string]any) lease.Job {
	s := func(k string) string { return issuers.ClaimString(claims, k) }
	if s("project_path") != "" {
		return lease.Job{Provider: "gitlab", Repository: s("project_path"), RunID: s("pipeline_id"), JobID: s("job_id")}
	}
	return lease.Job{Provider: "github", Repository: s("repository"), RunID: s("run_id"), Attempt: s("run_attempt"), JobID: s("check_run_id")}
}

func pipelineInput(c *oidc.Claims, req Request, now time.Time) engine.Input {
	r := engine.Request{Issuer: req.Issuer, Role: req.Role, TTLSeconds: int64(req.TTL / time.Second), Principals: req.Principals}
	fields := map[string]any{}
	if len(req.PublicKey) > 0 {
		fields["public_key"] = string(req.PublicKey)
	}
	if req.GenerateKey {
		fields["generate_key"] = true
	}
	if len(fields) > 0 {
		r.Fields = fields
	}
	return engine.Input{Version: engine.Version, Kind: engine.KindPipeline, Now: now.UTC(), Request: r, Token: c.All}
}

// newLeaseID returns 16 random bytes in hex.
func newLeaseID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (Go ≥ 1.24)
	return hex.EncodeToString(b[:])
}
