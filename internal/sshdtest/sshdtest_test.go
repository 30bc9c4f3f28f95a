package sshdtest_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jit-policy/jit-policy/internal/sshdtest"
)

// TestHarness: a certificate from the trusted CA logs in as its principal
// and not as another user; one from another CA does not log in.
func TestHarness(t *testing.T) {
	sshdtest.RequireUser(t, "nobody")
	sshdtest.RequireUser(t, "daemon")
	ca, caSigner := newKey(t)
	_, otherCA := newKey(t)
	krl := filepath.Join(t.TempDir(), "revoked.krl")
	if err := os.WriteFile(krl, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	srv := sshdtest.Start(t, ssh.MarshalAuthorizedKey(ca), krl)

	user, userSigner := newKey(t)
	good := cert(t, caSigner, user, "nobody")
	if err := srv.Login("nobody", userSigner, good); err != nil {
		t.Errorf("login with a trusted certificate: %v", err)
	}
	if err := srv.Login("daemon", userSigner, good); err == nil {
		t.Error("login as a principal the certificate lacks succeeded")
	}
	if err := srv.Login("nobody", userSigner, cert(t, otherCA, user, "nobody")); err == nil {
		t.Error("login with an untrusted CA succeeded")
	}
}

func newKey(t *testing.T) (ssh.PublicKey, ssh.Signer) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s.PublicKey(), s
}

func cert(t *testing.T, ca ssh.Signer, key ssh.PublicKey, principal string) *ssh.Certificate {
	t.Helper()
	c := &ssh.Certificate{
		Key: key, Serial: 7, CertType: ssh.UserCert, KeyId: "test",
		ValidPrincipals: []string{principal},
		ValidAfter:      uint64(time.Now().Add(-time.Minute).Unix()),
		ValidBefore:     uint64(time.Now().Add(time.Hour).Unix()),
		Permissions:     ssh.Permissions{Extensions: map[string]string{"permit-pty": ""}},
	}
	if err := c.SignCert(rand.Reader, ca); err != nil {
		t.Fatal(err)
	}
	return c
}
