package oidc

import (
	"context"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/oidctest"
)

// BenchmarkVerify verifies a GitHub-Actions-shaped RS256 token (RSA-2048,
// 28 claims) whose issuer's discovery document and JWKS are already
// cached, as on the broker's hot path.
func BenchmarkVerify(b *testing.B) {
	iss := oidctest.NewIssuer(b)
	v := trusting(b, iss)
	raw := iss.Mint(b, oidctest.MintOptions{Claims: map[string]any{
		"exp":          time.Now().Add(time.Hour).Unix(),
		"workflow":     "deploy",
		"workflow_sha": "0123456789abcdef0123456789abcdef01234567",
		"head_ref":     "",
		"base_ref":     "",
	}})
	ctx := context.Background()
	if _, err := v.Verify(ctx, raw); err != nil { // discovery and JWKS
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, raw); err != nil {
			b.Fatal(err)
		}
	}
}
