package ssh

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"math/big"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestParsePublicKey(t *testing.T) {
	user := ed25519Signer(t)
	ed := string(authorizedKey(user.PublicKey()))
	tests := []struct {
		name string
		line string
		err  string
	}{
		{"ed25519", ed, ""},
		{"ed25519 with comment and comment lines", "# mine\n\n" + ed[:len(ed)-1] + " alice@laptop\n# end\n", ""},
		{"ecdsa p256", string(authorizedKey(ecdsaKey(t, elliptic.P256()))), ""},
		{"ecdsa p521", string(authorizedKey(ecdsaKey(t, elliptic.P521()))), ""},
		{"rsa 2048", string(authorizedKey(rsaKey(t, 2048))), ""},
		{"rsa 1024", string(authorizedKey(rsaKey(t, 1024))), "RSA key of 1024 bits"},
		{"dsa", dsaLine(), "DSA (ssh-dss) keys are insecure"},
		{"certificate as key", string(authorizedKey(certificate(t, user.PublicKey()))), "is a certificate"},
		{"sk-ed25519", skEd25519Line(t), "security-key type sk-ssh-ed25519@openssh.com"},
		{"options", `command="/bin/sh" ` + ed, "options"},
		{"two keys", ed + ed, "more than one line"},
		{"garbage", "ssh-ed25519 !!!!", "public key: "},
		{"empty", "\n# only a comment\n", "public key: "},
	}
	for _, tt := range tests {
		_, err := ParsePublicKey([]byte(tt.line))
		wantErr(t, tt.name, err, tt.err)
	}
}

func TestCheckKeyUnknownType(t *testing.T) {
	if err := CheckKey(fakeKey{}); err == nil {
		t.Errorf("no error for key type %s", fakeKey{}.Type())
	}
}

// TestIssueRefusesWeakKeys checks that Issue goes through ParsePublicKey.
func TestIssueRefusesWeakKeys(t *testing.T) {
	iss := newIssuer(t, ed25519Signer(t))
	for name, line := range map[string]string{
		"rsa 1024": string(authorizedKey(rsaKey(t, 1024))),
		"dsa":      dsaLine(),
		"cert":     string(authorizedKey(certificate(t, ed25519Signer(t).PublicKey()))),
	} {
		if _, err := iss.Issue(context.Background(), request("deploy", []byte(line))); err == nil {
			t.Errorf("%s: issued", name)
		}
	}
}

func TestNewRefusesWeakCA(t *testing.T) {
	small, err := ssh.NewSignerFromSigner(mustRSA(t, 1024))
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(testConfig(), small)
	wantErr(t, "RSA-1024 CA", err, "RSA key of 1024 bits")
}

func ecdsaKey(t *testing.T, c elliptic.Curve) ssh.PublicKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ssh.NewPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustRSA(t *testing.T, bits int) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func rsaKey(t *testing.T, bits int) ssh.PublicKey {
	t.Helper()
	p, err := ssh.NewPublicKey(&mustRSA(t, bits).PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// dsaLine is a handcrafted ssh-dss authorized_keys line (x/crypto no longer
// parses DSA, OpenSSH 10 no longer makes it).
func dsaLine() string {
	blob := ssh.Marshal(struct {
		Name       string
		P, Q, G, Y *big.Int
	}{ssh.InsecureKeyAlgoDSA, big.NewInt(23), big.NewInt(11), big.NewInt(4), big.NewInt(8)})
	return ssh.InsecureKeyAlgoDSA + " " + base64.StdEncoding.EncodeToString(blob) + " old@host\n"
}

func skEd25519Line(t *testing.T) string {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	blob := ssh.Marshal(struct {
		Name        string
		Key         []byte
		Application string
	}{ssh.KeyAlgoSKED25519, pub, "ssh:"})
	return ssh.KeyAlgoSKED25519 + " " + base64.StdEncoding.EncodeToString(blob) + "\n"
}

func certificate(t *testing.T, key ssh.PublicKey) *ssh.Certificate {
	t.Helper()
	c := &ssh.Certificate{Key: key, Serial: 1, CertType: ssh.UserCert, KeyId: "x",
		ValidPrincipals: []string{"deploy"}, ValidBefore: ssh.CertTimeInfinity}
	if err := c.SignCert(rand.Reader, ed25519Signer(t)); err != nil {
		t.Fatal(err)
	}
	return c
}

type fakeKey struct{}

func (fakeKey) Type() string                        { return "ssh-mldsa-44" }
func (fakeKey) Marshal() []byte                     { return nil }
func (fakeKey) Verify([]byte, *ssh.Signature) error { return nil }
