package ssh

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jit-policy/jit-policy/engine"
)

// BenchmarkIssue measures the whole issue path for an Ed25519 user key and
// an Ed25519 CA: parse the authorized_keys line, clamp to a role with
// extensions and critical options and to a grant, sign, build the
// certificate line and the outputs.
func BenchmarkIssue(b *testing.B) {
	ca, user := ed25519Signer(b), ed25519Signer(b)
	iss := newIssuer(b, ca)
	req := request("locked", authorizedKey(user.PublicKey()))
	req.Principals = []string{"deploy"}
	req.Grant = &engine.Grant{MaxTTLSeconds: ttlSeconds(900), Principals: []string{"deploy", "ubuntu"}}
	ctx := context.Background()
	b.ReportAllocs()
	start := processCPU()
	for b.Loop() {
		if _, err := iss.Issue(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, start)
}

// BenchmarkRawSignCert is the floor: x/crypto's SignCert alone, with the
// same CA, key and certificate contents.
func BenchmarkRawSignCert(b *testing.B) {
	ca, user := ed25519Signer(b), ed25519Signer(b)
	key := user.PublicKey()
	after := uint64(testNow.Add(-ClockSkew).Unix())
	before := uint64(testNow.Add(15 * time.Minute).Unix())
	b.ReportAllocs()
	start := processCPU()
	for b.Loop() {
		c := &ssh.Certificate{
			Key: key, Serial: 42, CertType: ssh.UserCert, KeyId: "jit/lease-1/pr/7/alice",
			ValidPrincipals: []string{"deploy"}, ValidAfter: after, ValidBefore: before,
			Permissions: ssh.Permissions{
				CriticalOptions: map[string]string{OptForceCommand: "/usr/bin/deploy", OptSourceAddress: "10.0.0.0/8"},
				Extensions:      map[string]string{"permit-pty": "", "permit-port-forwarding": ""},
			},
		}
		if err := c.SignCert(rand.Reader, ca); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, start)
}
