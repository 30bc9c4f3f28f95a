package x509issuer

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"time"

	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/issuers"
)

// Output names of the x509 issuer, besides issuers.OutputLeaseID and
// issuers.OutputExpiresAt.
const (
	OutputCertificate   = "certificate"    // the certificate, PEM (not secret)
	OutputCACertificate = "ca-certificate" // the issuing CA's certificate, PEM
	OutputPrivateKey    = "private-key"    // with GenerateKey: PKCS#8 PEM (secret)
)

// KeyIDPrefix starts the lease.Credential.KeyID of every issued
// certificate; the serial's lower-case hex follows.
const KeyIDPrefix = "x509:"

// backdate is how long before the issue time a certificate becomes valid,
// to absorb clock skew.
const backdate = 30 * time.Second

// Issuer signs X.509 client certificates. It is safe for concurrent use.
type Issuer struct {
	caCert *x509.Certificate
	caKey  crypto.Signer
	caPEM  string
	maxTTL time.Duration
	roles  map[string]*role
}

var _ issuers.Issuer = (*Issuer)(nil)

// New returns an issuer for cfg that signs with caKey as caCert. It checks
// that caCert is a CA (basicConstraints CA:TRUE) allowed keyCertSign and
// cRLSign, that caKey is its key, that max_ttl is positive and that there is
// at least one role, each with a common name.
func New(cfg *config.X509Issuer, caCert *x509.Certificate, caKey crypto.Signer) (*Issuer, error) {
	if cfg == nil {
		return nil, errors.New("x509 issuer: not configured")
	}
	if caCert == nil || caKey == nil {
		return nil, errors.New("x509 issuer: CA certificate and key are required")
	}
	if !caCert.BasicConstraintsValid || !caCert.IsCA {
		return nil, errors.New("x509 issuer: the CA certificate is not a CA (basicConstraints CA:TRUE)")
	}
	const need = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	if caCert.KeyUsage&need != need {
		return nil, errors.New("x509 issuer: the CA certificate lacks the keyCertSign and cRLSign key usages")
	}
	pub, ok := caKey.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(caCert.PublicKey) {
		return nil, errors.New("x509 issuer: the CA key does not match the CA certificate")
	}
	if cfg.MaxTTL.Duration <= 0 {
		return nil, errors.New("x509 issuer: max_ttl must be positive")
	}
	if len(cfg.Roles) == 0 {
		return nil, errors.New("x509 issuer: no roles")
	}
	i := &Issuer{
		caCert: caCert,
		caKey:  caKey,
		caPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caCert.Raw})),
		maxTTL: cfg.MaxTTL.Duration,
		roles:  make(map[string]*role, len(cfg.Roles)),
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.Roles)) {
		r, err := compileRole(cfg.Roles[name])
		if err != nil {
			return nil, fmt.Errorf("x509 issuer: role %s: %w", name, err)
		}
		i.roles[name] = r
	}
	return i, nil
}

// Issue signs a client certificate for req.Lease: for the key of req.CSR or,
// with req.GenerateKey, a fresh ECDSA P-256 key. Outputs: lease-id,
// expires-at, certificate, ca-certificate, and private-key (secret) when
// generated. The serial is the one req.Lease.Credential.KeyID names (see
// NewKeyID), or random when that is empty; the Identity's KeyID is
// KeyIDPrefix + the serial's hex.
func (i *Issuer) Issue(ctx context.Context, req issuers.Request) (issuers.Credential, error) {
	if err := ctx.Err(); err != nil {
		return issuers.Credential{}, err
	}
	r, ok := i.roles[req.Lease.Role]
	if !ok {
		return issuers.Credential{}, fmt.Errorf("x509 issuer: unknown role %q", req.Lease.Role)
	}
	tmpl, err := i.template(r, req)
	if err != nil {
		return issuers.Credential{}, fmt.Errorf("x509 issuer, role %s: %w", req.Lease.Role, err)
	}
	pub, privatePEM, err := subjectKey(req)
	if err != nil {
		return issuers.Credential{}, fmt.Errorf("x509 issuer: %w", err)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, i.caCert, pub, i.caKey)
	if err != nil {
		return issuers.Credential{}, fmt.Errorf("x509 issuer: sign: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	outs := []issuers.Output{
		{Name: issuers.OutputLeaseID, Value: req.Lease.ID},
		{Name: issuers.OutputExpiresAt, Value: tmpl.NotAfter.UTC().Format(time.RFC3339)},
		{Name: OutputCertificate, Value: string(certPEM)},
		{Name: OutputCACertificate, Value: i.caPEM},
	}
	if privatePEM != nil {
		outs = append(outs, issuers.Output{Name: OutputPrivateKey, Value: string(privatePEM), Secret: true})
	}
	return issuers.Credential{
		Identity:  lease.Credential{KeyID: KeyIDPrefix + tmpl.SerialNumber.Text(16)},
		ExpiresAt: tmpl.NotAfter,
		Outputs:   outs,
	}, nil
}

// Revoke does nothing: X.509 certificates are revoked by the CRL the caller
// publishes from the lease store (see CRL).
func (i *Issuer) Revoke(context.Context, lease.Lease) error { return nil }

// template builds the certificate to sign, everything from the role, the
// lease and the clamped TTL; nothing from the CSR.
func (i *Issuer) template(r *role, req issuers.Request) (*x509.Certificate, error) {
	g := req.Grant
	var grantSeconds *int64
	if g != nil {
		grantSeconds = g.MaxTTLSeconds
	}
	ttl, err := issuers.ClampTTL(req.TTL, grantSeconds, r.maxTTL, i.maxTTL)
	if err != nil {
		return nil, err
	}
	now := req.Now
	if now.IsZero() {
		return nil, errors.New("the request has no issue time")
	}
	notAfter := now.Add(ttl).Truncate(time.Second)
	if notAfter.After(i.caCert.NotAfter) {
		notAfter = i.caCert.NotAfter
	}
	if !notAfter.After(now) {
		return nil, fmt.Errorf("the CA certificate expired at %s", i.caCert.NotAfter.UTC().Format(time.RFC3339))
	}
	subject, err := r.subject(req.Lease.Subject)
	if err != nil {
		return nil, err
	}
	serial, err := leaseSerial(req.Lease.Credential.KeyID)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject,
		NotBefore:             now.Add(-backdate).Truncate(time.Second),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  false,
	}
	u, err := jobURI(req.Lease)
	if err != nil {
		return nil, err
	}
	if u != nil {
		tmpl.URIs = append(tmpl.URIs, u)
	}
	ext, err := claimsExtension(req.Lease)
	if err != nil {
		return nil, err
	}
	if ext != nil {
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, *ext)
	}
	return tmpl, nil
}

// NewKeyID returns a lease.Credential.KeyID holding a fresh random serial,
// for callers that record the lease's identity before issuing (so a sweep
// can revoke a certificate whose issuing process died).
func NewKeyID() (string, error) {
	n, err := randomSerial()
	if err != nil {
		return "", err
	}
	return KeyIDPrefix + n.Text(16), nil
}

// leaseSerial returns the serial the lease's KeyID names (from NewKeyID),
// or a fresh random one when the KeyID is empty.
func leaseSerial(keyID string) (*big.Int, error) {
	if keyID == "" {
		return randomSerial()
	}
	n, err := SerialFromKeyID(keyID)
	if err != nil {
		return nil, fmt.Errorf("the lease's %w; leave it empty or use NewKeyID", err)
	}
	if n.BitLen() < 64 {
		return nil, fmt.Errorf("the lease's serial %s has fewer than 64 bits; use NewKeyID", n.Text(16))
	}
	return n, nil
}

// randomSerial returns a random serial in [1, 2^128).
func randomSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	for {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return nil, fmt.Errorf("serial: %w", err)
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}

// subjectKey returns the public key to certify and, when generated, its
// private key as PKCS#8 PEM.
func subjectKey(req issuers.Request) (crypto.PublicKey, []byte, error) {
	switch {
	case req.GenerateKey && len(req.CSR) > 0:
		return nil, nil, errors.New("pass a CSR or ask to generate a key, not both")
	case req.GenerateKey:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, fmt.Errorf("generate key: %w", err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return nil, nil, fmt.Errorf("encode key: %w", err)
		}
		return k.Public(), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
	case len(req.CSR) > 0:
		csr, err := ParseCSR(req.CSR)
		if err != nil {
			return nil, nil, err
		}
		return csr.PublicKey, nil, nil
	default:
		return nil, nil, errors.New("no CSR (a bare public key has no proof of possession); pass a CSR or ask to generate a key")
	}
}
