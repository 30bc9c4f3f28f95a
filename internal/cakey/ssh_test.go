package cakey

import (
	"crypto"
	"crypto/rand"
	"net"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// signAndCheckCert signs a user certificate with ca and verifies it as sshd
// would; it returns the certificate (nil after a failure).
func signAndCheckCert(t *testing.T, ca ssh.Signer) *ssh.Certificate {
	t.Helper()
	user, err := ssh.NewPublicKey(testKeys()["ed25519"].Public())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	cert := &ssh.Certificate{
		Key:             user,
		Serial:          42,
		CertType:        ssh.UserCert,
		KeyId:           "test",
		ValidPrincipals: []string{"deploy"},
		ValidAfter:      uint64(now.Add(-time.Minute).Unix()),
		ValidBefore:     uint64(now.Add(time.Hour).Unix()),
	}
	if err := cert.SignCert(rand.Reader, ca); err != nil {
		t.Errorf("SignCert: %v", err)
		return nil
	}
	// Round-trip through the wire format, then check like sshd does.
	parsed, err := ssh.ParsePublicKey(cert.Marshal())
	if err != nil {
		t.Errorf("parsing the certificate: %v", err)
		return nil
	}
	pc := parsed.(*ssh.Certificate)
	checker := &ssh.CertChecker{
		IsUserAuthority: func(auth ssh.PublicKey) bool {
			return string(auth.Marshal()) == string(ca.PublicKey().Marshal())
		},
	}
	if _, err := checker.Authenticate(connMeta("deploy"), pc); err != nil {
		t.Errorf("certificate does not verify: %v", err)
		return nil
	}
	return pc
}

// connMeta is the minimum ssh.ConnMetadata CertChecker.Authenticate needs.
type connMeta string

func (c connMeta) User() string        { return string(c) }
func (connMeta) SessionID() []byte     { return nil }
func (connMeta) ClientVersion() []byte { return nil }
func (connMeta) ServerVersion() []byte { return nil }
func (connMeta) RemoteAddr() net.Addr  { return nil }
func (connMeta) LocalAddr() net.Addr   { return nil }

func TestNewSSHSigner(t *testing.T) {
	k := testKeys()
	tests := []struct {
		name   string
		key    crypto.Signer
		format string
	}{
		{"ed25519", k["ed25519"], ssh.KeyAlgoED25519},
		{"p256", k["p256"], ssh.KeyAlgoECDSA256},
		{"p384", k["p384"], ssh.KeyAlgoECDSA384},
		{"rsa3072", k["rsa3072"], ssh.KeyAlgoRSASHA512},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSSHSigner(tc.key)
			if err != nil {
				t.Fatal(err)
			}
			if cert := signAndCheckCert(t, s); cert != nil && cert.Signature.Format != tc.format {
				t.Errorf("certificate signature format = %q, want %q", cert.Signature.Format, tc.format)
			}
			sig, err := s.Sign(rand.Reader, []byte("data"))
			if err != nil {
				t.Fatal(err)
			}
			if sig.Format != tc.format {
				t.Errorf("Sign format = %q, want %q", sig.Format, tc.format)
			}
			if err := s.PublicKey().Verify([]byte("data"), sig); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
}

func TestNewSSHSignerRSARefusesOtherAlgorithms(t *testing.T) {
	s, err := NewSSHSigner(testKeys()["rsa3072"])
	if err != nil {
		t.Fatal(err)
	}
	as, ok := s.(ssh.AlgorithmSigner)
	if !ok {
		t.Fatal("RSA signer is not an ssh.AlgorithmSigner")
	}
	for _, alg := range []string{ssh.KeyAlgoRSA, ssh.KeyAlgoRSASHA256} {
		if _, err := as.SignWithAlgorithm(rand.Reader, []byte("data"), alg); err == nil {
			t.Errorf("SignWithAlgorithm(%s) succeeded, want refusal", alg)
		}
	}
	if ms, ok := s.(ssh.MultiAlgorithmSigner); !ok || len(ms.Algorithms()) != 1 || ms.Algorithms()[0] != ssh.KeyAlgoRSASHA512 {
		t.Errorf("RSA signer algorithms are not exactly [rsa-sha2-512]")
	}
}

func TestNewSSHSignerRejects(t *testing.T) {
	k := testKeys()
	tests := []struct {
		name string
		key  crypto.Signer
	}{
		{"nil", nil},
		{"rsa2048", k["rsa2048"]},
		{"p521", k["p521"]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewSSHSigner(tc.key); err == nil {
				t.Errorf("NewSSHSigner(%s) succeeded", tc.name)
			}
		})
	}
}
