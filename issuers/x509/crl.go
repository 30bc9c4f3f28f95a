package x509issuer

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
)

// SerialFromKeyID parses the serial back from a lease.Credential.KeyID set
// by Issue ("x509:" and the serial in hexadecimal).
func SerialFromKeyID(keyID string) (*big.Int, error) {
	h, ok := strings.CutPrefix(keyID, KeyIDPrefix)
	if !ok || h == "" || len(h) > 40 {
		return nil, fmt.Errorf("key id %q is not %s<hex serial>", keyID, KeyIDPrefix)
	}
	n, ok := new(big.Int).SetString(h, 16)
	if !ok || n.Sign() <= 0 {
		return nil, fmt.Errorf("key id %q is not %s<hex serial>", keyID, KeyIDPrefix)
	}
	return n, nil
}

// CRL returns a DER-encoded CRL signed by key as ca, with the given CRL
// number, ThisUpdate now and NextUpdate now+nextUpdate, revoking each of the
// revoked leases' serials at its RevokedAt (now when unset). The caller
// passes only this issuer's revoked leases and a number greater than any
// CRL it published before. A lease with no KeyID (revoked before its
// certificate was issued) is skipped; a KeyID that is not a serial is an
// error, so no CRL silently omits a certificate.
func CRL(ca *x509.Certificate, key crypto.Signer, revoked []lease.Lease, number *big.Int, now time.Time, nextUpdate time.Duration) ([]byte, error) {
	if ca == nil || key == nil {
		return nil, errors.New("crl: CA certificate and key are required")
	}
	if number == nil || number.Sign() < 0 {
		return nil, errors.New("crl: the CRL number must be non-negative")
	}
	if nextUpdate <= 0 {
		return nil, errors.New("crl: next update must be positive")
	}
	entries := make([]x509.RevocationListEntry, 0, len(revoked))
	for _, l := range revoked {
		if l.Credential.KeyID == "" {
			continue
		}
		serial, err := SerialFromKeyID(l.Credential.KeyID)
		if err != nil {
			return nil, fmt.Errorf("crl: lease %s: %w", l.ID, err)
		}
		at := l.RevokedAt
		if at.IsZero() {
			at = now
		}
		entries = append(entries, x509.RevocationListEntry{SerialNumber: serial, RevocationTime: at.UTC()})
	}
	tmpl := &x509.RevocationList{
		Number:                    number,
		ThisUpdate:                now.UTC(),
		NextUpdate:                now.Add(nextUpdate).UTC(),
		RevokedCertificateEntries: entries,
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca, key)
	if err != nil {
		return nil, fmt.Errorf("crl: %w", err)
	}
	return der, nil
}
