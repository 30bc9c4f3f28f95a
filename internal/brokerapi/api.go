// Package brokerapi is the wire contract of `jit-policy serve` (the
// broker), shared by the server (internal/broker) and its client
// (internal/brokerclient): paths, request and response bodies, errors. All
// bodies are JSON; the job's OIDC ID token travels only in the
// Authorization header ("Bearer <token>"), never in a body or a URL.
package brokerapi

import "time"

// Paths of the API (version 1).
const (
	PathIssue  = "/v1/issue"  // POST IssueRequest → IssueResponse
	PathRevoke = "/v1/revoke" // POST RevokeRequest → RevokeResponse
	// Public material, GET, no authentication.
	PathSSHCA   = "/v1/ssh/ca.pub"      // the SSH CA public key (authorized_keys line)
	PathKRL     = "/v1/ssh/revoked.krl" // the KRL (binary, application/octet-stream)
	PathX509CA  = "/v1/x509/ca.pem"     // the X.509 CA certificate (PEM)
	PathCRL     = "/v1/x509/crl.pem"    // the CRL (PEM)
	PathHealth  = "/healthz"
	PathReady   = "/readyz"
	PathMetrics = "/metrics"
)

// MaxRequestBytes bounds every request body.
const MaxRequestBytes = 64 << 10

// IssueRequest asks for one credential. The token proves the job.
type IssueRequest struct {
	Issuer     string   `json:"issuer"`
	Role       string   `json:"role"`
	TTLSeconds int64    `json:"ttl_seconds,omitempty"` // 0: the longest allowed
	Principals []string `json:"principals,omitempty"`
	PublicKey  string   `json:"public_key,omitempty"` // SSH: authorized_keys line; X.509: PEM
	CSR        string   `json:"csr,omitempty"`        // X.509: PEM certificate request
	// GenerateKey asks the broker to generate the key pair; the private key
	// comes back as a secret output. Prefer sending a public key.
	GenerateKey bool `json:"generate_key,omitempty"`
}

// IssueResponse is what was issued (DESIGN.md, "Outputs").
type IssueResponse struct {
	LeaseID   string    `json:"lease_id"`
	ExpiresAt time.Time `json:"expires_at"`
	// Outputs by name; Secret names those to mask.
	Outputs map[string]string `json:"outputs"`
	Secret  []string          `json:"secret,omitempty"`
}

// RevokeRequest revokes leases of the token's own job: each id must name
// a lease whose job (repository, run id, attempt) is the token's.
type RevokeRequest struct {
	LeaseIDs []string `json:"lease_ids"`
}

// RevokeResponse says what happened to each lease.
type RevokeResponse struct {
	Revoked []string `json:"revoked"`
	Skipped []string `json:"skipped,omitempty"` // already revoked, or in Pending
	// Pending are leases another process is revoking right now; they are
	// also in Skipped, for clients older than this field. If that process
	// died, the lease stays live until a sweep takes it over.
	Pending []string `json:"pending,omitempty"`
}

// Error is the body of every 4xx and 5xx response: a plain message for
// the caller (details stay in the broker's log).
type Error struct {
	Error string `json:"error"`
	// Reasons are the policy's deny reasons (403 on /v1/issue).
	Reasons []string `json:"reasons,omitempty"`
}
