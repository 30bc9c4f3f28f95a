package x509issuer

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/cakey"
	"github.com/jit-policy/jit-policy/internal/cakey/kmstest"
)

// TestAWSKMSCA: a CA whose key lives in AWS KMS (local-kms, in a private
// network namespace) signs client certificates that openssl verify accepts.
func TestAWSKMSCA(t *testing.T) {
	key := kmstest.AWS(t, "jit-policy-x509-ca")
	if key == nil {
		return // ran (or was skipped) inside the namespace
	}
	openssl := opensslPath(t)
	signer, err := cakey.Load(context.Background(), key.URI, func(string) string { return "" })
	if err != nil {
		t.Fatalf("loading %s: %v", key.URI, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "jit-policy KMS CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true, IsCA: true, MaxPathLenZero: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, signer.Public(), signer)
	if err != nil {
		t.Fatalf("self-signing the CA with the KMS key: %v", err)
	}
	caCert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	i, err := New(testConfig(), caCert, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, _, _ := issue(t, i, testLease(), time.Now(), 0)
	dir := t.TempDir()
	writePEM(t, filepath.Join(dir, "ca.pem"), "CERTIFICATE", caCert.Raw)
	writePEM(t, filepath.Join(dir, "cert.pem"), "CERTIFICATE", cert.Raw)
	out, err := exec.Command(openssl, "verify", "-purpose", "sslclient", "-CAfile", filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem")).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl verify of a KMS-signed certificate: %v\n%s", err, out)
	}
}
