package issuers

import (
	"context"
	"time"

	"github.com/jit-policy/jit-policy/engine"
	"github.com/jit-policy/jit-policy/internal/lease"
)

// Issuer issues and revokes one kind of credential. Implementations are safe
// for concurrent use.
type Issuer interface {
	// Issue creates the credential for req.Lease, which is already recorded
	// as Pending with the identity (serial, key id) the credential must
	// carry. It clamps the request to the role, the issuer and the policy's
	// grant (DESIGN.md, "Decision"): never wider than any of them; a request
	// that clamps to nothing is an error, never "any".
	Issue(ctx context.Context, req Request) (Credential, error)
	// Revoke revokes the lease's credential at its backend. It is
	// idempotent: revoking what is already gone succeeds. Kinds revoked by
	// a published list (SSH's KRL, X.509's CRL) have nothing to do here; the
	// caller republishes the list from the lease store.
	Revoke(ctx context.Context, l lease.Lease) error
}

// Request is one credential to issue, after the policy allowed it. New
// fields may be added; implementations ignore what they do not use.
type Request struct {
	Lease lease.Lease
	// Now is the issue time; the credential is valid from about Now until
	// Now plus the clamped TTL.
	Now time.Time
	// TTL is the requested lifetime; zero asks for the maximum allowed.
	TTL time.Duration
	// Principals are the requested SSH principals (or other names).
	Principals []string
	// Grant is the policy's grant; nil when the policy set none.
	Grant *engine.Grant
	// PublicKey is the key to certify, in authorized_keys format (SSH) or
	// PEM (X.509); empty with GenerateKey.
	PublicKey []byte
	// CSR is a PEM certificate signing request (X.509).
	CSR []byte
	// GenerateKey asks the issuer to create a fresh key pair and return the
	// private key as a secret output.
	GenerateKey bool
	// Claims are the verified OIDC token's claims of a pipeline request
	// (nil for a pull-request request): facts such as repository, ref and
	// workflow that an issuer may stamp on the credential.
	Claims map[string]any
	// Token is the raw verified OIDC token, for issuers that exchange the
	// job's own token (AWS web-identity mode). It is a secret: never log it.
	Token string
}

// Signer is the optional capability of an issuer whose Issue only signs,
// in memory, with the identity it is given (an SSH serial and key id, an
// X.509 serial) and creates nothing anywhere else: the credential exists
// only in the returned value until the caller releases it. The exchange
// then signs first and records the lease (already Active) after, in one
// durable write with spending the token; a credential is never released
// before its lease is durable, and a process that dies before that leaves
// nothing behind. Issue must return exactly the identity it was given.
// SignsOnly must be safe for concurrent use: the caller asks it on every
// request.
type Signer interface {
	SignsOnly() bool
}

// Checker is the optional capability of an issuer that can refuse a
// request before anything is recorded: Check runs before the lease is
// stored or the token spent, so a request that could never be issued (a
// malformed session policy, a lifetime the backend does not accept) leaves
// no lease. Issue must still check what Check checks. Check must not call
// the backend, and must be safe for concurrent use (with itself and with
// Issue and Revoke).
type Checker interface {
	Check(ctx context.Context, req Request) error
}

// IdentityChooser is the optional capability of an issuer whose
// credential must carry an identity chosen before it is issued (an SSH
// serial and key id, an X.509 serial, an AWS session name), so that a
// lease recorded before a crash already names what to revoke. The caller
// calls ChooseIdentity once per lease, before recording anything, and
// records its result as the Pending lease's Credential; Issue then
// receives that lease and must issue with that identity. An issuer without
// this capability gets the zero lease.Credential and reports its identity
// from Issue (a PostgreSQL role name, an AWS AssumedRoleId).
//
// ChooseIdentity must be safe for concurrent use, must not contact the
// backend or need anything it holds (a CA key may not be loaded yet), and
// returns a fresh identity on every call: two leases never share one. It
// does not judge the request, which is Check's work: an error means the
// issuer could not choose an identity at all, and the caller then records
// and issues nothing.
type IdentityChooser interface {
	ChooseIdentity(req IdentityRequest) (lease.Credential, error)
}

// IdentityRequest is what an identity is chosen from: the lease about to
// be recorded. New fields may be added; implementations ignore what they
// do not use.
type IdentityRequest struct {
	// LeaseID is the id of the lease the identity is for.
	LeaseID string
	// Job is the pipeline job the lease is for (for a pull-request
	// request, its repository only).
	Job lease.Job
	// PR is the pull request the lease is for; zero for a pipeline job.
	PR int
	// Subject is the lease's subject: the OIDC token's sub claim, or the
	// requester's login for a pull-request request.
	Subject string
}

// Credential is what was issued.
type Credential struct {
	// Identity is the final credential identity to record on the lease.
	Identity lease.Credential
	// ExpiresAt is when the credential stops being valid.
	ExpiresAt time.Time
	// Outputs are named values for the caller (DESIGN.md, "Outputs").
	Outputs []Output
}

// Output is one named value of a credential. Secret values are masked
// before anything prints them and never logged.
type Output struct {
	Name   string
	Value  string
	Secret bool
}

// Output names shared by every issuer.
const (
	OutputLeaseID   = "lease-id"
	OutputExpiresAt = "expires-at"
)
