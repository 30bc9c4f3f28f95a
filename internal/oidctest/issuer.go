// Package oidctest runs a real OIDC issuer over HTTP for tests: discovery,
// a JWKS with an RSA-2048 and an EC P-256 key, GitHub Actions' runner token
// endpoint, and minting of valid and forged ID tokens shaped like GitHub
// Actions'. It is a regular package so that any package's tests can import
// it; nothing outside tests should.
package oidctest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// Key IDs of the issuer's keys. KIDForeign names a key that is not in the
// JWKS.
const (
	KIDRSA     = "rsa-1"
	KIDEC      = "ec-1"
	KIDForeign = "foreign-1"
)

// DefaultAudience is the aud of minted tokens unless MintOptions.Claims
// sets one.
const DefaultAudience = "jit-policy"

// Issuer is a running OIDC issuer on 127.0.0.1. Its server is closed when
// the test ends. Methods are safe for concurrent use.
type Issuer struct {
	srv     *httptest.Server
	rsa     *rsa.PrivateKey                 // in the JWKS as KIDRSA
	ec      *ecdsa.PrivateKey               // in the JWKS as KIDEC
	foreign func() (*rsa.PrivateKey, error) // not in the JWKS; made on first use

	// RequestToken is the bearer token the runner endpoint requires, as
	// ACTIONS_ID_TOKEN_REQUEST_TOKEN carries it.
	RequestToken string

	mu              sync.Mutex
	requests        []string // "METHOD PATH?QUERY" of every request served
	discoveryIssuer string   // issuer in the discovery document; "" means URL()
}

// NewIssuer starts an issuer with fresh keys.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	i := &Issuer{
		rsa:          genRSA(t),
		foreign:      sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) }),
		RequestToken: "runner-" + randomID(),
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("oidctest: EC key: %v", err)
	}
	i.ec = ec
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", i.serveDiscovery)
	mux.HandleFunc("GET /.well-known/jwks", i.serveJWKS)
	mux.HandleFunc("GET /token", i.serveRunnerToken)
	i.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i.mu.Lock()
		i.requests = append(i.requests, r.Method+" "+r.URL.RequestURI())
		i.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(i.srv.Close)
	return i
}

// genRSA returns a new RSA-2048 key.
func genRSA(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("oidctest: RSA key: %v", err)
	}
	return k
}

// URL returns the issuer URL, "http://127.0.0.1:PORT", which is also the
// iss of minted tokens.
func (i *Issuer) URL() string { return i.srv.URL }

// Client returns an HTTP client for the issuer's server.
func (i *Issuer) Client() *http.Client { return i.srv.Client() }

// Requests returns "METHOD /path?query" for every request the server has
// received, in order.
func (i *Issuer) Requests() []string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return append([]string(nil), i.requests...)
}

// SetDiscoveryIssuer makes the discovery document name iss as the issuer
// instead of URL(); "" restores URL().
func (i *Issuer) SetDiscoveryIssuer(iss string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.discoveryIssuer = iss
}

// RunnerEnv returns the environment GitHub's runner gives a job with
// `permissions: id-token: write` whose token has DefaultClaims:
// ACTIONS_ID_TOKEN_REQUEST_URL (this server's /token, with a query as
// GitHub's has), ACTIONS_ID_TOKEN_REQUEST_TOKEN, and the job's run,
// GITHUB_REPOSITORY, GITHUB_RUN_ID and GITHUB_RUN_ATTEMPT. Use its Get
// method as a getenv.
func (i *Issuer) RunnerEnv() Env {
	return Env{
		"ACTIONS_ID_TOKEN_REQUEST_URL":   i.URL() + "/token?api-version=2.0",
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": i.RequestToken,
		"GITHUB_REPOSITORY":              DefaultRepository,
		"GITHUB_RUN_ID":                  DefaultRunID,
		"GITHUB_RUN_ATTEMPT":             DefaultRunAttempt,
	}
}

// Env is a set of environment variables.
type Env map[string]string

// Get returns the value of name, "" when unset; it fits a getenv parameter.
func (e Env) Get(name string) string { return e[name] }

// serveDiscovery serves the OpenID Provider metadata.
func (i *Issuer) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	i.mu.Lock()
	iss := i.discoveryIssuer
	i.mu.Unlock()
	if iss == "" {
		iss = i.URL()
	}
	writeJSON(w, map[string]any{
		"issuer":                                iss,
		"jwks_uri":                              i.URL() + "/.well-known/jwks",
		"subject_types_supported":               []string{"public", "pairwise"},
		"response_types_supported":              []string{"id_token"},
		"claims_supported":                      []string{"sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "repository", "environment"},
		"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
		"scopes_supported":                      []string{"openid"},
	})
}

// serveJWKS serves the public RSA and EC keys.
func (i *Issuer) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: i.rsa.Public(), KeyID: KIDRSA, Algorithm: string(jose.RS256), Use: "sig"},
		{Key: i.ec.Public(), KeyID: KIDEC, Algorithm: string(jose.ES256), Use: "sig"},
	}})
}

// serveRunnerToken is GitHub's runner token endpoint: GET
// /token?audience=A with the request token as bearer returns
// {"count": len, "value": "<jwt>"} for audience A (default: the owner's URL,
// as GitHub's).
func (i *Issuer) serveRunnerToken(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+i.RequestToken {
		http.Error(w, `{"message":"bad credentials"}`, http.StatusUnauthorized)
		return
	}
	aud := r.URL.Query().Get("audience")
	if aud == "" {
		aud = "https://github.com/org"
	}
	tok, err := i.mint(MintOptions{Claims: map[string]any{"aud": aud}})
	if err != nil {
		http.Error(w, "oidctest: mint: "+err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, map[string]any{"count": len(tok), "value": tok})
}

// writeJSON writes v as a JSON response.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
