package ssh

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"
)

// RSA key sizes accepted for user and CA keys.
const (
	MinRSABits = 2048
	MaxRSABits = 16384
)

// ParsePublicKey parses the user key to certify: one authorized_keys line
// (blank and # comment lines around it are ignored) of an Ed25519, ECDSA or
// RSA (≥ MinRSABits) key, without options. DSA, short RSA, security-key
// (sk-) keys and certificates are refused.
func ParsePublicKey(line []byte) (ssh.PublicKey, error) {
	key, _, options, rest, err := ssh.ParseAuthorizedKey(line)
	if err != nil {
		if declaredType(line) == ssh.InsecureKeyAlgoDSA {
			return nil, errors.New("public key: DSA (ssh-dss) keys are insecure and refused; use Ed25519")
		}
		return nil, fmt.Errorf("public key: %w; pass one authorized_keys line such as \"ssh-ed25519 AAAA… you@host\"", err)
	}
	if len(options) > 0 {
		return nil, errors.New("public key: has authorized_keys options; pass the bare key line")
	}
	for l := range bytes.Lines(rest) {
		if l = bytes.TrimSpace(l); len(l) > 0 && l[0] != '#' {
			return nil, errors.New("public key: more than one line; pass exactly one key")
		}
	}
	if err := CheckKey(key); err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	return key, nil
}

// declaredType returns the first field of the first line that is neither
// blank nor a comment: the key type, unless the line starts with options.
func declaredType(in []byte) string {
	for l := range bytes.Lines(in) {
		if f := bytes.Fields(l); len(f) > 0 && f[0][0] != '#' {
			return string(f[0])
		}
	}
	return ""
}

// CheckKey refuses key types this issuer does not certify or sign with.
func CheckKey(key ssh.PublicKey) error {
	if _, ok := key.(*ssh.Certificate); ok {
		return errors.New("is a certificate, not a key; pass the key itself (the .pub file, not -cert.pub)")
	}
	switch t := key.Type(); t {
	case ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521:
		return nil
	case ssh.KeyAlgoRSA:
		ck, ok := key.(ssh.CryptoPublicKey)
		if !ok {
			return errors.New("RSA key without its parameters")
		}
		rk, ok := ck.CryptoPublicKey().(*rsa.PublicKey)
		if !ok {
			return errors.New("RSA key without its parameters")
		}
		if bits := rk.N.BitLen(); bits < MinRSABits || bits > MaxRSABits {
			return fmt.Errorf("RSA key of %d bits; use %d to %d bits, or better Ed25519", bits, MinRSABits, MaxRSABits)
		}
		return nil
	case ssh.InsecureKeyAlgoDSA:
		return errors.New("DSA (ssh-dss) keys are insecure and refused; use Ed25519")
	default:
		if strings.HasPrefix(t, "sk-") {
			return fmt.Errorf("security-key type %s is not supported; use Ed25519", t)
		}
		return fmt.Errorf("key type %s is not supported; use Ed25519, ECDSA or RSA", t)
	}
}

// generateKey returns a fresh Ed25519 key: its SSH public key and its
// private key as unencrypted OpenSSH PEM with comment.
func generateKey(comment string) (ssh.PublicKey, string, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, "", fmt.Errorf("generate key: %w", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, "", fmt.Errorf("generate key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(crypto.PrivateKey(priv), comment)
	if err != nil {
		return nil, "", fmt.Errorf("generate key: %w", err)
	}
	return sshPub, string(pem.EncodeToMemory(block)), nil
}

// caSigner checks the CA and, for RSA, returns a signer that signs with
// rsa-sha2-512 only.
func caSigner(ca ssh.Signer) (ssh.Signer, error) {
	if ca == nil {
		return nil, errors.New("ssh issuer: no CA signer")
	}
	if err := CheckKey(ca.PublicKey()); err != nil {
		return nil, fmt.Errorf("ssh issuer: CA key %w", err)
	}
	if ca.PublicKey().Type() != ssh.KeyAlgoRSA {
		return ca, nil
	}
	as, ok := ca.(ssh.AlgorithmSigner)
	if !ok {
		return nil, errors.New("ssh issuer: the RSA CA signer cannot choose its algorithm; it would sign with SHA-1 (ssh-rsa)")
	}
	if ms, ok := ca.(ssh.MultiAlgorithmSigner); ok && len(ms.Algorithms()) == 1 && ms.Algorithms()[0] == ssh.KeyAlgoRSASHA512 {
		return ca, nil
	}
	s, err := ssh.NewSignerWithAlgorithms(as, []string{ssh.KeyAlgoRSASHA512})
	if err != nil {
		return nil, fmt.Errorf("ssh issuer: RSA CA: %w", err)
	}
	return s, nil
}
