package x509issuer

import (
	"fmt"

	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/issuers"
)

var _ issuers.IdentityChooser = (*Issuer)(nil)

// ChooseIdentity returns the serial the lease's certificate will carry
// (issuers.IdentityChooser), as [NewIdentity] does; it needs nothing of
// the issuer.
func (*Issuer) ChooseIdentity(req issuers.IdentityRequest) (lease.Credential, error) {
	return NewIdentity(req)
}

// NewIdentity returns a certificate identity: a KeyID holding a fresh
// random serial ([NewKeyID]), which Issue then uses and the CRL revokes.
// It is [Issuer.ChooseIdentity] for callers that hold no built Issuer (its
// CA key not loaded yet).
func NewIdentity(issuers.IdentityRequest) (lease.Credential, error) {
	keyID, err := NewKeyID()
	if err != nil {
		return lease.Credential{}, fmt.Errorf("x509 issuer: choosing the certificate serial: %w", err)
	}
	return lease.Credential{KeyID: keyID}, nil
}
