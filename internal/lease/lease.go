// Package lease defines jit-policy's leases — the record of every issued
// credential: who holds it, for which job or pull request, until when — and
// the Store contract every lease backend implements. Backends live in
// subpackages (sqlitestore for file://, pgstore for postgres://); leasetest holds the
// contract suite that every backend must pass.
package lease

import (
	"context"
	"errors"
	"time"
)

// State is where a lease is in its life.
type State string

// Lease states. A lease is put as Pending before its credential exists, so
// a process that dies while issuing leaves a record the sweep can revoke.
const (
	Pending  State = "pending"  // recorded; the credential may or may not exist
	Active   State = "active"   // issued
	Revoking State = "revoking" // claimed by one revoker
	Revoked  State = "revoked"  // revoked (or known never to have been issued)
)

// Revokers: who revoked a lease.
const (
	ByPostStep = "post-step"
	ByPRClosed = "pr-closed"
	BySweep    = "sweep"
	ByManual   = "manual"
)

// Job identifies the CI job a pipeline lease belongs to. Provider names the
// CI provider whose API knows the job: "github" or "gitlab". JobID is
// GitHub's check_run_id claim or GitLab's job_id; empty when the token lacks
// it. Issuer is the OIDC issuer (iss) of the token the lease was issued
// for, so that a token of another trusted issuer whose claims mimic the
// job is not taken for it; empty for pull-request leases and for leases
// recorded before this field existed.
type Job struct {
	Issuer     string `json:"issuer,omitempty"`
	Provider   string `json:"provider,omitempty"`
	Repository string `json:"repository,omitempty"`
	RunID      string `json:"run_id,omitempty"`
	Attempt    string `json:"attempt,omitempty"`
	JobID      string `json:"job_id,omitempty"`
}

// Credential names what was issued, so it can be revoked: an SSH or X.509
// serial and key id, an AWS session name and AssumedRoleId, a PostgreSQL
// role name. Serial and KeyID are chosen before issuing.
type Credential struct {
	Serial        uint64 `json:"serial,omitempty"`
	KeyID         string `json:"key_id,omitempty"`
	SessionName   string `json:"session_name,omitempty"`
	AssumedRoleID string `json:"assumed_role_id,omitempty"`
	RoleName      string `json:"role_name,omitempty"`
}

// Lease is one credential's record.
type Lease struct {
	ID         string     `json:"id"`
	Issuer     string     `json:"issuer"`
	Role       string     `json:"role"`
	Subject    string     `json:"subject"`
	Job        Job        `json:"job"`
	PR         int        `json:"pr,omitempty"`
	Credential Credential `json:"credential"`
	DecisionID string     `json:"decision_id,omitempty"`
	State      State      `json:"state"`
	IssuedAt   time.Time  `json:"issued_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	RevokedAt  time.Time  `json:"revoked_at,omitzero"`
	RevokedBy  string     `json:"revoked_by,omitempty"`
	// ClaimedAt is when the claim was made, on the lease Claim returns:
	// it names that claim, so that Release undoes it and no later one.
	// Get and List leave it zero.
	ClaimedAt time.Time `json:"claimed_at,omitzero"`
}

// Filter selects leases in List. Zero fields match everything; set fields
// must all match.
type Filter struct {
	States        []State
	Issuer        string
	Subject       string
	Job           Job // non-empty fields must match exactly
	PR            int
	ExpiresBefore time.Time // leases whose ExpiresAt is before this
	ExpiresAfter  time.Time // leases whose ExpiresAt is this or later
	IssuedBefore  time.Time // leases whose IssuedAt is before this
}

// Errors a Store returns; test with errors.Is.
var (
	// ErrNotFound: no lease has the id, or none in the state the call
	// needs.
	ErrNotFound = errors.New("lease not found")
	// ErrExists: Put of an id already recorded.
	ErrExists = errors.New("lease already exists")
	// ErrClaimed: another revoker holds the lease, or it is already
	// revoked; the caller must not revoke it (or, from Release, undo the
	// claim: another revoker has taken it over).
	ErrClaimed = errors.New("lease is already claimed for revocation or revoked")
	// ErrReplayed: the token was already exchanged.
	ErrReplayed = errors.New("token was already used")
)

// Store keeps leases. Implementations are safe for concurrent use by many
// goroutines and, for durable backends, by many processes at once; each
// method is atomic.
type Store interface {
	// Put records a new lease in state Pending, before its credential
	// exists. ErrExists if the id is taken.
	Put(ctx context.Context, l Lease) error
	// Activate moves a Pending lease to Active and records the final
	// credential identity. ErrNotFound if there is no such pending lease.
	Activate(ctx context.Context, id string, cred Credential) error
	// Get returns one lease, or ErrNotFound.
	Get(ctx context.Context, id string) (Lease, error)
	// List returns the leases that match f, oldest first.
	List(ctx context.Context, f Filter) ([]Lease, error)
	// Claim moves a Pending or Active lease to Revoking and returns it,
	// its ClaimedAt naming this claim, so that of two concurrent revokers
	// exactly one proceeds; the other gets ErrClaimed. A Revoking lease
	// whose claim is older than staleAfter may be claimed again (its
	// revoker died, or hangs): the new claim replaces the old one.
	Claim(ctx context.Context, id string, staleAfter time.Duration) (Lease, error)
	// MarkRevoked moves a Revoking lease to Revoked, recording who and when,
	// whoever's claim it is under (a revoker whose claim was taken over
	// still revoked the credential). Marking an already revoked lease
	// succeeds (idempotent).
	MarkRevoked(ctx context.Context, id, by string, at time.Time) error
	// Release returns a lease claimed by Claim to its state before the
	// claim, after a failed revocation, so a later revoke or sweep retries
	// it. claimed is the lease Claim returned: Release acts only while the
	// lease is still Revoking under that claim (its ID and ClaimedAt). If
	// another revoker has taken the claim over since, Release changes
	// nothing and returns ErrClaimed (that revoker finishes the lease); if
	// the lease is no longer Revoking (revoked, released) or does not
	// exist, it changes nothing and returns ErrNotFound. A claimed without
	// ClaimedAt (not from Claim) is refused with an error.
	Release(ctx context.Context, claimed Lease) error
	// Close releases the store's resources.
	Close() error
}

// SpendingStore is the optional capability of a store that is also the
// ReplayGuard and can spend a token and record a new lease in one atomic,
// durable write: both happened, or neither (with UseToken's or Put's
// error). It saves a commit per issue. Unlike Put, it also takes a lease
// already Active: a credential signed in memory (an SSH or X.509
// certificate, which exists nowhere else) and released only once its lease
// is recorded.
type SpendingStore interface {
	SpendAndPut(ctx context.Context, tokenKey string, tokenExpiry time.Time, l Lease) error
}

// ReplayGuard makes tokens single-use. Stores implement it beside Store;
// it must be safe for concurrent use, and two uses of one key, from any
// processes sharing the store, must see exactly one succeed.
type ReplayGuard interface {
	// UseToken records that the token with this key (its jti, else a hash
	// of it) was exchanged; a second use before expiresAt returns
	// ErrReplayed. Keys may be forgotten after expiresAt.
	UseToken(ctx context.Context, key string, expiresAt time.Time) error
}
