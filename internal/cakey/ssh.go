package cakey

import (
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/ssh"
)

// NewSSHSigner wraps a CA key for golang.org/x/crypto/ssh, e.g. for
// (*ssh.Certificate).SignCert. An RSA key signs with rsa-sha2-512 only (never
// ssh-rsa/SHA-1 nor rsa-sha2-256); ECDSA and Ed25519 keys sign with their one
// algorithm. The key must be of an allowed type and size (see Load).
func NewSSHSigner(s crypto.Signer) (ssh.Signer, error) {
	if s == nil {
		return nil, errors.New("cakey: NewSSHSigner: nil signer")
	}
	pub := s.Public()
	if err := checkPublic(pub); err != nil {
		return nil, fmt.Errorf("cakey: SSH CA key: %w", err)
	}
	signer, err := ssh.NewSignerFromSigner(s)
	if err != nil {
		return nil, fmt.Errorf("cakey: SSH CA key: %w", err)
	}
	if _, ok := pub.(*rsa.PublicKey); !ok {
		return signer, nil
	}
	as, ok := signer.(ssh.AlgorithmSigner)
	if !ok {
		return nil, errors.New("cakey: SSH CA key: the ssh package cannot choose the RSA signature algorithm")
	}
	ms, err := ssh.NewSignerWithAlgorithms(as, []string{ssh.KeyAlgoRSASHA512})
	if err != nil {
		return nil, fmt.Errorf("cakey: SSH CA key: %w", err)
	}
	return rsaSHA512Signer{ms}, nil
}

// rsaSHA512Signer makes plain Sign use rsa-sha2-512 too: the signer from
// ssh.NewSignerWithAlgorithms restricts SignWithAlgorithm (and so SignCert)
// but its Sign still signs with ssh-rsa (SHA-1).
type rsaSHA512Signer struct {
	ssh.MultiAlgorithmSigner
}

// Sign signs data with rsa-sha2-512.
func (s rsaSHA512Signer) Sign(rand io.Reader, data []byte) (*ssh.Signature, error) {
	return s.SignWithAlgorithm(rand, data, ssh.KeyAlgoRSASHA512)
}
