package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/internal/oidctest"
)

// trusting returns a verifier that trusts iss for DefaultAudience.
func trusting(t testing.TB, iss *oidctest.Issuer) *Verifier {
	t.Helper()
	v, err := NewVerifier([]config.OIDCProvider{{Issuer: iss.URL(), Audience: oidctest.DefaultAudience}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// fixture is a verifier trusting three real issuers: good, mismatched
// (whose discovery names another issuer) and down (nothing listening);
// other is a real issuer that is not trusted.
type fixture struct {
	good, mismatched, other *oidctest.Issuer
	downURL                 string
	v                       *Verifier
}

// newFixture starts the fixture's issuers and verifier.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{
		good:       oidctest.NewIssuer(t),
		mismatched: oidctest.NewIssuer(t),
		other:      oidctest.NewIssuer(t),
	}
	f.mismatched.SetDiscoveryIssuer("https://token.actions.githubusercontent.com")
	down := httptest.NewServer(http.NotFoundHandler())
	f.downURL = down.URL
	down.Close()
	v, err := NewVerifier([]config.OIDCProvider{
		{Issuer: f.good.URL(), Audience: oidctest.DefaultAudience},
		{Issuer: f.mismatched.URL(), Audience: oidctest.DefaultAudience},
		{Issuer: f.downURL, Audience: oidctest.DefaultAudience},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.v = v
	return f
}

// sentinels lists every sentinel, for tests that check that exactly one
// matches.
func sentinels() []error {
	return []error{ErrMalformed, ErrAlgorithm, ErrIssuerNotAllowed, ErrIssuerMismatch,
		ErrDiscovery, ErrUnknownKey, ErrSignature, ErrAudience, ErrExpired, ErrNotYetValid}
}

// checkErr fails unless err wraps want and no other sentinel, and holds
// no part of raw.
func checkErr(t *testing.T, raw string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("err = %v, want %v", err, want)
		return
	}
	for _, s := range sentinels() {
		if s != want && errors.Is(err, s) {
			t.Errorf("err = %v also matches %v", err, s)
		}
	}
	for _, part := range append(strings.Split(raw, "."), raw) {
		if len(part) >= 16 && strings.Contains(err.Error(), part) {
			t.Errorf("err = %v holds part of the token", err)
		}
	}
}

// TestVerify runs valid and forged tokens against real issuers over HTTP;
// each refusal must carry its own sentinel.
func TestVerify(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	g := f.good
	now := time.Now()
	at := func(d time.Duration) int64 { return now.Add(d).Unix() }
	mint := func(o oidctest.MintOptions) func(*testing.T) string {
		return func(t *testing.T) string { return g.Mint(t, o) }
	}
	claims := func(c map[string]any) func(*testing.T) string { return mint(oidctest.MintOptions{Claims: c}) }
	tests := []struct {
		name  string
		token func(*testing.T) string
		want  error // nil: verifies
	}{
		{"RS256", mint(oidctest.MintOptions{}), nil},
		{"ES256", mint(oidctest.MintOptions{Key: oidctest.KeyEC}), nil},
		{"no kid", mint(oidctest.MintOptions{NoKID: true}), nil},
		{"aud list holding ours", claims(map[string]any{"aud": []string{"x", oidctest.DefaultAudience}}), nil},
		{"nbf and iat within skew", claims(map[string]any{"nbf": at(30 * time.Second), "iat": at(30 * time.Second)}), nil},
		{"no iat, nbf, jti", claims(map[string]any{"iat": nil, "nbf": nil, "jti": nil}), nil},

		{"bad signature", func(t *testing.T) string { return g.MintBadSignature(t, oidctest.MintOptions{}) }, ErrSignature},
		{"bad EC signature", func(t *testing.T) string { return g.MintBadSignature(t, oidctest.MintOptions{Key: oidctest.KeyEC}) }, ErrSignature},
		{"another key's signature", mint(oidctest.MintOptions{Key: oidctest.KeyForeign, KID: oidctest.KIDRSA}), ErrSignature},
		{"another key's signature, no kid", mint(oidctest.MintOptions{Key: oidctest.KeyForeign, NoKID: true}), ErrSignature},
		{"alg none", func(t *testing.T) string { return g.MintNone(t, oidctest.MintOptions{}) }, ErrAlgorithm},
		{"HS256 keyed with the RSA public key", func(t *testing.T) string { return g.MintHS256WithPublicKey(t, oidctest.MintOptions{}) }, ErrAlgorithm},
		{"alg the key is not for", mint(oidctest.MintOptions{Alg: "PS256"}), ErrAlgorithm},
		{"EC signature under the RSA kid", mint(oidctest.MintOptions{Key: oidctest.KeyEC, KID: oidctest.KIDRSA}), ErrAlgorithm},
		{"expired", claims(map[string]any{"exp": at(-time.Minute), "iat": at(-10 * time.Minute), "nbf": at(-10 * time.Minute)}), ErrExpired},
		{"no exp", claims(map[string]any{"exp": nil}), ErrExpired},
		{"nbf in 2m", claims(map[string]any{"nbf": at(2 * time.Minute)}), ErrNotYetValid},
		{"nbf in 10m", claims(map[string]any{"nbf": at(10 * time.Minute), "exp": at(20 * time.Minute)}), ErrNotYetValid},
		{"iat in the future", claims(map[string]any{"iat": at(2 * time.Minute)}), ErrNotYetValid},
		{"wrong audience", claims(map[string]any{"aud": "someone-else"}), ErrAudience},
		{"no audience", claims(map[string]any{"aud": nil}), ErrAudience},
		{"issuer with a trailing slash", claims(map[string]any{"iss": g.URL() + "/"}), ErrIssuerNotAllowed},
		{"issuer not on the allowlist", func(t *testing.T) string { return f.other.Mint(t, oidctest.MintOptions{}) }, ErrIssuerNotAllowed},
		{"discovery names another issuer", func(t *testing.T) string { return f.mismatched.Mint(t, oidctest.MintOptions{}) }, ErrIssuerMismatch},
		{"issuer down", claims(map[string]any{"iss": f.downURL}), ErrDiscovery},
		{"unknown kid", mint(oidctest.MintOptions{Key: oidctest.KeyForeign}), ErrUnknownKey},
		{"oversized", claims(map[string]any{"pad": strings.Repeat("a", MaxTokenBytes)}), ErrMalformed},
		{"jti not a string", claims(map[string]any{"jti": 7}), ErrMalformed},
		{"exp not a number", claims(map[string]any{"exp": "soon"}), ErrMalformed},
		{"sub and Sub", claims(map[string]any{"Sub": "repo:evil/app:ref:refs/heads/main"}), ErrMalformed},
		{"iss and ISS", claims(map[string]any{"ISS": "https://token.actions.githubusercontent.com"}), ErrMalformed},
		{"ISS only", claims(map[string]any{"iss": nil, "ISS": g.URL()}), ErrMalformed},
		{"aud list without ours", claims(map[string]any{"aud": []string{"x", "y"}}), ErrAudience},
		{"aud a number", claims(map[string]any{"aud": 7}), ErrMalformed},
		{"exp a numeric string", claims(map[string]any{"exp": "99999999999"}), ErrMalformed},
		{"iat not a number", claims(map[string]any{"iat": "now"}), ErrMalformed},
		{"nbf not a number", claims(map[string]any{"nbf": "now"}), ErrMalformed},
		{"sub not a string", claims(map[string]any{"sub": 7}), ErrMalformed},
		{"no iss", claims(map[string]any{"iss": nil}), ErrMalformed},
		{"trailing newline", func(t *testing.T) string { return g.Mint(t, oidctest.MintOptions{}) + "\n" }, ErrMalformed},
		{"JSON serialization", func(*testing.T) string {
			return `{"payload":"e30","protected":"eyJhbGciOiJSUzI1NiJ9","signature":"AA"}`
		}, ErrMalformed},
		{"empty", func(*testing.T) string { return "" }, ErrMalformed},
		{"garbage", func(*testing.T) string { return "not a token" }, ErrMalformed},
		{"three garbage parts", func(*testing.T) string { return "a.b.c" }, ErrMalformed},
		{"four parts", func(t *testing.T) string { return g.Mint(t, oidctest.MintOptions{}) + ".x" }, ErrMalformed},
		{"claims not JSON", func(*testing.T) string { return "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.AA" }, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := tt.token(t)
			c, err := f.v.Verify(context.Background(), raw)
			if tt.want != nil {
				if c != nil {
					t.Errorf("claims %v returned with an error", c)
				}
				checkErr(t, raw, err, tt.want)
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if c.Issuer != g.URL() || c.Subject != "repo:org/app:environment:prod" || c.All["repository"] != "org/app" {
				t.Errorf("claims = %+v", c)
			}
		})
	}
	if got := f.other.Requests(); len(got) != 0 {
		t.Errorf("the issuer not on the allowlist was asked %v", got)
	}
}

// TestClaims checks the claims of a verified token and its ReplayKey.
func TestClaims(t *testing.T) {
	t.Parallel()
	iss := oidctest.NewIssuer(t)
	v := trusting(t, iss)
	raw := iss.Mint(t, oidctest.MintOptions{Claims: map[string]any{"aud": []string{"a", "jit-policy"}, "run_id": 12345678901234567}})
	c, err := v.Verify(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Audience) != 2 || c.Audience[1] != "jit-policy" {
		t.Errorf("Audience = %v", c.Audience)
	}
	if n, ok := c.All["run_id"].(json.Number); !ok || n.String() != "12345678901234567" {
		t.Errorf("run_id = %#v, want json.Number 12345678901234567", c.All["run_id"])
	}
	if c.ID == "" || c.All["jti"] != c.ID {
		t.Errorf("ID = %q, jti = %v", c.ID, c.All["jti"])
	}
	if d := time.Until(c.Expiry); d < 4*time.Minute || d > 5*time.Minute {
		t.Errorf("Expiry = %v", c.Expiry)
	}
	if c.IssuedAt.IsZero() || c.NotBefore.IsZero() {
		t.Errorf("IssuedAt = %v, NotBefore = %v", c.IssuedAt, c.NotBefore)
	}
	if got, want := c.ReplayKey(raw), "jti:"+iss.URL()+"#"+c.ID; got != want {
		t.Errorf("ReplayKey = %q, want %q", got, want)
	}
	c.ID = ""
	key := c.ReplayKey(raw)
	resigned := raw[:strings.LastIndexByte(raw, '.')] + ".AAAA"
	if !strings.HasPrefix(key, "sha256:") || len(key) != 7+64 || c.ReplayKey(resigned) != key {
		t.Errorf("ReplayKey without jti = %q, not the hash of the signing input", key)
	}
	if other := iss.Mint(t, oidctest.MintOptions{Claims: map[string]any{"jti": nil}}); c.ReplayKey(other) == key {
		t.Errorf("two tokens share ReplayKey %q", key)
	}
}

// TestNewVerifier checks which allowlists NewVerifier accepts.
func TestNewVerifier(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    []config.OIDCProvider
		ok   bool
	}{
		{"https", []config.OIDCProvider{{Issuer: "https://token.actions.githubusercontent.com", Audience: "a"}}, true},
		{"loopback http", []config.OIDCProvider{{Issuer: "http://127.0.0.1:8080", Audience: "a"}, {Issuer: "http://[::1]/x", Audience: "a"}, {Issuer: "http://localhost:9", Audience: "a"}}, true},
		{"none", nil, true},
		{"http", []config.OIDCProvider{{Issuer: "http://example.com", Audience: "a"}}, false},
		{"ftp", []config.OIDCProvider{{Issuer: "ftp://example.com", Audience: "a"}}, false},
		{"no host", []config.OIDCProvider{{Issuer: "https:///x", Audience: "a"}}, false},
		{"query", []config.OIDCProvider{{Issuer: "https://example.com/?a=b", Audience: "a"}}, false},
		{"user", []config.OIDCProvider{{Issuer: "https://u:p@example.com", Audience: "a"}}, false},
		{"no audience", []config.OIDCProvider{{Issuer: "https://example.com"}}, false},
		{"twice", []config.OIDCProvider{{Issuer: "https://example.com", Audience: "a"}, {Issuer: "https://example.com", Audience: "b"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewVerifier(tt.p, nil)
			if (err == nil) != tt.ok || (v != nil) != tt.ok {
				t.Errorf("NewVerifier = %v, %v; want ok %v", v, err, tt.ok)
			}
		})
	}
}

// TestConcurrentVerify verifies from many goroutines (run with -race) and
// checks that discovery ran once.
func TestConcurrentVerify(t *testing.T) {
	t.Parallel()
	iss := oidctest.NewIssuer(t)
	v := trusting(t, iss)
	tokens := []string{
		iss.Mint(t, oidctest.MintOptions{}),
		iss.Mint(t, oidctest.MintOptions{Key: oidctest.KeyEC}),
		iss.MintBadSignature(t, oidctest.MintOptions{}),
	}
	var wg sync.WaitGroup
	for i := range 24 {
		wg.Go(func() {
			raw := tokens[i%len(tokens)]
			_, err := v.Verify(context.Background(), raw)
			if bad := i%len(tokens) == 2; bad != errors.Is(err, ErrSignature) || (!bad && err != nil) {
				t.Errorf("token %d: %v", i%len(tokens), err)
			}
		})
	}
	wg.Wait()
	discoveries := 0
	for _, r := range iss.Requests() {
		if strings.HasPrefix(r, "GET /.well-known/openid-configuration") {
			discoveries++
		}
	}
	if discoveries != 1 {
		t.Errorf("%d discovery requests, want 1 (cached)", discoveries)
	}
}
