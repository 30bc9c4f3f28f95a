package x509issuer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
)

// Key size limits for RSA keys.
const (
	minRSABits = 2048
	maxRSABits = 8192
)

// maxCSRBytes bounds the PEM CSR read by ParseCSR.
const maxCSRBytes = 64 << 10

var (
	oidBasicConstraints = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidKeyUsage         = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidExtKeyUsage      = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidEKUClientAuth    = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 2}
)

// Key usage bits (RFC 5280, 4.2.1.3) a CSR may not request.
const (
	bitKeyCertSign = 5
	bitCRLSign     = 6
)

// ParseCSR parses one PEM "CERTIFICATE REQUEST", checks its signature (the
// proof of possession of its key), and refuses weak keys and requests for a
// CA, for certificate or CRL signing, or for extended key usages other than
// clientAuth. It returns the request; callers use only its public key.
func ParseCSR(data []byte) (*x509.CertificateRequest, error) {
	if len(data) > maxCSRBytes {
		return nil, fmt.Errorf("csr: larger than %d bytes", maxCSRBytes)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("csr: no PEM block found; pass a PEM CERTIFICATE REQUEST")
	}
	if block.Type != "CERTIFICATE REQUEST" {
		return nil, fmt.Errorf("csr: PEM block is %q, want \"CERTIFICATE REQUEST\"", block.Type)
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("csr: %w", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("csr: bad signature (no proof of possession of the key): %w", err)
	}
	if err := checkKey(csr.PublicKey); err != nil {
		return nil, fmt.Errorf("csr: %w", err)
	}
	if err := checkRequestedExtensions(csr); err != nil {
		return nil, fmt.Errorf("csr: %w", err)
	}
	return csr, nil
}

// checkKey refuses keys too weak to certify.
func checkKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n < minRSABits || n > maxRSABits {
			return fmt.Errorf("RSA key of %d bits refused; use %d to %d bits", n, minRSABits, maxRSABits)
		}
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() && k.Curve != elliptic.P384() {
			return fmt.Errorf("ECDSA curve %s refused; use P-256 or P-384", k.Curve.Params().Name)
		}
	case ed25519.PublicKey:
	default:
		return fmt.Errorf("key type %T refused; use ECDSA P-256/P-384, RSA >= 2048 bits or Ed25519", pub)
	}
	return nil
}

// checkRequestedExtensions refuses a CSR whose requested extensions ask for
// a CA, for certificate or CRL signing, or for an extended key usage other
// than clientAuth. Other requested extensions are ignored (never copied).
func checkRequestedExtensions(csr *x509.CertificateRequest) error {
	for _, ext := range csr.Extensions {
		switch {
		case ext.Id.Equal(oidBasicConstraints):
			var bc struct {
				IsCA       bool `asn1:"optional"`
				MaxPathLen int  `asn1:"optional,default:-1"`
			}
			if rest, err := asn1.Unmarshal(ext.Value, &bc); err != nil || len(rest) != 0 {
				return errors.New("malformed basicConstraints extension refused")
			}
			if bc.IsCA {
				return errors.New("request for a CA certificate (basicConstraints CA:TRUE) refused")
			}
		case ext.Id.Equal(oidKeyUsage):
			var ku asn1.BitString
			if rest, err := asn1.Unmarshal(ext.Value, &ku); err != nil || len(rest) != 0 {
				return errors.New("malformed keyUsage extension refused")
			}
			if ku.At(bitKeyCertSign) != 0 || ku.At(bitCRLSign) != 0 {
				return errors.New("request for keyCertSign or cRLSign key usage refused")
			}
		case ext.Id.Equal(oidExtKeyUsage):
			var ekus []asn1.ObjectIdentifier
			if rest, err := asn1.Unmarshal(ext.Value, &ekus); err != nil || len(rest) != 0 {
				return errors.New("malformed extendedKeyUsage extension refused")
			}
			for _, eku := range ekus {
				if !eku.Equal(oidEKUClientAuth) {
					return fmt.Errorf("extended key usage %s refused; only clientAuth is issued", eku)
				}
			}
		}
	}
	return nil
}
