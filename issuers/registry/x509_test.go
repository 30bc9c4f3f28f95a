package registry

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/cakey"
	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/internal/lease"
)

// x509CAFiles creates an X.509 CA with `jit-policy ca init` in a fresh
// directory and returns the paths of its key and its certificate.
func x509CAFiles(t *testing.T) (key, cert string) {
	t.Helper()
	paths, err := cakey.Init(t.TempDir(), "x509", cakey.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	return paths[0], paths[1]
}

func x509Config(caKey, caCert string) *config.X509Issuer {
	return &config.X509Issuer{
		CACert: "file://" + caCert,
		CAKey:  "file://" + caKey,
		MaxTTL: config.Duration{Duration: time.Hour},
		Roles:  map[string]config.X509Role{"deploy": {CommonName: "ci:{{subject}}"}},
	}
}

// loadX509CA loads the CA of x509CAFiles.
func loadX509CA(t *testing.T, key, cert string) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	c, k, err := x509CA(context.Background(), x509Config(key, cert), os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	return c, k
}

// TestX509ChecksCACert: neither the issuer nor a CRL is made when ca_cert
// is not ca_key's certificate, and the error names both keys and the fix.
func TestX509ChecksCACert(t *testing.T) {
	key, cert := x509CAFiles(t)
	oldKey, oldCert := x509CAFiles(t) // the CA before a rotation
	c, k := loadX509CA(t, key, cert)
	old, _ := loadX509CA(t, oldKey, oldCert)
	stale := []string{oldCert, spkiFingerprint(old.PublicKey), spkiFingerprint(k.Public()), "point ca_cert at the current CA's certificate"}
	if spkiFingerprint(c.PublicKey) != spkiFingerprint(k.Public()) {
		t.Fatal("the fingerprints of a matching certificate and key differ")
	}
	cases := []struct {
		name    string
		cert    string
		build   func(ctx context.Context, c *config.X509Issuer, crlPath string) error
		wantErr []string // substrings of the error; nil: no error
	}{
		{name: "issuer, matching ca_cert", cert: cert, build: buildX509},
		{name: "issuer, stale ca_cert", cert: oldCert, build: buildX509, wantErr: stale},
		{name: "CRL, matching ca_cert", cert: cert, build: listX509},
		{name: "CRL, stale ca_cert", cert: oldCert, build: listX509, wantErr: stale},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.build(context.Background(), x509Config(key, tc.cert), filepath.Join(t.TempDir(), "crl.pem"))
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("a CA key and a certificate of another key were accepted; want an error")
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

// buildX509 builds the X.509 issuer of c, as a first Issue does.
func buildX509(ctx context.Context, c *config.X509Issuer, _ string) error {
	_, err := newX509(ctx, c, os.Getenv)
	return err
}

// listX509 signs the CRL of c that would replace the one at crlPath.
func listX509(ctx context.Context, c *config.X509Issuer, crlPath string) error {
	e := &x509Entry{cfg: c, getenv: os.Getenv, crl: crlPath}
	_, err := e.List(ctx, nil)
	return err
}

// writeCRL writes at path a CRL of ca numbered number, PEM or DER.
func writeCRL(t *testing.T, path string, ca *x509.Certificate, key crypto.Signer, number *big.Int, asPEM bool) {
	t.Helper()
	now := time.Now()
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: number, ThisUpdate: now, NextUpdate: now.Add(time.Hour)}, ca, key)
	if err != nil {
		t.Fatal(err)
	}
	if asPEM {
		der = pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
	}
	if err := os.WriteFile(path, der, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestNextCRLNumber: the next number is one more than the previous CRL's
// when the clock is behind it, the clock's otherwise, and the clock's when
// the previous CRL is missing, unreadable or corrupt.
func TestNextCRLNumber(t *testing.T) {
	keyPath, certPath := x509CAFiles(t)
	ca, key := loadX509CA(t, keyPath, certPath)
	now := time.Now()
	clock := big.NewInt(now.UnixNano())
	ahead := big.NewInt(now.Add(time.Hour).UnixNano()) // published by a host whose clock is an hour fast
	maxNumber := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), maxCRLNumberBits), big.NewInt(1))
	plusOne := func(n *big.Int) *big.Int { return new(big.Int).Add(n, big.NewInt(1)) }
	cases := []struct {
		name  string
		setup func(t *testing.T, path string) // nil: no file
		want  *big.Int
	}{
		{name: "no previous CRL", want: clock},
		{name: "previous behind the clock", setup: func(t *testing.T, p string) {
			writeCRL(t, p, ca, key, big.NewInt(now.Add(-time.Hour).UnixNano()), true)
		}, want: clock},
		{name: "previous ahead of the clock", setup: func(t *testing.T, p string) {
			writeCRL(t, p, ca, key, ahead, true)
		}, want: plusOne(ahead)},
		{name: "previous equal to the clock", setup: func(t *testing.T, p string) {
			writeCRL(t, p, ca, key, clock, true)
		}, want: plusOne(clock)},
		{name: "previous DER, ahead of the clock", setup: func(t *testing.T, p string) {
			writeCRL(t, p, ca, key, ahead, false)
		}, want: plusOne(ahead)},
		{name: "previous at the largest CRL number", setup: func(t *testing.T, p string) {
			writeCRL(t, p, ca, key, maxNumber, true)
		}, want: clock},
		{name: "corrupt previous CRL", setup: func(t *testing.T, p string) {
			if err := os.WriteFile(p, []byte("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, want: clock},
		{name: "previous file of another PEM type", setup: func(t *testing.T, p string) {
			if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}), 0o644); err != nil {
				t.Fatal(err)
			}
		}, want: clock},
		{name: "unreadable previous CRL (a directory)", setup: func(t *testing.T, p string) {
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
		}, want: clock},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "crl.pem")
			if tc.setup != nil {
				tc.setup(t, path)
			}
			if got := nextCRLNumber(path, now); got.Cmp(tc.want) != 0 {
				t.Errorf("nextCRLNumber = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestX509PublishIncreasesCRLNumber: Publish replaces a CRL numbered ahead
// of the clock (a skewed host's) with a higher number, and publishes over
// a corrupt CRL rather than failing.
func TestX509PublishIncreasesCRLNumber(t *testing.T) {
	keyPath, certPath := x509CAFiles(t)
	ca, key := loadX509CA(t, keyPath, certPath)
	ahead := big.NewInt(time.Now().Add(24 * time.Hour).UnixNano())
	revoked := []lease.Lease{{ID: "lease-1", Issuer: "x509", ExpiresAt: time.Now().Add(time.Hour), Credential: lease.Credential{KeyID: "x509:0a"}}}
	cases := []struct {
		name    string
		setup   func(t *testing.T, path string)
		atLeast *big.Int // the first publish's number is at least this
	}{
		{name: "after a skewed host's CRL", setup: func(t *testing.T, p string) { writeCRL(t, p, ca, key, ahead, true) }, atLeast: new(big.Int).Add(ahead, big.NewInt(1))},
		{name: "over a corrupt CRL", setup: func(t *testing.T, p string) {
			if err := os.WriteFile(p, []byte("garbage"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, atLeast: big.NewInt(1)},
		{name: "first CRL", setup: func(*testing.T, string) {}, atLeast: big.NewInt(1)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "crl.pem")
			tc.setup(t, path)
			e := &x509Entry{cfg: x509Config(keyPath, certPath), getenv: os.Getenv, crl: path}
			prev := new(big.Int).Sub(tc.atLeast, big.NewInt(1))
			for i := range 2 {
				if err := e.Publish(context.Background(), revoked); err != nil {
					t.Fatalf("publish %d: %v", i+1, err)
				}
				crl := readCRL(t, path)
				if err := crl.CheckSignatureFrom(ca); err != nil {
					t.Fatalf("publish %d: the CRL does not verify against the CA: %v", i+1, err)
				}
				if crl.Number.Cmp(prev) <= 0 {
					t.Fatalf("publish %d: CRL number %v, want more than %v", i+1, crl.Number, prev)
				}
				if len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Int64() != 10 {
					t.Errorf("publish %d: revoked entries %v, want serial 10 alone", i+1, crl.RevokedCertificateEntries)
				}
				prev = crl.Number
			}
		})
	}
}

// readCRL parses the PEM CRL at path.
func readCRL(t *testing.T, path string) *x509.RevocationList {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "X509 CRL" {
		t.Fatalf("%s holds no PEM X509 CRL", path)
	}
	crl, err := x509.ParseRevocationList(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return crl
}
