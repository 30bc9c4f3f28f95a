package x509issuer

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/engine"
	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/issuers"
)

func TestIssueFromCSRVerifies(t *testing.T) {
	ca := newCA(t, time.Now().Add(24*time.Hour))
	i := newIssuer(t, ca)
	now := time.Now()
	cert, _, cred := issue(t, i, testLease(), now, 0)

	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("Verify(ClientAuth): %v", err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err == nil {
		t.Errorf("Verify(ServerAuth) succeeded; want client-only")
	}
	if cert.Subject.CommonName != "ci:octo-org/app" {
		t.Errorf("CN = %q, want from the role, not the CSR", cert.Subject.CommonName)
	}
	if len(cert.Subject.Organization) != 1 || cert.Subject.Organization[0] != "deployers" {
		t.Errorf("O = %q, want [deployers]", cert.Subject.Organization)
	}
	if cert.IsCA || !cert.BasicConstraintsValid {
		t.Errorf("IsCA = %v, BasicConstraintsValid = %v", cert.IsCA, cert.BasicConstraintsValid)
	}
	if cert.KeyUsage != x509.KeyUsageDigitalSignature {
		t.Errorf("KeyUsage = %v", cert.KeyUsage)
	}
	if len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth || len(cert.UnknownExtKeyUsage) != 0 {
		t.Errorf("ExtKeyUsage = %v %v", cert.ExtKeyUsage, cert.UnknownExtKeyUsage)
	}
	if s := cert.SerialNumber; s.Sign() <= 0 || s.BitLen() > 128 {
		t.Errorf("serial %v not a positive 128-bit number", s)
	}
	if want := KeyIDPrefix + cert.SerialNumber.Text(16); cred.Identity.KeyID != want {
		t.Errorf("KeyID = %q, want %q", cred.Identity.KeyID, want)
	}
	if got, err := SerialFromKeyID(cred.Identity.KeyID); err != nil || got.Cmp(cert.SerialNumber) != 0 {
		t.Errorf("SerialFromKeyID = %v, %v", got, err)
	}
	if d := now.Sub(cert.NotBefore); d < 29*time.Second || d > 31*time.Second {
		t.Errorf("NotBefore is %v before now, want 30s", d)
	}
	if d := cert.NotAfter.Sub(now); d > 15*time.Minute || d < 15*time.Minute-time.Second {
		t.Errorf("NotAfter is now+%v, want the role's 15m", d)
	}
	if !cred.ExpiresAt.Equal(cert.NotAfter) {
		t.Errorf("ExpiresAt %v != NotAfter %v", cred.ExpiresAt, cert.NotAfter)
	}
	if len(cert.URIs) != 1 || cert.URIs[0].String() != "https://github.com/octo-org/app/actions/runs/123/attempts/2" {
		t.Errorf("URIs = %v", cert.URIs)
	}
	c, ok, err := parseClaims(cert.Extensions)
	if !ok || err != nil || c.Repository != "octo-org/app" || c.RunID != "123" || c.Attempt != "2" {
		t.Errorf("claims = %+v, %v, %v", c, ok, err)
	}
	for _, e := range cert.Extensions {
		if e.Id.Equal(ClaimsOID) && e.Critical {
			t.Errorf("claims extension is critical")
		}
	}
	if _, ok := output(cred, OutputPrivateKey); ok {
		t.Errorf("private-key output for a CSR")
	}
	if o, _ := output(cred, OutputCACertificate); !strings.Contains(o.Value, "BEGIN CERTIFICATE") {
		t.Errorf("ca-certificate output = %q", o.Value)
	}
	if o, _ := output(cred, issuers.OutputLeaseID); o.Value != "lease-1" {
		t.Errorf("lease-id = %q", o.Value)
	}
}

func TestIssueGenerateKey(t *testing.T) {
	ca := newCA(t, time.Now().Add(24*time.Hour))
	i := newIssuer(t, ca)
	l := testLease()
	l.Job.RunID, l.Job.Attempt = "", ""
	l.PR = 42
	cred, err := i.Issue(context.Background(), issuers.Request{Lease: l, Now: time.Now(), GenerateKey: true})
	if err != nil {
		t.Fatal(err)
	}
	o, ok := output(cred, OutputPrivateKey)
	if !ok || !o.Secret {
		t.Fatalf("private-key output = %+v, %v; want secret", o, ok)
	}
	certPEM, _ := output(cred, OutputCertificate)
	if _, err := tls.X509KeyPair([]byte(certPEM.Value), []byte(o.Value)); err != nil {
		t.Errorf("generated key does not pair with the certificate: %v", err)
	}
	b, _ := pem.Decode([]byte(o.Value))
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if ek, ok := k.(*ecdsa.PrivateKey); err != nil || !ok || ek.Curve != elliptic.P256() {
		t.Errorf("private key is not PKCS#8 P-256: %T %v", k, err)
	}
	cert := parseOutputCert(t, cred)
	if len(cert.URIs) != 1 || cert.URIs[0].String() != "https://github.com/octo-org/app/pull/42" {
		t.Errorf("PR URIs = %v", cert.URIs)
	}
}

func TestNotAfterCappedByCA(t *testing.T) {
	caEnd := time.Now().Add(5 * time.Minute).Truncate(time.Second)
	ca := newCA(t, caEnd)
	cert, _, _ := issue(t, newIssuer(t, ca), testLease(), time.Now(), time.Hour)
	if !cert.NotAfter.Equal(caEnd) {
		t.Errorf("NotAfter = %v, want the CA's %v", cert.NotAfter, caEnd)
	}
}

func TestRefusedRequests(t *testing.T) {
	ca := newCA(t, time.Now().Add(24*time.Hour))
	i := newIssuer(t, ca)
	good := csrPEM(t, p256(t))
	broken := []byte(nil)
	{
		b, _ := pem.Decode(good)
		der := append([]byte(nil), b.Bytes...)
		der[len(der)-3] ^= 0xff
		broken = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
	}
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTrue := mustExt(t, oidBasicConstraints, struct{ IsCA bool }{true})
	serverAuth := mustExt(t, oidExtKeyUsage, []asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 1}})
	certSign := mustExt(t, oidKeyUsage, asn1.BitString{Bytes: []byte{0x04}, BitLength: 6})
	cases := []struct {
		name, want string
		req        issuers.Request
	}{
		{"broken signature", "signature", issuers.Request{CSR: broken}},
		{"RSA-1024", "RSA key of 1024 bits", issuers.Request{CSR: csrPEM(t, rsa1024)}},
		{"P-224", "curve", issuers.Request{CSR: csrPEM(t, p224)}},
		{"CA:TRUE", "CA:TRUE", issuers.Request{CSR: csrPEM(t, p256(t), caTrue)}},
		{"serverAuth", "extended key usage 1.3.6.1.5.5.7.3.1", issuers.Request{CSR: csrPEM(t, p256(t), serverAuth)}},
		{"keyCertSign", "keyCertSign", issuers.Request{CSR: csrPEM(t, p256(t), certSign)}},
		{"not PEM", "no PEM block", issuers.Request{CSR: []byte("garbage")}},
		{"bare public key", "no CSR", issuers.Request{PublicKey: []byte("x")}},
		{"both", "not both", issuers.Request{CSR: good, GenerateKey: true}},
	}
	for _, c := range cases {
		c.req.Lease, c.req.Now = testLease(), time.Now()
		cred, err := i.Issue(context.Background(), c.req)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want containing %q", c.name, err, c.want)
		}
		if len(cred.Outputs) != 0 || cred.Identity.KeyID != "" {
			t.Errorf("%s: refused request returned a credential %+v", c.name, cred)
		}
	}
	// Empty subject for a {{subject}} common name.
	l := testLease()
	l.Subject = "\x00 \n"
	if _, err := i.Issue(context.Background(), issuers.Request{Lease: l, Now: time.Now(), CSR: good}); err == nil {
		t.Errorf("empty subject: issued")
	}
}

func TestNewChecksCA(t *testing.T) {
	ca := newCA(t, time.Now().Add(time.Hour))
	other := newCA(t, time.Now().Add(time.Hour))
	if _, err := New(testConfig(), ca.cert, other.key); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("mismatched key: %v", err)
	}
	leaf, _, _ := issue(t, newIssuer(t, ca), testLease(), time.Now(), 0)
	if _, err := New(testConfig(), leaf, ca.key); err == nil || !strings.Contains(err.Error(), "not a CA") {
		t.Errorf("leaf as CA: %v", err)
	}
	if _, err := New(&config.X509Issuer{MaxTTL: config.Duration{Duration: time.Hour}}, ca.cert, ca.key); err == nil {
		t.Errorf("no roles: accepted")
	}
}

func TestIssueSerialAndTTL(t *testing.T) {
	ca := newCA(t, time.Now().Add(24*time.Hour))
	i := newIssuer(t, ca)
	keyID, err := NewKeyID()
	if err != nil {
		t.Fatal(err)
	}
	l := testLease()
	l.Credential.KeyID = keyID
	secs := int64(120)
	now := time.Now()
	cred, err := i.Issue(context.Background(), issuers.Request{Lease: l, Now: now, TTL: time.Hour, Grant: &engine.Grant{MaxTTLSeconds: &secs}, CSR: csrPEM(t, p256(t))})
	if err != nil {
		t.Fatal(err)
	}
	cert := parseOutputCert(t, cred)
	if cred.Identity.KeyID != keyID || KeyIDPrefix+cert.SerialNumber.Text(16) != keyID {
		t.Errorf("KeyID %q, serial %x; want the lease's %q", cred.Identity.KeyID, cert.SerialNumber, keyID)
	}
	if d := cert.NotAfter.Sub(now); d > 2*time.Minute || d < 2*time.Minute-time.Second {
		t.Errorf("NotAfter is now+%v, want the grant's 2m", d)
	}
	for _, bad := range []string{"x509:zz", "ssh:1", "x509:1"} {
		l.Credential.KeyID = bad
		if _, err := i.Issue(context.Background(), issuers.Request{Lease: l, Now: now, GenerateKey: true}); err == nil {
			t.Errorf("lease key id %q: issued", bad)
		}
	}
}
