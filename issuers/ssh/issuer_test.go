package ssh

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jit-policy/jit-policy/engine"
	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/issuers"
)

func TestIssueVerifies(t *testing.T) {
	ca, user := ed25519Signer(t), ed25519Signer(t)
	iss := newIssuer(t, ca)
	req := request("deploy", authorizedKey(user.PublicKey()))
	req.Principals = []string{"deploy"}
	cred, err := iss.Issue(context.Background(), req)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	cert := parseCert(t, cred)
	expires := testNow.Add(15 * time.Minute)

	tests := []struct {
		name  string
		user  string
		clock time.Time
		ok    bool
	}{
		{"allowed principal", "deploy", testNow, true},
		{"allowed, 29s before issue (skew)", "deploy", testNow.Add(-29 * time.Second), true},
		{"allowed, last second", "deploy", expires.Add(-time.Second), true},
		{"principal not requested", "ubuntu", testNow, false},
		{"principal not in role", "root", testNow, false},
		{"at expiry", "deploy", expires, false},
		{"after expiry", "deploy", expires.Add(time.Hour), false},
		{"before validity", "deploy", testNow.Add(-time.Minute), false},
	}
	for _, tt := range tests {
		_, err := checker(ca.PublicKey(), tt.clock).Authenticate(connMeta{tt.user}, cert)
		if (err == nil) != tt.ok {
			t.Errorf("%s: Authenticate error = %v, want ok = %v", tt.name, err, tt.ok)
		}
	}
	if _, err := checker(ed25519Signer(t).PublicKey(), testNow).Authenticate(connMeta{"deploy"}, cert); err == nil {
		t.Errorf("a certificate verified against another CA")
	}

	if cert.Serial != 42 || cert.KeyId != "jit/lease-1/pr/7/alice" || cert.CertType != ssh.UserCert {
		t.Errorf("serial %d key id %q type %d", cert.Serial, cert.KeyId, cert.CertType)
	}
	if !sameKey(cert.Key, user.PublicKey()) {
		t.Errorf("the certificate certifies another key")
	}
	if got := cert.ValidAfter; got != uint64(testNow.Unix()-30) {
		t.Errorf("ValidAfter = %d, want now-30s", got)
	}
	if !cred.ExpiresAt.Equal(expires) || cert.ValidBefore != uint64(expires.Unix()) {
		t.Errorf("ExpiresAt %v, ValidBefore %d; want %v", cred.ExpiresAt, cert.ValidBefore, expires)
	}
	if want := (lease.Credential{Serial: 42, KeyID: "jit/lease-1/pr/7/alice"}); cred.Identity != want {
		t.Errorf("Identity = %+v, want %+v", cred.Identity, want)
	}
	if len(cert.Extensions) != 1 || len(cert.CriticalOptions) != 0 {
		t.Errorf("extensions %v, critical options %v; want only permit-pty", cert.Extensions, cert.CriticalOptions)
	}
	wantOut := map[string]string{
		issuers.OutputLeaseID:   "lease-1",
		issuers.OutputExpiresAt: "2026-11-28T06:15:00Z",
	}
	for name, want := range wantOut {
		if o, _ := output(cred, name); o.Value != want || o.Secret {
			t.Errorf("output %s = %+v, want %q, not secret", name, o, want)
		}
	}
	if o, _ := output(cred, OutputCertificate); o.Secret || strings.HasSuffix(o.Value, "\n") ||
		!strings.HasPrefix(o.Value, ssh.CertAlgoED25519v01+" ") {
		t.Errorf("certificate output %+v", o)
	}
	if _, ok := output(cred, OutputPrivateKey); ok {
		t.Errorf("private-key output without GenerateKey")
	}
}

func TestIssueGenerateKey(t *testing.T) {
	ca := ed25519Signer(t)
	req := request("wide", nil)
	req.GenerateKey = true
	cred, err := newIssuer(t, ca).Issue(context.Background(), req)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	o, ok := output(cred, OutputPrivateKey)
	if !ok || !o.Secret || !strings.HasPrefix(o.Value, "-----BEGIN OPENSSH PRIVATE KEY-----") {
		t.Fatalf("private-key output %v %v", ok, o.Secret)
	}
	priv, err := ssh.ParsePrivateKey([]byte(o.Value))
	if err != nil {
		t.Fatalf("parse private key: %v", err)
	}
	cert := parseCert(t, cred)
	if !sameKey(priv.PublicKey(), cert.Key) || priv.PublicKey().Type() != ssh.KeyAlgoED25519 {
		t.Errorf("the certificate does not certify the generated Ed25519 key")
	}
	if !slices.Equal(cert.ValidPrincipals, []string{"deploy", "ubuntu"}) {
		t.Errorf("principals %v, want the role's", cert.ValidPrincipals)
	}
	if cert.ValidBefore != uint64(testNow.Add(time.Hour).Unix()) {
		t.Errorf("ttl: want the issuer's max_ttl")
	}
}

func TestIssueErrors(t *testing.T) {
	ca, user := ed25519Signer(t), ed25519Signer(t)
	iss := newIssuer(t, ca)
	pub := authorizedKey(user.PublicKey())
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		edit func(*issuers.Request)
		want string
	}{
		{"unknown role", nil, func(r *issuers.Request) { r.Lease.Role = "nope" }, "role nope: no such role"},
		{"serial 0", nil, func(r *issuers.Request) { r.Lease.Credential.Serial = 0 }, "no certificate serial"},
		{"no key id", nil, func(r *issuers.Request) { r.Lease.Credential.KeyID = "" }, "no certificate key id"},
		{"key id with newline", nil, func(r *issuers.Request) { r.Lease.Credential.KeyID = "a\nb" }, "control character"},
		{"no key", nil, func(r *issuers.Request) { r.PublicKey = nil }, "no public key"},
		{"key and generate", nil, func(r *issuers.Request) { r.GenerateKey = true }, "not both"},
		{"CA key as user key", nil, func(r *issuers.Request) { r.PublicKey = authorizedKey(ca.PublicKey()) }, "CA's own key"},
		{"no issue time", nil, func(r *issuers.Request) { r.Now = time.Time{} }, "no issue time"},
		{"principal outside", nil, func(r *issuers.Request) { r.Principals = []string{"root"} }, "no principal is allowed"},
		{"grant allows nothing", nil, func(r *issuers.Request) { r.Grant = grant([]string{}) }, "the policy grants none"},
		{"force-command conflict", nil, func(r *issuers.Request) {
			r.Lease.Role = "locked"
			r.Grant = &engine.Grant{CriticalOptions: map[string]string{OptForceCommand: "/bin/sh"}}
		}, "force-command conflict"},
		{"canceled", canceled, func(*issuers.Request) {}, "context canceled"},
	}
	for _, tt := range tests {
		req := request("deploy", pub)
		tt.edit(&req)
		ctx := tt.ctx
		if ctx == nil {
			ctx = context.Background()
		}
		_, err := iss.Issue(ctx, req)
		wantErr(t, tt.name, err, tt.want)
	}
	if err := iss.Revoke(context.Background(), lease.Lease{ID: "x"}); err != nil {
		t.Errorf("Revoke: %v", err)
	}
}

func TestIssueLockedRole(t *testing.T) {
	ca, user := ed25519Signer(t), ed25519Signer(t)
	req := request("locked", authorizedKey(user.PublicKey()))
	req.Grant = &engine.Grant{
		Extensions:      map[string]string{"permit-pty": "", "permit-agent-forwarding": ""},
		CriticalOptions: map[string]string{OptSourceAddress: "10.1.0.0/16,192.168.0.0/16"},
	}
	cred, err := newIssuer(t, ca).Issue(context.Background(), req)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	cert := parseCert(t, cred)
	wantCrit := map[string]string{OptForceCommand: "/usr/bin/deploy", OptSourceAddress: "10.1.0.0/16"}
	if !mapsEqual(cert.CriticalOptions, wantCrit) {
		t.Errorf("critical options %v, want %v", cert.CriticalOptions, wantCrit)
	}
	if !mapsEqual(cert.Extensions, map[string]string{"permit-pty": ""}) {
		t.Errorf("extensions %v, want permit-pty only", cert.Extensions)
	}
	// The connection comes from 10.1.2.3, inside the intersection.
	if _, err := checker(ca.PublicKey(), testNow).Authenticate(connMeta{"deploy"}, cert); err != nil {
		t.Errorf("Authenticate: %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	ca := ed25519Signer(t)
	tests := []struct {
		name string
		edit func(*config.SSHIssuer)
		ca   ssh.Signer
		want string
	}{
		{"ok", func(*config.SSHIssuer) {}, ca, ""},
		{"no CA", func(*config.SSHIssuer) {}, nil, "no CA signer"},
		{"no max_ttl", func(c *config.SSHIssuer) { c.MaxTTL = config.Duration{} }, ca, "max_ttl"},
		{"no roles", func(c *config.SSHIssuer) { c.Roles = nil }, ca, "no roles"},
		{"role without principals", func(c *config.SSHIssuer) {
			c.Roles["x"] = config.SSHRole{}
		}, ca, "role x: no principals"},
		{"bad principal", func(c *config.SSHIssuer) {
			c.Roles["x"] = config.SSHRole{Principals: []string{"a\x00"}}
		}, ca, "role x: principal"},
		{"unknown critical option", func(c *config.SSHIssuer) {
			c.Roles["x"] = config.SSHRole{Principals: []string{"a"}, CriticalOptions: map[string]string{"x@example.com": ""}}
		}, ca, "unknown critical option"},
	}
	for _, tt := range tests {
		cfg := testConfig()
		tt.edit(cfg)
		_, err := New(cfg, tt.ca)
		wantErr(t, tt.name, err, tt.want)
	}
	_, err := New(nil, ca)
	wantErr(t, "nil config", err, "not configured")
}

func TestNewCopiesConfig(t *testing.T) {
	cfg := testConfig()
	iss2, err := New(cfg, ed25519Signer(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Roles["wide"].Principals[0] = "root"
	p, err := iss2.Plan(request("wide", nil))
	if err != nil || !slices.Equal(p.Principals, []string{"deploy", "ubuntu"}) {
		t.Errorf("Plan after editing the config: %v %v", p.Principals, err)
	}
}

func mapsEqual(a, b map[string]string) bool { return maps.Equal(a, b) }

// TestIssueConcurrent issues from many goroutines (run with -race).
func TestIssueConcurrent(t *testing.T) {
	ca, user := ed25519Signer(t), ed25519Signer(t)
	iss := newIssuer(t, ca)
	errs := make(chan error, 16)
	for n := range 16 {
		go func() {
			req := request("locked", authorizedKey(user.PublicKey()))
			req.Lease.Credential.Serial = uint64(n + 1)
			if n%2 == 0 {
				req.Grant = &engine.Grant{CriticalOptions: map[string]string{OptSourceAddress: "10.2.0.0/16"}}
			}
			_, err := iss.Issue(context.Background(), req)
			errs <- err
		}()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Errorf("Issue: %v", err)
		}
	}
}
