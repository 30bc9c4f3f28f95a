package aws

import (
	"fmt"

	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/issuers"
	x509issuer "github.com/jit-policy/jit-policy/issuers/x509"
)

var _ issuers.IdentityChooser = (*Issuer)(nil)

// ChooseIdentity returns the session name the lease's AWS session will
// carry, and the certificate serial a certificate-mode role will use
// (issuers.IdentityChooser), as [NewIdentity] does; it needs nothing of
// the issuer.
func (*Issuer) ChooseIdentity(req issuers.IdentityRequest) (lease.Credential, error) {
	return NewIdentity(req)
}

// NewIdentity returns an AWS session identity for req's lease: its
// [SessionName], which an aws:userid revocation can deny before the
// session exists, and a KeyID holding a fresh X.509 serial
// ([x509issuer.NewKeyID]) for certificate-mode roles, whose certificate
// serial Roles Anywhere uses as the session name. It is
// [Issuer.ChooseIdentity] for callers that hold no built Issuer.
func NewIdentity(req issuers.IdentityRequest) (lease.Credential, error) {
	keyID, err := x509issuer.NewKeyID()
	if err != nil {
		return lease.Credential{}, fmt.Errorf("aws issuer: choosing the certificate serial: %w", err)
	}
	return lease.Credential{SessionName: SessionName(req.LeaseID, req.Job, req.PR), KeyID: keyID}, nil
}
