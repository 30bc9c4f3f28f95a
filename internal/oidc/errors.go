package oidc

import (
	"errors"
	"fmt"
)

// Each check that Verify makes fails with its own sentinel error, wrapped in
// a message that names the check; test for one with errors.Is. No error ever
// holds the raw token.
var (
	// ErrMalformed: the token is too large, not a JWS in compact form, or
	// its header or claims are not well-formed JSON of the expected types.
	ErrMalformed = errors.New("malformed token")
	// ErrAlgorithm: the header's alg is not one of RS256, RS384, RS512,
	// ES256, ES384 or PS256 (none and HS* are always refused).
	ErrAlgorithm = errors.New("signing algorithm not allowed")
	// ErrIssuerNotAllowed: the token's iss is not exactly an allowlisted
	// issuer. Nothing is fetched for such a token.
	ErrIssuerNotAllowed = errors.New("issuer not allowed")
	// ErrIssuerMismatch: the issuer's discovery document names another
	// issuer than the one configured (and so than the token's iss).
	ErrIssuerMismatch = errors.New("issuer mismatch")
	// ErrDiscovery: the discovery document or the JWKS could not be fetched
	// or used.
	ErrDiscovery = errors.New("issuer discovery failed")
	// ErrUnknownKey: the token's kid is not in the issuer's JWKS.
	ErrUnknownKey = errors.New("unknown signing key")
	// ErrSignature: the signature does not verify with the issuer's key.
	ErrSignature = errors.New("invalid signature")
	// ErrAudience: aud does not contain the configured audience.
	ErrAudience = errors.New("wrong audience")
	// ErrExpired: exp has passed, or is missing.
	ErrExpired = errors.New("token expired")
	// ErrNotYetValid: nbf or iat is in the future (beyond the allowed skew).
	ErrNotYetValid = errors.New("token not yet valid")
)

// failf wraps sentinel as "oidc: <sentinel>: <detail>".
func failf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("oidc: %w: "+format, append([]any{sentinel}, args...)...)
}

// maxDetail bounds how much of an underlying error (which may quote a
// server's response body) goes into a message.
const maxDetail = 200

// short returns err's message cut to maxDetail bytes.
func short(err error) string {
	s := err.Error()
	if len(s) > maxDetail {
		s = s[:maxDetail] + "…"
	}
	return s
}

// quote returns s quoted and cut to 100 bytes, for untrusted claim values.
func quote(s string) string {
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// timeFormat is how times appear in error messages.
const timeFormat = "2006-01-02T15:04:05Z"
