package oidctest

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"maps"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// KeyKind chooses the key a token is signed with.
type KeyKind int

// The keys a token can be signed with.
const (
	// KeyRSA is the JWKS's RSA-2048 key (kid KIDRSA, RS256 by default).
	KeyRSA KeyKind = iota
	// KeyEC is the JWKS's EC P-256 key (kid KIDEC, ES256).
	KeyEC
	// KeyForeign is an RSA-2048 key that is not in the JWKS (kid
	// KIDForeign unless MintOptions.KID says otherwise).
	KeyForeign
)

// MintOptions say how to mint a token.
type MintOptions struct {
	// Claims are merged over DefaultClaims; a key with a nil value removes
	// that claim.
	Claims map[string]any
	// Key signs the token; the zero value is KeyRSA.
	Key KeyKind
	// Alg overrides the header's alg (and the signing algorithm): by
	// default RS256 for RSA keys and ES256 for the EC key.
	Alg string
	// KID overrides the header's kid; NoKID leaves kid out.
	KID   string
	NoKID bool
}

// The run of DefaultClaims' job, as RunnerEnv also names it.
const (
	DefaultRepository = "org/app"   // repository
	DefaultRunID      = "987654321" // run_id
	DefaultRunAttempt = "1"         // run_attempt
)

// DefaultClaims returns the claims of a GitHub Actions job token from this
// issuer for a deploy job in environment prod of org/app on main: issued
// now, valid for five minutes, with a random jti.
func (i *Issuer) DefaultClaims() map[string]any {
	now := time.Now()
	return map[string]any{
		"iss":                   i.URL(),
		"aud":                   DefaultAudience,
		"sub":                   "repo:org/app:environment:prod",
		"repository":            DefaultRepository,
		"repository_id":         "123456789",
		"repository_owner":      "org",
		"repository_owner_id":   "4242",
		"repository_visibility": "private",
		"ref":                   "refs/heads/main",
		"ref_type":              "branch",
		"sha":                   "0123456789abcdef0123456789abcdef01234567",
		"environment":           "prod",
		"workflow_ref":          "org/app/.github/workflows/deploy.yml@refs/heads/main",
		"job_workflow_ref":      "org/app/.github/workflows/deploy.yml@refs/heads/main",
		"event_name":            "push",
		"run_id":                DefaultRunID,
		"run_number":            "42",
		"run_attempt":           DefaultRunAttempt,
		"check_run_id":          "24681357",
		"actor":                 "alice",
		"actor_id":              "1001",
		"runner_environment":    "github-hosted",
		"jti":                   randomID(),
		"iat":                   now.Unix(),
		"nbf":                   now.Unix(),
		"exp":                   now.Add(5 * time.Minute).Unix(),
	}
}

// Mint returns a token signed as opts say. It fails the test when the key
// cannot sign with the chosen alg.
func (i *Issuer) Mint(t testing.TB, opts MintOptions) string {
	t.Helper()
	tok, err := i.mint(opts)
	if err != nil {
		t.Fatalf("oidctest: mint: %v", err)
	}
	return tok
}

// MintNone returns an unsigned token: alg "none", kid KIDRSA, an empty
// signature.
func (i *Issuer) MintNone(t testing.TB, opts MintOptions) string {
	t.Helper()
	return compact(t, i.header("none", opts, KIDRSA), i.claims(opts), func([]byte) []byte { return nil })
}

// MintHS256WithPublicKey returns the key-confusion forgery: alg HS256, kid
// KIDRSA, MACed with the PEM of the RSA key's public half, which a verifier
// that takes alg from the token would use as the HMAC secret.
func (i *Issuer) MintHS256WithPublicKey(t testing.TB, opts MintOptions) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(i.rsa.Public())
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	return compact(t, i.header("HS256", opts, KIDRSA), i.claims(opts), func(input []byte) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write(input)
		return m.Sum(nil)
	})
}

// MintBadSignature returns a token minted as Mint would, with one bit of
// its signature flipped.
func (i *Issuer) MintBadSignature(t testing.TB, opts MintOptions) string {
	t.Helper()
	tok := i.Mint(t, opts)
	dot := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[dot+1:])
	if err != nil || len(sig) == 0 {
		t.Fatalf("oidctest: signature: %v", err)
	}
	sig[len(sig)/2] ^= 0x01
	return tok[:dot+1] + base64.RawURLEncoding.EncodeToString(sig)
}

// mint signs with go-jose.
func (i *Issuer) mint(opts MintOptions) (string, error) {
	key, kid, alg := crypto.Signer(i.rsa), KIDRSA, jose.RS256
	switch opts.Key {
	case KeyEC:
		key, kid, alg = i.ec, KIDEC, jose.ES256
	case KeyForeign:
		foreign, err := i.foreign()
		if err != nil {
			return "", err
		}
		key, kid = foreign, KIDForeign
	}
	if opts.Alg != "" {
		alg = jose.SignatureAlgorithm(opts.Alg)
	}
	jwk := jose.JSONWebKey{Key: key}
	if !opts.NoKID {
		jwk.KeyID = kid
		if opts.KID != "" {
			jwk.KeyID = opts.KID
		}
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jwk}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(i.claims(opts))
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// claims merges opts.Claims over DefaultClaims.
func (i *Issuer) claims(opts MintOptions) map[string]any {
	c := i.DefaultClaims()
	maps.Copy(c, opts.Claims)
	for k, v := range c {
		if v == nil {
			delete(c, k)
		}
	}
	return c
}

// header is a forged token's header: alg, typ JWT and the kid opts choose
// (kid by default).
func (i *Issuer) header(alg string, opts MintOptions, kid string) map[string]any {
	h := map[string]any{"alg": alg, "typ": "JWT"}
	if opts.KID != "" {
		kid = opts.KID
	}
	if !opts.NoKID {
		h["kid"] = kid
	}
	return h
}

// compact builds a compact JWS by hand, signing "header.payload" with sign.
func compact(t testing.TB, header, claims map[string]any, sign func([]byte) []byte) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	return input + "." + base64.RawURLEncoding.EncodeToString(sign([]byte(input)))
}

// randomID returns a random 128-bit identifier.
func randomID() string { return rand.Text() }
