package ssh

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"io"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestRSACA(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 3072)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := ssh.NewSignerFromSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	sha512, err := ssh.NewSignerWithAlgorithms(plain.(ssh.AlgorithmSigner), []string{ssh.KeyAlgoRSASHA512})
	if err != nil {
		t.Fatal(err)
	}
	sha256, err := ssh.NewSignerWithAlgorithms(plain.(ssh.AlgorithmSigner), []string{ssh.KeyAlgoRSASHA256})
	if err != nil {
		t.Fatal(err)
	}
	user := ed25519Signer(t)
	for _, tt := range []struct {
		name string
		ca   ssh.Signer
		want string // "" = ok
	}{
		{"wrapped rsa-sha2-512", sha512, ""},
		{"plain RSA signer", plain, ""},
		{"restricted to rsa-sha2-256", sha256, "restricted"},
		{"cannot choose algorithm", plainSigner{plain}, "SHA-1"},
	} {
		iss, err := New(testConfig(), tt.ca)
		if !wantErr(t, tt.name, err, tt.want) {
			continue
		}
		cred, err := iss.Issue(context.Background(), request("wide", authorizedKey(user.PublicKey())))
		if err != nil {
			t.Errorf("%s: Issue: %v", tt.name, err)
			continue
		}
		cert := parseCert(t, cred)
		if cert.Signature.Format != ssh.KeyAlgoRSASHA512 {
			t.Errorf("%s: signature format %q, want rsa-sha2-512", tt.name, cert.Signature.Format)
		}
		if _, err := checker(plain.PublicKey(), testNow).Authenticate(connMeta{"ubuntu"}, cert); err != nil {
			t.Errorf("%s: Authenticate: %v", tt.name, err)
		}
	}
}

// TestCertificateLine checks the certificate line built from the signed
// bytes against x/crypto's own marshalling, for each kind of CA.
func TestCertificateLine(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cas := map[string]ssh.Signer{"ed25519": ed25519Signer(t), "plain ed25519": plainSigner{ed25519Signer(t)}}
	if cas["ecdsa"], err = ssh.NewSignerFromSigner(ecKey); err != nil {
		t.Fatal(err)
	}
	if cas["rsa"], err = ssh.NewSignerFromSigner(mustRSA(t, 2048)); err != nil {
		t.Fatal(err)
	}
	for name, ca := range cas {
		req := request("locked", nil)
		req.GenerateKey = true
		cred, err := newIssuer(t, ca).Issue(context.Background(), req)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		cert := parseCert(t, cred)
		o, _ := output(cred, OutputCertificate)
		if want := strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(cert)), "\n"); o.Value != want {
			t.Errorf("%s: certificate line differs from ssh.MarshalAuthorizedKey", name)
		}
		if _, err := checker(ca.PublicKey(), testNow).Authenticate(connMeta{"deploy"}, cert); err != nil {
			t.Errorf("%s: Authenticate: %v", name, err)
		}
	}
}

// plainSigner is an ssh.Signer and nothing more, like a minimal KMS adapter.
type plainSigner struct{ s ssh.Signer }

func (p plainSigner) PublicKey() ssh.PublicKey { return p.s.PublicKey() }
func (p plainSigner) Sign(r io.Reader, data []byte) (*ssh.Signature, error) {
	return p.s.Sign(r, data)
}
