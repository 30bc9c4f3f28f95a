package registry

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
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
	return cert, key, nil
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
// every revoked, unexpired certificate, with an increasing number (the
// time in nanoseconds).
func (e *x509Entry) List(ctx context.Context, revoked []lease.Lease) ([]byte, error) {
	cert, key, err := x509CA(ctx, e.cfg, e.getenv)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	der, err := x509issuer.CRL(cert, key, revoked, big.NewInt(now.UnixNano()), now, crlNextUpdate)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), nil
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
