package oidc

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Key cache tuning.
const (
	// keysMaxAge is how long a fetched JWKS is used before it is fetched
	// again, so that a key the issuer removed stops verifying.
	keysMaxAge = 15 * time.Minute
	// refreshInterval is the least time between two fetches caused by a kid
	// that is not in the cached JWKS, so that tokens with made-up kids cannot
	// make the verifier hammer the issuer.
	refreshInterval = 30 * time.Second
	// maxKeys bounds the keys kept from one JWKS.
	maxKeys = 100
)

// keySet is an issuer's JWKS, fetched from its jwks_uri through the capped
// client and cached. Its verify tells an unknown kid from a bad
// signature. Safe for concurrent use.
type keySet struct {
	url    string
	client *http.Client
	now    func() time.Time

	fetch sync.Mutex // held while fetching, so one fetch runs at a time

	mu        sync.RWMutex // guards the fields below
	keys      []jose.JSONWebKey
	fetchedAt time.Time // last successful fetch; zero before the first
	triedAt   time.Time // last fetch attempt
}

// verify checks jws's single signature with the JWKS key its kid names
// (every key when the token has no kid). It fails with ErrUnknownKey when
// no key has the kid, ErrAlgorithm when the key is for another alg (by its
// own alg, or its type), ErrSignature when none verifies, ErrDiscovery when
// the JWKS cannot be fetched.
func (k *keySet) verify(ctx context.Context, jws *jose.JSONWebSignature) ([]byte, error) {
	if len(jws.Signatures) != 1 {
		return nil, failf(ErrMalformed, "want exactly one signature, got %d", len(jws.Signatures))
	}
	h := jws.Signatures[0].Header
	keys, err := k.candidates(ctx, h.KeyID)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, failf(ErrUnknownKey, "kid %s is not in the issuer's JWKS", quote(h.KeyID))
	}
	if keys = forAlg(keys, h.Algorithm); len(keys) == 0 {
		return nil, failf(ErrAlgorithm, "key %s of the issuer's JWKS is not for alg %s", quote(h.KeyID), h.Algorithm)
	}
	for i := range keys {
		if payload, err := jws.Verify(&keys[i]); err == nil {
			return payload, nil
		}
	}
	return nil, failf(ErrSignature, "the signature does not verify with key %s of the issuer's JWKS", quote(h.KeyID))
}

// candidates returns the keys with kid (all keys when kid is empty),
// fetching the JWKS when the cache is empty or old, or when no cached
// key matches and the last fetch is older than refreshInterval.
func (k *keySet) candidates(ctx context.Context, kid string) ([]jose.JSONWebKey, error) {
	now := k.now()
	k.mu.RLock()
	keys, fetchedAt, triedAt := k.keys, k.fetchedAt, k.triedAt
	k.mu.RUnlock()
	fresh := !fetchedAt.IsZero() && now.Sub(fetchedAt) < keysMaxAge
	if fresh {
		if m := withKID(keys, kid); len(m) > 0 || now.Sub(triedAt) < refreshInterval {
			return m, nil
		}
	}
	keys, err := k.refresh(ctx, triedAt)
	if err != nil {
		return nil, err
	}
	return withKID(keys, kid), nil
}

// refresh fetches the JWKS unless another caller did since seen.
func (k *keySet) refresh(ctx context.Context, seen time.Time) ([]jose.JSONWebKey, error) {
	k.fetch.Lock()
	defer k.fetch.Unlock()
	k.mu.RLock()
	keys, triedAt, fetchedAt := k.keys, k.triedAt, k.fetchedAt
	k.mu.RUnlock()
	if triedAt.After(seen) { // fetched while this caller waited
		if fetchedAt.Equal(triedAt) {
			return keys, nil
		}
		return nil, failf(ErrDiscovery, "JWKS %s: the last fetch failed", k.url)
	}
	now := k.now()
	// The fetch serves every caller waiting on it and sets the refresh
	// throttle, so the caller that started it must not be able to cut it
	// short by going away; the client's timeout still bounds it.
	keys, err := k.get(context.WithoutCancel(ctx))
	k.mu.Lock()
	defer k.mu.Unlock()
	k.triedAt = now
	if err != nil {
		return nil, failf(ErrDiscovery, "JWKS %s: %s", k.url, short(err))
	}
	k.keys, k.fetchedAt = keys, now
	return keys, nil
}

// get fetches and decodes the JWKS. Keys that go-jose cannot decode, that
// are not for signing, or that no allowed algorithm uses are skipped.
func (k *keySet) get(ctx context.Context) ([]jose.JSONWebKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET: %s", resp.Status)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("the response is not a JWKS (JSON with a \"keys\" array): %w", err)
	}
	var keys []jose.JSONWebKey
	for _, raw := range set.Keys {
		var key jose.JSONWebKey
		if json.Unmarshal(raw, &key) != nil || !key.Valid() || (key.Use != "" && key.Use != "sig") {
			continue
		}
		if key = key.Public(); !usable(key.Key) {
			continue
		}
		if keys = append(keys, key); len(keys) == maxKeys {
			break
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("no usable signing keys")
	}
	return keys, nil
}

// usable reports whether pub is a key for the allowed algorithms: RSA of
// at least 2048 bits, or ECDSA.
func usable(pub any) bool {
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		return pub.N.BitLen() >= 2048
	case *ecdsa.PublicKey:
		return true
	}
	return false
}

// withKID returns the keys with kid; all keys when kid is empty.
func withKID(keys []jose.JSONWebKey, kid string) []jose.JSONWebKey {
	var m []jose.JSONWebKey
	for _, key := range keys {
		if kid == "" || key.KeyID == kid {
			m = append(m, key)
		}
	}
	return m
}

// forAlg returns the keys that can verify alg: by type (RSA for RS* and
// PS*, ECDSA for ES*) and, when the key states one, by its alg.
func forAlg(keys []jose.JSONWebKey, alg string) []jose.JSONWebKey {
	var m []jose.JSONWebKey
	for _, key := range keys {
		_, isRSA := key.Key.(*rsa.PublicKey)
		if isRSA == strings.HasPrefix(alg, "ES") || (key.Algorithm != "" && key.Algorithm != alg) {
			continue
		}
		m = append(m, key)
	}
	return m
}
