package oidc

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"math"
	"strings"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
)

// Claims are a verified token's claims.
type Claims struct {
	Issuer    string    // iss
	Subject   string    // sub
	Audience  []string  // aud, one or more
	ID        string    // jti; empty when the token has none
	Expiry    time.Time // exp
	IssuedAt  time.Time // iat; zero when absent
	NotBefore time.Time // nbf; zero when absent

	// All holds every verified claim as decoded from JSON with UseNumber:
	// objects are map[string]any, arrays []any, and numbers json.Number
	// (never float64), so large ids keep every digit.
	All map[string]any
}

// ReplayKey returns the key under which a token counts as used: "jti:" and
// the issuer and jti ("jti:ISS#JTI"; a jti is unique only per issuer), or,
// when the token has no jti, "sha256:" and the hex SHA-256 of raw's signing
// input (header.payload). The signature is left out because it is not
// unique: base64 with different unused bits, or an ECDSA signature's
// mirror (r, n-s), verify just as well. raw must be the token these claims
// were verified from.
func (c *Claims) ReplayKey(raw string) string {
	if c.ID != "" {
		return "jti:" + c.Issuer + "#" + c.ID
	}
	if i := strings.LastIndexByte(raw, '.'); i >= 0 {
		raw = raw[:i]
	}
	sum := sha256.Sum256([]byte(raw))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// newClaims builds Claims from a token go-oidc verified, decoding its
// payload again with UseNumber for All.
func newClaims(tok *gooidc.IDToken) (*Claims, error) {
	var payload json.RawMessage
	if err := tok.Claims(&payload); err != nil {
		return nil, failf(ErrMalformed, "claims: %s", short(err))
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var all map[string]any
	if err := dec.Decode(&all); err != nil || all == nil {
		return nil, failf(ErrMalformed, "claims are not a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, failf(ErrMalformed, "data after the claims object")
	}
	// encoding/json matches struct fields case-insensitively, so go-oidc
	// would read "Sub" as sub while All holds both: refuse such payloads.
	// These are the claims go-oidc and Claims read into fields.
	registered := []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "nonce", "at_hash", "_claim_names", "_claim_sources"}
	for k := range all {
		for _, name := range registered {
			if k != name && strings.EqualFold(k, name) {
				return nil, failf(ErrMalformed, "claim %s differs from %s only in case", quote(k), name)
			}
		}
	}
	c := &Claims{
		Issuer:   tok.Issuer,
		Subject:  tok.Subject,
		Audience: tok.Audience,
		Expiry:   tok.Expiry,
		IssuedAt: tok.IssuedAt,
		All:      all,
	}
	if v, ok := all["jti"]; ok {
		if c.ID, ok = v.(string); !ok {
			return nil, failf(ErrMalformed, "jti is not a string")
		}
	}
	if v, ok := all["nbf"]; ok {
		t, ok := numericDate(v)
		if !ok {
			return nil, failf(ErrMalformed, "nbf is not a number of seconds")
		}
		c.NotBefore = t
	}
	return c, nil
}

// numericDate converts a JSON NumericDate (seconds since the epoch,
// possibly fractional) decoded with UseNumber to a time.
func numericDate(v any) (time.Time, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, false
	}
	if i, err := n.Int64(); err == nil {
		return time.Unix(i, 0), true
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e15 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}
