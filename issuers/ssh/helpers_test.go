package ssh

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jit-policy/jit-policy/engine"
	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/issuers"
)

var testNow = time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC)

func testConfig() *config.SSHIssuer {
	return &config.SSHIssuer{
		CAKey:  "file://ca/ssh-ca",
		MaxTTL: config.Duration{Duration: time.Hour},
		Roles: map[string]config.SSHRole{
			"deploy": {Principals: []string{"deploy", "ubuntu", "admin"}, MaxTTL: config.Duration{Duration: 15 * time.Minute}},
			"wide":   {Principals: []string{"deploy", "ubuntu"}},
			"locked": {
				Principals:      []string{"deploy"},
				Extensions:      map[string]string{"permit-pty": "", "permit-port-forwarding": ""},
				CriticalOptions: map[string]string{OptForceCommand: "/usr/bin/deploy", OptSourceAddress: "10.0.0.0/8"},
			},
		},
	}
}

// ed25519Signer returns a fresh Ed25519 signer.
func ed25519Signer(t testing.TB) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromSigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newIssuer(t testing.TB, ca ssh.Signer) *Issuer {
	t.Helper()
	i, err := New(testConfig(), ca)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return i
}

// sameKey reports whether two public keys are equal.
func sameKey(a, b ssh.PublicKey) bool { return bytes.Equal(a.Marshal(), b.Marshal()) }

func authorizedKey(k ssh.PublicKey) []byte { return ssh.MarshalAuthorizedKey(k) }

func request(role string, pub []byte) issuers.Request {
	return issuers.Request{
		Lease: lease.Lease{
			ID:         "lease-1",
			Issuer:     "ssh",
			Role:       role,
			Credential: lease.Credential{Serial: 42, KeyID: "jit/lease-1/pr/7/alice"},
		},
		Now:       testNow,
		PublicKey: pub,
	}
}

func ttlSeconds(s int64) *int64 { return &s }

func grant(principals []string) *engine.Grant { return &engine.Grant{Principals: principals} }

func output(c issuers.Credential, name string) (issuers.Output, bool) {
	for _, o := range c.Outputs {
		if o.Name == name {
			return o, true
		}
	}
	return issuers.Output{}, false
}

// parseCert parses the certificate output.
func parseCert(t *testing.T, c issuers.Credential) *ssh.Certificate {
	t.Helper()
	o, ok := output(c, OutputCertificate)
	if !ok {
		t.Fatal("no certificate output")
	}
	k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(o.Value))
	if err != nil {
		t.Fatalf("parse certificate output: %v", err)
	}
	cert, ok := k.(*ssh.Certificate)
	if !ok {
		t.Fatalf("certificate output is a %T", k)
	}
	return cert
}

// connMeta is the ssh.ConnMetadata that CertChecker.Authenticate needs.
type connMeta struct{ user string }

func (c connMeta) User() string          { return c.user }
func (c connMeta) SessionID() []byte     { return nil }
func (c connMeta) ClientVersion() []byte { return nil }
func (c connMeta) ServerVersion() []byte { return nil }
func (c connMeta) RemoteAddr() net.Addr  { return &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 2222} }
func (c connMeta) LocalAddr() net.Addr   { return &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 22} }

// checker accepts user certificates signed by ca at the time clock returns.
func checker(ca ssh.PublicKey, clock time.Time) *ssh.CertChecker {
	return &ssh.CertChecker{
		IsUserAuthority:          func(k ssh.PublicKey) bool { return sameKey(k, ca) },
		Clock:                    func() time.Time { return clock },
		SupportedCriticalOptions: []string{OptForceCommand, OptVerifyRequired},
	}
}

// wantErr reports a mismatch between err and want: "" wants no error,
// anything else an error containing it.
func wantErr(t *testing.T, name string, err error, want string) bool {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("%s: unexpected error: %v", name, err)
	case want != "" && err == nil:
		t.Errorf("%s: got no error, want one containing %q", name, want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Errorf("%s: error %q does not contain %q", name, err, want)
	default:
		return err == nil
	}
	return false
}
