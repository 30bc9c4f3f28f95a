package oidc

import (
	"context"
	"errors"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/internal/oidctest"
)

// Fuzzing workers are separate processes that run FuzzVerify's setup
// again: a worker issuer of their own would have another URL and other
// keys than the tokens the coordinator minted, and they would never get
// past the allowlist. So the first process publishes its issuer's URL and
// valid signing inputs in the environment, which the workers inherit, and
// workers trust that issuer (it runs until fuzzing ends).
const (
	envFuzzIssuer = "JIT_POLICY_OIDC_FUZZ_ISSUER"
	envFuzzValid  = "JIT_POLICY_OIDC_FUZZ_VALID"
)

// fuzzIssuer returns the issuer URL to trust and the signing inputs of the
// tokens it minted as valid, adding its tokens to f's corpus.
func fuzzIssuer(f *testing.F) (string, map[string]bool) {
	valid := map[string]bool{}
	if u := os.Getenv(envFuzzIssuer); u != "" {
		for _, in := range strings.Fields(os.Getenv(envFuzzValid)) {
			valid[in] = true
		}
		return u, valid
	}
	iss := oidctest.NewIssuer(f)
	// Minted valid tokens live an hour, so that a long fuzzing run still
	// reaches the claim checks.
	exp := map[string]any{"exp": time.Now().Add(time.Hour).Unix()}
	for _, o := range []oidctest.MintOptions{
		{Claims: exp},
		{Claims: exp, Key: oidctest.KeyEC},
		{Claims: exp, NoKID: true},
		{Claims: map[string]any{"exp": exp["exp"], "aud": []string{"a", oidctest.DefaultAudience}, "jti": nil}},
	} {
		raw := iss.Mint(f, o)
		valid[signingInput(raw)] = true
		f.Add(raw)
	}
	at := func(d time.Duration) int64 { return time.Now().Add(d).Unix() }
	for _, raw := range []string{
		iss.MintBadSignature(f, oidctest.MintOptions{Claims: exp}),
		iss.MintNone(f, oidctest.MintOptions{Claims: exp}),
		iss.MintHS256WithPublicKey(f, oidctest.MintOptions{Claims: exp}),
		iss.Mint(f, oidctest.MintOptions{Claims: exp, Key: oidctest.KeyForeign}),
		iss.Mint(f, oidctest.MintOptions{Claims: exp, Key: oidctest.KeyForeign, KID: oidctest.KIDRSA}),
		iss.Mint(f, oidctest.MintOptions{Claims: map[string]any{"exp": at(-time.Minute)}}),
		iss.Mint(f, oidctest.MintOptions{Claims: map[string]any{"exp": exp["exp"], "nbf": at(time.Hour)}}),
		iss.Mint(f, oidctest.MintOptions{Claims: map[string]any{"exp": exp["exp"], "aud": "other"}}),
	} {
		f.Add(raw)
	}
	f.Setenv(envFuzzIssuer, iss.URL())
	f.Setenv(envFuzzValid, strings.Join(slices.Collect(maps.Keys(valid)), " "))
	return iss.URL(), valid
}

// signingInput returns "header.payload" of a compact JWS.
func signingInput(raw string) string {
	if i := strings.LastIndexByte(raw, '.'); i >= 0 {
		return raw[:i]
	}
	return raw
}

// FuzzVerify feeds tokens, valid and forged, and their mutations to a
// Verifier trusting one real local issuer. Verify must not panic; an error
// must wrap exactly one sentinel and not hold the token; and a token that
// verifies must have the signing input (header.payload, byte for byte) of
// a token the issuer minted as valid: nothing forged or altered verifies.
// Seeds: testdata/fuzz/FuzzVerify and the tokens minted below.
func FuzzVerify(f *testing.F) {
	issuer, valid := fuzzIssuer(f)
	v, err := NewVerifier([]config.OIDCProvider{{Issuer: issuer, Audience: oidctest.DefaultAudience}}, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := v.Verify(ctx, raw)
		if err == nil {
			if c == nil {
				t.Fatal("Verify returned neither claims nor an error")
			}
			if !valid[signingInput(raw)] {
				t.Fatalf("a token the issuer did not mint verified: %q", raw)
			}
			return
		}
		if c != nil {
			t.Fatalf("Verify returned claims with error %v", err)
		}
		n := 0
		for _, s := range sentinels() {
			if errors.Is(err, s) {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("error %v wraps %d sentinels, want 1", err, n)
		}
		if len(raw) >= 32 && strings.Contains(err.Error(), raw) {
			t.Fatalf("error %v holds the token", err)
		}
	})
}
