package registry

import (
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/issuers"
	awsissuer "github.com/jit-policy/jit-policy/issuers/aws"
	sshissuer "github.com/jit-policy/jit-policy/issuers/ssh"
	x509issuer "github.com/jit-policy/jit-policy/issuers/x509"
)

// The entries choose their credentials' identities without building their
// issuers (issuers.IdentityChooser): no CA key is loaded to choose one.
var (
	_ issuers.IdentityChooser = (*sshEntry)(nil)
	_ issuers.IdentityChooser = (*x509Entry)(nil)
	_ issuers.IdentityChooser = (*awsEntry)(nil)
)

// ChooseIdentity returns the certificate's serial and key id
// (sshissuer.NewIdentity).
func (*sshEntry) ChooseIdentity(req issuers.IdentityRequest) (lease.Credential, error) {
	return sshissuer.NewIdentity(req)
}

// ChooseIdentity returns the certificate's serial, as a key id
// (x509issuer.NewIdentity).
func (*x509Entry) ChooseIdentity(req issuers.IdentityRequest) (lease.Credential, error) {
	return x509issuer.NewIdentity(req)
}

// ChooseIdentity returns the session name and, for certificate-mode
// roles, the certificate's serial (awsissuer.NewIdentity).
func (*awsEntry) ChooseIdentity(req issuers.IdentityRequest) (lease.Credential, error) {
	return awsissuer.NewIdentity(req)
}
