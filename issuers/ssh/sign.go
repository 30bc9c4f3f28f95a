package ssh

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/ssh"
)

// sign signs cert with the CA and returns it as an authorized_keys line
// (type and base64 blob, no comment, no newline).
//
// x/crypto's SignCert marshals the certificate to sign it; the signed
// bytes are the certificate's wire form up to its last field, the
// signature (PROTOCOL.certkeys). A recordingSigner keeps those bytes so
// the line is built by appending the signature instead of marshalling the
// whole certificate a second time (a fifth of the issue time). Tests check
// the result against ssh.MarshalAuthorizedKey.
func (i *Issuer) sign(cert *ssh.Certificate) (string, error) {
	rec := &recordingSigner{ca: i.ca, algorithms: i.algorithms}
	if err := cert.SignCert(rand.Reader, rec); err != nil {
		return "", fmt.Errorf("ssh issuer: sign certificate: %w", err)
	}
	if cert.Signature.Format == ssh.KeyAlgoRSA {
		// Never hand out a SHA-1 signature, whatever the signer did.
		return "", errors.New("ssh issuer: the CA signed with ssh-rsa (SHA-1); refusing the certificate")
	}
	if rec.calls != 1 {
		// Not the single signing call this shortcut relies on: marshal it all.
		return strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(cert)), "\n"), nil
	}
	return certLine(cert.Type(), rec.signed, cert.Signature), nil
}

// certLine returns "TYPE BASE64" for the certificate whose signed bytes
// are signed and whose signature is sig: the signed bytes followed by the
// signature as an SSH string (RFC 4251 encoding of RFC 4253's signature
// blob: string format, string blob, then any rest).
func certLine(typ string, signed []byte, sig *ssh.Signature) string {
	sigLen := 4 + len(sig.Format) + 4 + len(sig.Blob) + len(sig.Rest)
	blob := make([]byte, 0, len(signed)+4+sigLen)
	blob = append(blob, signed...)
	blob = binary.BigEndian.AppendUint32(blob, uint32(sigLen))
	blob = binary.BigEndian.AppendUint32(blob, uint32(len(sig.Format)))
	blob = append(blob, sig.Format...)
	blob = binary.BigEndian.AppendUint32(blob, uint32(len(sig.Blob)))
	blob = append(blob, sig.Blob...)
	blob = append(blob, sig.Rest...)
	line := make([]byte, len(typ)+1+base64.StdEncoding.EncodedLen(len(blob)))
	n := copy(line, typ)
	line[n] = ' '
	base64.StdEncoding.Encode(line[n+1:], blob)
	return string(line)
}

// signingAlgorithms returns the algorithms the CA signs with: its own list
// when it has one (an RSA CA is restricted to rsa-sha2-512 by caSigner),
// else its key type (Ed25519, ECDSA).
func signingAlgorithms(ca ssh.Signer) []string {
	if ms, ok := ca.(ssh.MultiAlgorithmSigner); ok {
		return ms.Algorithms()
	}
	return []string{ca.PublicKey().Type()}
}

// recordingSigner signs with the CA and keeps the data it signed. One is
// made per certificate, so it needs no locking.
type recordingSigner struct {
	ca         ssh.Signer
	algorithms []string
	signed     []byte
	calls      int
}

var _ ssh.MultiAlgorithmSigner = (*recordingSigner)(nil)

func (r *recordingSigner) PublicKey() ssh.PublicKey { return r.ca.PublicKey() }
func (r *recordingSigner) Algorithms() []string     { return r.algorithms }

func (r *recordingSigner) Sign(rand io.Reader, data []byte) (*ssh.Signature, error) {
	return r.SignWithAlgorithm(rand, data, r.algorithms[0])
}

func (r *recordingSigner) SignWithAlgorithm(rand io.Reader, data []byte, algorithm string) (*ssh.Signature, error) {
	r.signed, r.calls = data, r.calls+1
	if as, ok := r.ca.(ssh.AlgorithmSigner); ok {
		return as.SignWithAlgorithm(rand, data, algorithm)
	}
	if algorithm != r.ca.PublicKey().Type() {
		return nil, fmt.Errorf("ssh issuer: the CA signer cannot sign with %s", algorithm)
	}
	return r.ca.Sign(rand, data)
}
