package x509issuer

import (
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
)

// opensslPath returns openssl, skipping the test when it is missing
// locally and failing it under CI=true.
func opensslPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("openssl not found under CI: %v", err)
		}
		t.Skip("openssl not found")
	}
	return p
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestOpenSSLVerify(t *testing.T) {
	openssl := opensslPath(t)
	dir := t.TempDir()
	ca := newCA(t, time.Now().Add(24*time.Hour))
	i := newIssuer(t, ca)
	cert, _, cred := issue(t, i, testLease(), time.Now(), 0)
	other, _, _ := issue(t, i, testLease(), time.Now(), 0)
	caPEM := filepath.Join(dir, "ca.pem")
	certPEM := filepath.Join(dir, "cert.pem")
	otherPEM := filepath.Join(dir, "other.pem")
	crlPEM := filepath.Join(dir, "crl.pem")
	writePEM(t, caPEM, "CERTIFICATE", ca.cert.Raw)
	writePEM(t, certPEM, "CERTIFICATE", cert.Raw)
	writePEM(t, otherPEM, "CERTIFICATE", other.Raw)

	verify := func(args ...string) (string, error) {
		out, err := exec.Command(openssl, append([]string{"verify", "-CAfile", caPEM}, args...)...).CombinedOutput()
		return string(out), err
	}
	if out, err := verify("-purpose", "sslclient", certPEM); err != nil {
		t.Errorf("openssl verify: %v\n%s", err, out)
	}

	publish := func(revoked []lease.Lease, n int64) {
		der, err := CRL(ca.cert, ca.key, revoked, big.NewInt(n), time.Now().Add(-time.Second), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		writePEM(t, crlPEM, "X509 CRL", der)
	}
	publish(nil, 1)
	if out, err := verify("-crl_check", "-CRLfile", crlPEM, certPEM); err != nil {
		t.Errorf("openssl verify -crl_check before revocation: %v\n%s", err, out)
	}

	l := testLease()
	l.Credential, l.State, l.RevokedAt = cred.Identity, lease.Revoked, time.Now().Add(-time.Second)
	publish([]lease.Lease{l}, 2)
	if out, err := verify("-crl_check", "-CRLfile", crlPEM, certPEM); err == nil || !strings.Contains(out, "revoked") {
		t.Errorf("openssl verify -crl_check after revocation: err = %v, want revoked:\n%s", err, out)
	}
	if out, err := verify("-crl_check", "-CRLfile", crlPEM, otherPEM); err != nil {
		t.Errorf("openssl verify -crl_check refused an unrevoked certificate: %v\n%s", err, out)
	}
	if out, err := verify("-purpose", "sslserver", certPEM); err == nil {
		t.Errorf("openssl verify -purpose sslserver accepted a client certificate:\n%s", out)
	}
}
