// Package oidc verifies CI jobs' OIDC ID tokens (GitHub Actions, GitLab)
// against an allowlist of trusted issuers, with go-oidc for discovery,
// go-jose for parsing and signatures, and go-jose's jwt package for the
// standard claim checks.
//
// Verify makes its checks in this order, and fails on the first with that
// check's sentinel error (see errors.go):
//
//  1. size: at most MaxTokenBytes (ErrMalformed);
//  2. JWS compact form in canonical base64url, parsed by go-jose with the allowed algorithms
//     (ErrMalformed; an alg outside the list is ErrAlgorithm);
//  3. alg is RS256, RS384, RS512, ES256, ES384 or PS256 (ErrAlgorithm);
//  4. the claims are one JSON object, decoded once, with no claim name
//     that differs from a registered one only in case (ErrMalformed);
//  5. the unverified iss exactly equals an allowlisted issuer, before any
//     network request (ErrIssuerNotAllowed);
//  6. discovery of that issuer (go-oidc NewProvider), whose document must
//     name the configured issuer (ErrIssuerMismatch, else ErrDiscovery),
//     and its JWKS, both through a client that caps response bodies at
//     MaxResponseBytes; cached per issuer;
//  7. the kid is in the JWKS (ErrUnknownKey) and the signature verifies
//     with that key (ErrSignature);
//  8. the registered claims have their types (ErrMalformed), then, with
//     go-jose's jwt package, iss is the configured issuer
//     (ErrIssuerMismatch), aud contains the configured audience
//     (ErrAudience) and exp is present and not before now, with no skew
//     (ErrExpired), as go-oidc's IDTokenVerifier checked them;
//  9. nbf and iat are not in the future beyond MaxClockSkew
//     (ErrNotYetValid).
//
// Replay (single use of a token) is not checked here: the lease store
// records Claims.ReplayKey.
package oidc

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/jit-policy/jit-policy/internal/config"
)

// MaxTokenBytes caps the raw token. GitHub's tokens are about 1.5 KiB.
const MaxTokenBytes = 16 << 10

// MaxClockSkew is how far in the future nbf and iat may be.
const MaxClockSkew = 60 * time.Second

// allowedAlgs returns the signing algorithms a token may use: asymmetric
// ones only, never none or HS*.
func allowedAlgs() []jose.SignatureAlgorithm {
	return []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.PS256}
}

// allowedAlgNames returns allowedAlgs as strings, for error messages.
func allowedAlgNames() []string {
	var names []string
	for _, a := range allowedAlgs() {
		names = append(names, string(a))
	}
	return names
}

// Verifier verifies ID tokens from a fixed allowlist of issuers. It is safe
// for concurrent use; it caches each issuer's discovery document and JWKS.
type Verifier struct {
	client  *http.Client       // caps response bodies; see issuerClient
	issuers map[string]*issuer // by exact issuer URL; not modified after NewVerifier
	now     func() time.Time
}

// issuer is one allowlisted issuer and, once discovered, its verifier.
type issuer struct {
	cfg config.OIDCProvider

	mu   sync.Mutex // held during discovery, so one discovery runs at a time
	keys atomic.Pointer[keySet]
}

// NewVerifier returns a Verifier that trusts providers. Each issuer must be
// an https:// URL (http:// on loopback only) with an audience, and appear
// once. client makes the discovery and JWKS requests; nil means a client
// with DefaultTimeout. client is not modified: the Verifier uses a copy
// whose transport caps response bodies at MaxResponseBytes.
func NewVerifier(providers []config.OIDCProvider, client *http.Client) (*Verifier, error) {
	v := &Verifier{
		client:  issuerClient(client, MaxResponseBytes),
		issuers: make(map[string]*issuer, len(providers)),
		now:     time.Now,
	}
	for _, p := range providers {
		if err := checkIssuerURL(p.Issuer); err != nil {
			return nil, fmt.Errorf("oidc: %w", err)
		}
		if p.Audience == "" {
			return nil, fmt.Errorf("oidc: issuer %q has no audience", p.Issuer)
		}
		if v.issuers[p.Issuer] != nil {
			return nil, fmt.Errorf("oidc: issuer %q is listed twice", p.Issuer)
		}
		v.issuers[p.Issuer] = &issuer{cfg: p}
	}
	return v, nil
}

// Verify checks raw, an ID token, as the package documentation describes
// and returns its verified claims. Every error wraps one sentinel (ErrMalformed,
// ErrAlgorithm, …) and never holds raw.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Claims, error) {
	if len(raw) > MaxTokenBytes {
		return nil, failf(ErrMalformed, "token is %d bytes, over the limit of %d", len(raw), MaxTokenBytes)
	}
	if err := canonical(raw); err != nil {
		return nil, failf(ErrMalformed, "not a JWS in compact form: %s", err)
	}
	jws, err := jose.ParseSignedCompact(raw, allowedAlgs())
	if err != nil {
		var alg *jose.ErrUnexpectedSignatureAlgorithm
		if errors.As(err, &alg) {
			return nil, failf(ErrAlgorithm, "alg %s is not one of %v", quote(string(alg.Got)), allowedAlgNames())
		}
		return nil, failf(ErrMalformed, "not a JWS in compact form: %s", short(err))
	}
	if len(jws.Signatures) != 1 {
		return nil, failf(ErrMalformed, "want exactly one signature, got %d", len(jws.Signatures))
	}
	if alg := jws.Signatures[0].Header.Algorithm; !allowed(alg) {
		return nil, failf(ErrAlgorithm, "alg %s is not one of %v", quote(alg), allowedAlgNames())
	}
	// The payload is decoded once, before the signature check because the
	// issuer picks the keys; its values are judged only after it verified.
	unverified := jws.UnsafePayloadWithoutVerification()
	all, err := decodeClaims(unverified)
	if err != nil {
		return nil, err
	}
	name, ok := all["iss"].(string)
	if !ok {
		if all["iss"] == nil {
			return nil, failf(ErrMalformed, "token has no iss claim")
		}
		return nil, failf(ErrMalformed, "iss is not a string")
	}
	iss := v.issuers[name]
	if iss == nil {
		return nil, failf(ErrIssuerNotAllowed, "iss %s is not an allowlisted issuer", quote(name))
	}
	keys, err := v.discover(ctx, iss)
	if err != nil {
		return nil, err
	}
	payload, err := keys.verify(ctx, jws)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(payload, unverified) { // go-jose returns the same bytes
		return nil, failf(ErrSignature, "the verified payload is not the decoded one")
	}
	return newClaims(all, iss.cfg, v.now())
}

// canonical checks that raw is three dot-separated parts (only the
// signature may be empty, as alg none's is, refused later) in canonical
// unpadded base64url: only the alphabet's characters (Go's decoder skips
// CR and LF) and zero unused bits. go-jose verifies the
// signature over the decoded parts, so without this check many spellings
// of one token would verify and each would count as a different token.
func canonical(raw string) error {
	parts := strings.SplitN(raw, ".", 4)
	if len(parts) != 3 {
		return errors.New("want three dot-separated parts")
	}
	for i, part := range parts {
		if part == "" && i < 2 {
			return fmt.Errorf("part %d is empty", i+1)
		}
		for j := 0; j < len(part); j++ {
			if c := part[j]; !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("part %d holds a character outside base64url", i+1)
			}
		}
		if _, err := base64.RawURLEncoding.Strict().DecodeString(part); err != nil {
			return fmt.Errorf("part %d is not canonical base64url", i+1)
		}
	}
	return nil
}

func allowed(alg string) bool {
	for _, a := range allowedAlgs() {
		if string(a) == alg {
			return true
		}
	}
	return false
}

// discover returns iss's key set, running go-oidc's discovery
// the first time (and again after a failure). The discovered issuer must be
// the configured one, and the JWKS URL must be https (http on loopback).
func (v *Verifier) discover(ctx context.Context, iss *issuer) (*keySet, error) {
	if keys := iss.keys.Load(); keys != nil {
		return keys, nil
	}
	iss.mu.Lock()
	defer iss.mu.Unlock()
	if keys := iss.keys.Load(); keys != nil {
		return keys, nil
	}
	name := iss.cfg.Issuer
	p, err := gooidc.NewProvider(gooidc.ClientContext(ctx, v.client), name)
	if err != nil {
		var mismatch *gooidc.IssuerMismatchError
		if errors.As(err, &mismatch) {
			return nil, failf(ErrIssuerMismatch, "the discovery document of %s names issuer %s", name, quote(mismatch.Discovered))
		}
		return nil, failf(ErrDiscovery, "%s: %s", name, short(err))
	}
	var doc struct {
		JWKSURL string `json:"jwks_uri"`
	}
	if err := p.Claims(&doc); err != nil || doc.JWKSURL == "" {
		return nil, failf(ErrDiscovery, "%s: the discovery document has no jwks_uri", name)
	}
	if u, err := url.Parse(doc.JWKSURL); err != nil || checkURL(u) != nil {
		return nil, failf(ErrDiscovery, "%s: jwks_uri %s must be an https:// URL (http only on loopback)", name, quote(doc.JWKSURL))
	}
	keys := &keySet{url: doc.JWKSURL, client: v.client, now: v.now}
	iss.keys.Store(keys)
	return keys, nil
}
