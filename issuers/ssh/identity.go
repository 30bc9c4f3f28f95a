package ssh

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"

	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/issuers"
)

var _ issuers.IdentityChooser = (*Issuer)(nil)

// ChooseIdentity returns the serial and key id the lease's certificate
// will carry (issuers.IdentityChooser), as [NewIdentity] does; it needs
// nothing of the issuer.
func (*Issuer) ChooseIdentity(req issuers.IdentityRequest) (lease.Credential, error) {
	return NewIdentity(req)
}

// NewIdentity returns a certificate identity for req's lease: a random
// non-zero 63-bit serial and the key id jit/<lease>/<repository>/<run
// id>/<attempt>, or jit/<lease>/pr/<n>/<subject> for a pull request. The
// KRL revokes by both. It is [Issuer.ChooseIdentity] for callers that hold
// no built Issuer (its CA key not loaded yet).
func NewIdentity(req issuers.IdentityRequest) (lease.Credential, error) {
	keyID := fmt.Sprintf("jit/%s/%s/%s/%s", req.LeaseID, req.Job.Repository, req.Job.RunID, req.Job.Attempt)
	if req.PR > 0 {
		keyID = fmt.Sprintf("jit/%s/pr/%d/%s", req.LeaseID, req.PR, req.Subject)
	}
	return lease.Credential{Serial: newSerial(), KeyID: keyID}, nil
}

// newSerial returns a random non-zero 63-bit serial.
func newSerial() uint64 {
	for {
		var b [8]byte
		_, _ = rand.Read(b[:]) // never fails (Go ≥ 1.24)
		if s := binary.BigEndian.Uint64(b[:]) >> 1; s != 0 {
			return s
		}
	}
}
