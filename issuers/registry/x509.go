package registry

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"time"

	"github.com/jit-policy/jit-policy/internal/cakey"
	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/internal/krl"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/issuers"
	x509issuer "github.com/jit-policy/jit-policy/issuers/x509"
)

// crlNextUpdate is how long a published CRL stays current. It is
// republished on every revoke and sweep; a relying party that checks CRLs
// refuses everything once its copy is past NextUpdate, so the sweep must
// run well inside it.
const crlNextUpdate = 24 * time.Hour

// x509Entry is the X.509 issuer, built on first use. It also publishes
// the CRL, which (unlike the KRL) the CA key must sign.
type x509Entry struct {
	lazy
	cfg    *config.X509Issuer
	getenv func(string) string
	crl    string
}

func newX509(ctx context.Context, c *config.X509Issuer, getenv func(string) string) (issuers.Issuer, error) {
	cert, key, err := x509CA(ctx, c, getenv)
	if err != nil {
		return nil, err
	}
	return x509issuer.New(c, cert, key)
}

// x509CA loads the CA certificate (file://) and its key (file:// or KMS).
func x509CA(ctx context.Context, c *config.X509Issuer, getenv func(string) string) (*x509.Certificate, crypto.Signer, error) {
	p, ok := config.FilePath(c.CACert)
	if !ok {
		return nil, nil, fmt.Errorf("ca_cert %q: use file://PATH", c.CACert)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the X.509 CA certificate: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, nil, fmt.Errorf("%s holds no PEM CERTIFICATE", p)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("parsing the X.509 CA certificate: %w", err)
	}
	key, err := cakey.Load(context.WithoutCancel(ctx), c.CAKey, getenv)
	if err != nil {
		return nil, nil, fmt.Errorf("loading the X.509 CA key: %w", err)
	}
	if err := checkCACert(p, cert, key); err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

// checkCACert returns an error unless key, the CA key, is the key of
// cert, the CA certificate read from ca_cert at p: certificates and CRLs
// signed by another key do not verify against ca_cert, so a stale ca_cert
// (left behind when ca_key was rotated) would publish CRLs relying parties
// reject. The error names both keys by the SHA-256 of their
// SubjectPublicKeyInfo.
func checkCACert(p string, cert *x509.Certificate, key crypto.Signer) error {
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if ok && pub.Equal(cert.PublicKey) {
		return nil
	}
	return fmt.Errorf("ca_cert %s (key %s) is not the certificate of ca_key (key %s): point ca_cert at the current CA's certificate, or ca_key at that certificate's key",
		p, spkiFingerprint(cert.PublicKey), spkiFingerprint(key.Public()))
}

// spkiFingerprint returns "SHA256:" and the hex SHA-256 of pub's DER
// SubjectPublicKeyInfo (as `openssl pkey -pubin -outform DER | sha256sum`
// prints it), or a placeholder when pub cannot be marshalled.
func spkiFingerprint(pub crypto.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return fmt.Sprintf("unsupported %T", pub)
	}
	sum := sha256.Sum256(der)
	return "SHA256:" + hex.EncodeToString(sum[:])
}

// Revoke has nothing to do at a backend: a certificate is revoked by the
// CRL that Publish writes.
func (*x509Entry) Revoke(context.Context, lease.Lease) error { return nil }

// Publish writes the CRL (List) to the crl: file, atomically.
func (e *x509Entry) Publish(ctx context.Context, revoked []lease.Lease) error {
	data, err := e.List(ctx, revoked)
	if err != nil {
		return err
	}
	return krl.WriteFile(e.crl, data)
}

// List signs the CRL (PEM, as openssl's -CRLfile reads by default) of
// every revoked, unexpired certificate. Its number is the current time in
// nanoseconds, or one more than the number of the CRL in the crl: file
// when that is not lower: a host whose clock is behind the one that
// published last still publishes an increasing number (see nextCRLNumber).
func (e *x509Entry) List(ctx context.Context, revoked []lease.Lease) ([]byte, error) {
	cert, key, err := x509CA(ctx, e.cfg, e.getenv)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	der, err := x509issuer.CRL(cert, key, revoked, nextCRLNumber(e.crl, now), now, crlNextUpdate)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), nil
}

// nextCRLNumber returns the number of the next CRL to replace the one at
// path: the larger of now in nanoseconds and one more than the previous
// CRL's number. No file at path means no previous CRL. A previous CRL that
// cannot be read or parsed, or that has no number, is ignored rather than
// failing the publish (the revocation must go out): the number is then
// now's, and the new CRL replaces the bad file. So is a previous number
// already at the largest a CRL number may be (20 octets, RFC 5280).
func nextCRLNumber(path string, now time.Time) *big.Int {
	n := big.NewInt(now.UnixNano())
	prev, err := previousCRLNumber(path)
	if err != nil || prev == nil {
		return n
	}
	next := new(big.Int).Add(prev, big.NewInt(1))
	if next.Cmp(n) > 0 && next.BitLen() <= maxCRLNumberBits {
		return next
	}
	return n
}

// maxCRLNumberBits is the bit length of the largest CRL number: a
// non-negative INTEGER of at most 20 octets (RFC 5280, 5.2.3).
const maxCRLNumberBits = 20*8 - 1

// previousCRLNumber returns the CRL number of the CRL (PEM or DER) at
// path; nil, nil when there is no file or the CRL has no number.
func previousCRLNumber(path string) (*big.Int, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the previous CRL: %w", err)
	}
	if block, _ := pem.Decode(data); block != nil {
		if block.Type != "X509 CRL" {
			return nil, fmt.Errorf("%s holds PEM %s, not X509 CRL", path, block.Type)
		}
		data = block.Bytes
	}
	crl, err := x509.ParseRevocationList(data)
	if err != nil {
		return nil, fmt.Errorf("parsing the previous CRL %s: %w", path, err)
	}
	return crl.Number, nil
}

// CA returns the CA certificate (PEM), read from ca_cert.
func (e *x509Entry) CA(context.Context) ([]byte, error) {
	p, ok := config.FilePath(e.cfg.CACert)
	if !ok {
		return nil, fmt.Errorf("ca_cert %q: use file://PATH", e.cfg.CACert)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("reading the X.509 CA certificate: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s holds no PEM CERTIFICATE", p)
	}
	return pem.EncodeToMemory(block), nil
}

// SignsOnly reports that X.509 issuing is signing in memory with the serial
// the exchange chose (issuers.Signer).
func (*x509Entry) SignsOnly() bool { return true }
