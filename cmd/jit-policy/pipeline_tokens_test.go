package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/oidctest"
)

// TestIssueRefusesBadTokens: every forged, expired, misdirected or replayed
// token is refused with its own error and leaves no lease and no
// certificate; an ES256 token from the issuer's EC key is accepted. (A
// flipped signature bit and another key's signature are the same failure to
// any verifier: the signature does not verify with the named key.)
func TestIssueRefusesBadTokens(t *testing.T) {
	e := newPipelineEnv(t, "")
	now := time.Now()
	claims := func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	replayed := e.oidc.Mint(t, oidctest.MintOptions{})
	if code, _, errOut := e.issue(t, replayed, func(p *issueParams) { p.generateKey = true; p.outDir = filepath.Join(e.dir, "first") }); code != 0 {
		t.Fatalf("first use of the token: exit %d\n%s", code, errOut)
	}
	before := len(e.allLeases(t))

	tests := []struct {
		name, token, wantErr string
	}{
		{"bad signature", e.oidc.MintBadSignature(t, oidctest.MintOptions{}), "invalid signature"},
		{"another key's signature", e.oidc.Mint(t, oidctest.MintOptions{Key: oidctest.KeyForeign, KID: oidctest.KIDRSA}), "invalid signature"},
		{"alg none", e.oidc.MintNone(t, oidctest.MintOptions{}), `signing algorithm not allowed: alg "none"`},
		{"HS256 keyed with the public key", e.oidc.MintHS256WithPublicKey(t, oidctest.MintOptions{}), `signing algorithm not allowed: alg "HS256"`},
		{"expired", e.oidc.Mint(t, oidctest.MintOptions{Claims: claims("exp", now.Add(-time.Minute).Unix(), "iat", now.Add(-10*time.Minute).Unix(), "nbf", now.Add(-10*time.Minute).Unix())}), "token expired"},
		{"not yet valid", e.oidc.Mint(t, oidctest.MintOptions{Claims: claims("nbf", now.Add(time.Hour).Unix(), "exp", now.Add(2*time.Hour).Unix())}), "token not yet valid"},
		{"wrong audience", e.oidc.Mint(t, oidctest.MintOptions{Claims: claims("aud", "someone-else")}), "wrong audience"},
		{"issuer not on the allowlist", e.oidc.Mint(t, oidctest.MintOptions{Claims: claims("iss", "https://token.example.com")}), "issuer not allowed"},
		{"unknown kid", e.oidc.Mint(t, oidctest.MintOptions{Key: oidctest.KeyForeign, KID: oidctest.KIDForeign}), "unknown signing key"},
		{"replayed token", replayed, "token was already used"},
		{"garbage", "not.a.jwt", "malformed token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(e.dir, "out-"+strings.ReplaceAll(tc.name, " ", "-"))
			code, stdout, errOut := e.issue(t, tc.token, func(p *issueParams) { p.generateKey = true; p.outDir = out })
			if code != 2 {
				t.Fatalf("exit %d, want 2\nstdout: %s\nstderr: %s", code, stdout, errOut)
			}
			if !strings.Contains(errOut, tc.wantErr) {
				t.Errorf("stderr = %q, want it to name %q", errOut, tc.wantErr)
			}
			if strings.Contains(errOut, tc.token) && len(tc.token) > 20 {
				t.Error("the raw token reached the output")
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a credential folder was written: %v", err)
			}
			if n := len(e.allLeases(t)); n != before {
				t.Errorf("%d leases, want %d: a refused token left a lease", n, before)
			}
		})
	}

	t.Run("ES256 from the EC key is accepted", func(t *testing.T) {
		code, _, errOut := e.issue(t, e.oidc.Mint(t, oidctest.MintOptions{Key: oidctest.KeyEC}), func(p *issueParams) { p.generateKey = true; p.outDir = filepath.Join(e.dir, "ec") })
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, errOut)
		}
	})
}

// TestIssueRefusesIssuerMismatch: discovery that names another issuer than
// the token's is refused.
func TestIssueRefusesIssuerMismatch(t *testing.T) {
	e := newPipelineEnv(t, "")
	e.oidc.SetDiscoveryIssuer("https://token.actions.githubusercontent.com")
	code, _, errOut := e.issue(t, e.oidc.Mint(t, oidctest.MintOptions{}), func(p *issueParams) { p.generateKey = true; p.outDir = filepath.Join(e.dir, "x") })
	if code != 2 || !strings.Contains(errOut, "issuer mismatch") {
		t.Fatalf("exit %d, stderr %q; want 2 naming the issuer mismatch", code, errOut)
	}
	if n := len(e.allLeases(t)); n != 0 {
		t.Errorf("%d leases, want none", n)
	}
}

// TestIssueDeniedByPolicy: a token from another branch is denied with the
// policy's reason, exit 1, and records nothing.
func TestIssueDeniedByPolicy(t *testing.T) {
	e := newPipelineEnv(t, "")
	tok := e.oidc.Mint(t, oidctest.MintOptions{Claims: map[string]any{"ref": "refs/heads/feature"}})
	code, _, errOut := e.issue(t, tok, func(p *issueParams) { p.generateKey = true; p.outDir = filepath.Join(e.dir, "x") })
	if code != 1 || !strings.Contains(errOut, "denied: ") {
		t.Fatalf("exit %d, stderr %q; want 1 with the reasons", code, errOut)
	}
	if n := len(e.allLeases(t)); n != 0 {
		t.Errorf("%d leases, want none", n)
	}
}
