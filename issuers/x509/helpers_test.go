package x509issuer

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/issuers"
)

// testCA is a self-signed ECDSA P-256 CA, as `jit-policy ca init` makes.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newCA(t testing.TB, notAfter time.Time) testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "jit-policy test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SubjectKeyId:          []byte{1, 2, 3, 4, 5, 6, 7, 8},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return testCA{cert: cert, key: key}
}

func testConfig() *config.X509Issuer {
	return &config.X509Issuer{
		MaxTTL: config.Duration{Duration: time.Hour},
		Roles: map[string]config.X509Role{
			"deploy": {CommonName: "ci:{{subject}}", Organizations: []string{"deployers"}, MaxTTL: config.Duration{Duration: 15 * time.Minute}},
		},
	}
}

func newIssuer(t testing.TB, ca testCA) *Issuer {
	t.Helper()
	i, err := New(testConfig(), ca.cert, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

func testLease() lease.Lease {
	return lease.Lease{
		ID:      "lease-1",
		Issuer:  "x509",
		Role:    "deploy",
		Subject: "octo-org/app",
		Job:     lease.Job{Provider: "github", Repository: "octo-org/app", RunID: "123", Attempt: "2"},
	}
}

// csrPEM returns a PEM CSR for key with the given requested extensions.
func csrPEM(t testing.TB, key crypto.Signer, exts ...pkix.Extension) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject:         pkix.Name{CommonName: "admin", Organization: []string{"system:masters"}},
		ExtraExtensions: exts,
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func mustExt(t testing.TB, id asn1.ObjectIdentifier, v any) pkix.Extension {
	t.Helper()
	b, err := asn1.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return pkix.Extension{Id: id, Value: b}
}

func p256(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// issue issues for a fresh P-256 CSR and returns the parsed certificate,
// its key and the credential.
func issue(t testing.TB, i *Issuer, l lease.Lease, now time.Time, ttl time.Duration) (*x509.Certificate, *ecdsa.PrivateKey, issuers.Credential) {
	t.Helper()
	key := p256(t)
	cred, err := i.Issue(context.Background(), issuers.Request{Lease: l, Now: now, TTL: ttl, CSR: csrPEM(t, key)})
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return parseOutputCert(t, cred), key, cred
}

func output(cred issuers.Credential, name string) (issuers.Output, bool) {
	for _, o := range cred.Outputs {
		if o.Name == name {
			return o, true
		}
	}
	return issuers.Output{}, false
}

func parseOutputCert(t testing.TB, cred issuers.Credential) *x509.Certificate {
	t.Helper()
	o, ok := output(cred, OutputCertificate)
	if !ok {
		t.Fatal("no certificate output")
	}
	b, _ := pem.Decode([]byte(o.Value))
	if b == nil || b.Type != "CERTIFICATE" {
		t.Fatalf("certificate output is not PEM: %q", o.Value)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// readSeed returns the []byte of a seed file in the Go fuzz corpus format.
func readSeed(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzParseCSR", "seed-"+name))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(string(raw), "\n", 3)
	if len(lines) < 2 || lines[0] != "go test fuzz v1" {
		t.Fatalf("seed %s: not a fuzz corpus file", name)
	}
	lit, ok := strings.CutPrefix(lines[1], "[]byte(")
	lit, ok2 := strings.CutSuffix(lit, ")")
	if !ok || !ok2 {
		t.Fatalf("seed %s: not a []byte value", name)
	}
	s, err := strconv.Unquote(lit)
	if err != nil {
		t.Fatalf("seed %s: %v", name, err)
	}
	return []byte(s)
}

// parseClaims returns the claims of a certificate's ClaimsOID extension,
// and false when it has none.
func parseClaims(exts []pkix.Extension) (Claims, bool, error) {
	for _, e := range exts {
		if !e.Id.Equal(ClaimsOID) {
			continue
		}
		var s string
		if rest, err := asn1.UnmarshalWithParams(e.Value, &s, "utf8"); err != nil || len(rest) != 0 {
			return Claims{}, true, errors.New("claims extension is not one UTF8String")
		}
		var c Claims
		if err := json.Unmarshal([]byte(s), &c); err != nil {
			return Claims{}, true, fmt.Errorf("claims extension: %w", err)
		}
		return c, true, nil
	}
	return Claims{}, false, nil
}
