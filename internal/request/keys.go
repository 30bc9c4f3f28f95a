// Checks of key material in request files: recipients (SSH keys and age
// X25519 recipients), SSH public keys and CSRs.

package request

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"

	"golang.org/x/crypto/ssh"
)

// recipient accepts an ssh-ed25519 or ssh-rsa authorized_keys line or an age
// X25519 recipient.
func (v *validator) recipient(s string) {
	if strings.HasPrefix(s, "age1") {
		if !validAgeRecipient(s) {
			v.Fail("recipient", "is not an age X25519 recipient (age1 followed by 58 bech32 characters)")
		}
		return
	}
	key, err := parseKey(s)
	if err != nil {
		v.Fail("recipient", "must be an ssh-ed25519 or ssh-rsa public key or an age1… recipient: %v", err)
		return
	}
	if t := key.Type(); t != ssh.KeyAlgoED25519 && t != ssh.KeyAlgoRSA {
		v.Fail("recipient", "is a key of type %s; secrets can be encrypted only to ssh-ed25519 or ssh-rsa keys or age1… recipients", t)
	}
}

// parseKey parses one authorized_keys line holding a plain public key.
func parseKey(s string) (ssh.PublicKey, error) {
	if strings.ContainsAny(strings.TrimRight(s, "\r\n"), "\r\n") {
		return nil, errors.New("holds more than one line")
	}
	key, _, options, _, err := ssh.ParseAuthorizedKey([]byte(s))
	if err != nil {
		return nil, errors.New("not an authorized_keys line")
	}
	if len(options) > 0 {
		return nil, errors.New("authorized_keys options are not allowed")
	}
	if _, ok := key.(*ssh.Certificate); ok {
		return nil, errors.New("a certificate, not a public key")
	}
	return key, nil
}

// checkCSR accepts exactly one PEM CERTIFICATE REQUEST whose signature
// checks.
func checkCSR(s string) error {
	block, rest := pem.Decode([]byte(s))
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return errors.New("is not a PEM CERTIFICATE REQUEST")
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return errors.New("holds more than one PEM block; give one CERTIFICATE REQUEST")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return errors.New("cannot be parsed as a certificate request")
	}
	if err := csr.CheckSignature(); err != nil {
		return errors.New("has a signature that does not match its public key")
	}
	return nil
}

// bech32 is the bech32 alphabet, in value order.
const bech32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// validAgeRecipient reports whether s is a lower-case bech32 string with
// human-readable part "age", a valid checksum and 32 bytes of data: an age
// X25519 recipient.
func validAgeRecipient(s string) bool {
	const hrp = "age"
	if len(s) != len(hrp)+1+52+6 || !strings.HasPrefix(s, hrp+"1") {
		return false
	}
	values := make([]byte, 0, len(s)-len(hrp)-1)
	for _, c := range []byte(s[len(hrp)+1:]) {
		i := strings.IndexByte(bech32, c)
		if i < 0 {
			return false
		}
		values = append(values, byte(i))
	}
	// The checksum covers the expanded human-readable part and the data.
	expanded := make([]byte, 0, 2*len(hrp)+1+len(values))
	for _, c := range []byte(hrp) {
		expanded = append(expanded, c>>5)
	}
	expanded = append(expanded, 0)
	for _, c := range []byte(hrp) {
		expanded = append(expanded, c&31)
	}
	if polymod(append(expanded, values...)) != 1 {
		return false
	}
	// 52 five-bit groups are 260 bits: 32 bytes and 4 zero padding bits.
	return values[51]&0x0f == 0
}

func polymod(values []byte) uint32 {
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := uint32(1)
	for _, v := range values {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ uint32(v)
		for i := range 5 {
			if (top>>i)&1 == 1 {
				chk ^= gen[i]
			}
		}
	}
	return chk
}
