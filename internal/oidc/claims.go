package oidc

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/jit-policy/jit-policy/internal/config"
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

// registered are the claim names whose values newClaims reads or checks
// (go-oidc, which checked the claims before, read them into fields). A
// payload holding a name that differs from one of them only in case (e.g.
// "Sub") is refused: a decoder that matches names case-insensitively, as
// encoding/json does for struct fields, would read it as the registered
// claim while All holds both.
var registered = []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "nonce", "at_hash", "_claim_names", "_claim_sources"}

// decodeClaims decodes a token's payload, once, with UseNumber. It must be
// one JSON object, with nothing but white space after it, and no claim
// name that differs from a registered one only in case. It checks the
// structure only; newClaims judges the values once the signature verified.
func decodeClaims(payload []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var all map[string]any
	if err := dec.Decode(&all); err != nil || all == nil {
		return nil, failf(ErrMalformed, "claims are not a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, failf(ErrMalformed, "data after the claims object")
	}
	for k := range all {
		for _, name := range registered {
			if k != name && strings.EqualFold(k, name) {
				return nil, failf(ErrMalformed, "claim %s differs from %s only in case", quote(k), name)
			}
		}
	}
	return all, nil
}

// newClaims checks the claims all of a token whose signature verified
// against want at now, and returns them. It fails with ErrMalformed when a
// registered claim has the wrong type, ErrIssuerMismatch when iss is not
// want's issuer, ErrAudience when aud does not contain want's audience,
// ErrExpired when exp is missing or before now (no skew, as go-oidc), and
// ErrNotYetValid when nbf or iat is after now plus MaxClockSkew.
func newClaims(all map[string]any, want config.OIDCProvider, now time.Time) (*Claims, error) {
	c := &Claims{All: all}
	var ok bool
	if c.Issuer, ok = all["iss"].(string); !ok {
		return nil, failf(ErrMalformed, "iss is not a string")
	}
	for _, name := range []string{"sub", "nonce", "at_hash"} {
		if v := all[name]; v != nil {
			if _, ok := v.(string); !ok {
				return nil, failf(ErrMalformed, "%s is not a string", name)
			}
		}
	}
	c.Subject, _ = all["sub"].(string)
	if err := distributed(all); err != nil {
		return nil, err
	}
	if v, ok := all["jti"]; ok {
		if c.ID, ok = v.(string); !ok {
			return nil, failf(ErrMalformed, "jti is not a string")
		}
	}
	aud, err := audience(all["aud"])
	if err != nil {
		return nil, err
	}
	c.Audience = aud
	exp, err := seconds(all, "exp")
	if err != nil {
		return nil, err
	}
	iat, err := seconds(all, "iat")
	if err != nil {
		return nil, err
	}
	if v, ok := all["nbf"]; ok {
		if c.NotBefore, ok = numericDate(v); !ok {
			return nil, failf(ErrMalformed, "nbf is not a number of seconds")
		}
	}
	if exp == nil {
		return nil, failf(ErrExpired, "the token has no exp")
	}
	c.Expiry, c.IssuedAt = exp.Time(), iat.Time()
	// go-jose's jwt checks iss, aud and exp; with no leeway, exp is
	// refused once before now, as go-oidc did. nbf and iat, which allow
	// MaxClockSkew, are checked below.
	err = jwt.Claims{Issuer: c.Issuer, Audience: aud, Expiry: exp}.ValidateWithLeeway(jwt.Expected{
		Issuer:      want.Issuer,
		AnyAudience: jwt.Audience{want.Audience},
		Time:        now,
	}, 0)
	switch {
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return nil, failf(ErrIssuerMismatch, "iss %s is not the configured issuer %s", quote(c.Issuer), want.Issuer)
	case errors.Is(err, jwt.ErrInvalidAudience):
		return nil, failf(ErrAudience, "aud does not contain the configured audience %s", quote(want.Audience))
	case errors.Is(err, jwt.ErrExpired):
		return nil, failf(ErrExpired, "exp %s has passed", c.Expiry.UTC().Format(timeFormat))
	case err != nil:
		return nil, failf(ErrMalformed, "claims: %s", short(err))
	}
	if c.NotBefore.After(now.Add(MaxClockSkew)) {
		return nil, failf(ErrNotYetValid, "nbf %s is in the future", c.NotBefore.UTC().Format(timeFormat))
	}
	if c.IssuedAt.After(now.Add(MaxClockSkew)) {
		return nil, failf(ErrNotYetValid, "iat %s is in the future", c.IssuedAt.UTC().Format(timeFormat))
	}
	return c, nil
}

// distributed refuses the distributed claims go-oidc refused: each
// _claim_names value must be a non-empty string naming a _claim_sources member,
// which must be an object (or null). Nothing resolves them.
func distributed(all map[string]any) error {
	names, ok := all["_claim_names"].(map[string]any)
	if !ok && all["_claim_names"] != nil {
		return failf(ErrMalformed, "_claim_names is not an object")
	}
	sources, ok := all["_claim_sources"].(map[string]any)
	if !ok && all["_claim_sources"] != nil {
		return failf(ErrMalformed, "_claim_sources is not an object")
	}
	for _, src := range sources {
		if _, ok := src.(map[string]any); !ok && src != nil {
			return failf(ErrMalformed, "a _claim_sources member is not an object")
		}
	}
	for _, v := range names {
		src, ok := v.(string)
		if _, found := sources[src]; !ok || src == "" || !found {
			return failf(ErrMalformed, "a _claim_names member names no _claim_sources member")
		}
	}
	return nil
}

// audience reads aud: a string is an audience of one, an array must hold
// only strings. A missing or null aud is empty, so fails the audience check.
func audience(v any) (jwt.Audience, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		return jwt.Audience{v}, nil
	case []any:
		aud := make(jwt.Audience, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, failf(ErrMalformed, "aud holds a value that is not a string")
			}
			aud[i] = s
		}
		return aud, nil
	}
	return nil, failf(ErrMalformed, "aud is neither a string nor an array of strings")
}

// seconds reads the NumericDate claim name as go-oidc did: whole seconds,
// a fraction truncated toward zero. It is nil when the claim is absent.
func seconds(all map[string]any, name string) (*jwt.NumericDate, error) {
	v, ok := all[name]
	if !ok {
		return nil, nil
	}
	var n jwt.NumericDate
	if s, ok := v.(json.Number); !ok {
		return nil, failf(ErrMalformed, "%s is not a number of seconds", name)
	} else if i, err := s.Int64(); err == nil {
		n = jwt.NumericDate(i)
	} else if f, err := s.Float64(); err == nil && math.Abs(f) <= 1e15 {
		n = jwt.NumericDate(f)
	} else {
		return nil, failf(ErrMalformed, "%s is not a number of seconds", name)
	}
	return &n, nil
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
