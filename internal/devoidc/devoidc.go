// Package devoidc is a throwaway OIDC issuer on 127.0.0.1 for `jit-policy
// demo`: it serves discovery and a JWKS with one fresh ES256 key, and mints
// tokens shaped like GitHub Actions' ID tokens. It holds its key in memory
// only; nothing it mints is trusted by a config that does not name its
// loopback URL.
package devoidc

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Issuer is a running development issuer. Close stops it.
type Issuer struct {
	url    string
	key    *ecdsa.PrivateKey
	signer jose.Signer
	srv    *http.Server
}

const keyID = "devoidc-1"

// Start serves a new issuer on a free loopback port until Close.
func Start() (*Issuer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating the issuer key: %w", err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", keyID))
	if err != nil {
		return nil, fmt.Errorf("creating the token signer: %w", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening on 127.0.0.1: %w", err)
	}
	i := &Issuer{url: "http://" + l.Addr().String(), key: key, signer: signer}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", i.discovery)
	mux.HandleFunc("GET /jwks", i.jwks)
	i.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = i.srv.Serve(l) }()
	return i, nil
}

// URL is the issuer URL (http on loopback).
func (i *Issuer) URL() string { return i.url }

// Close stops the server.
func (i *Issuer) Close() error { return i.srv.Shutdown(context.Background()) }

// Mint signs claims over the defaults iss, aud, iat, nbf, exp (5 minutes)
// and a random jti.
func (i *Issuer) Mint(audience string, claims map[string]any) (string, error) {
	now := time.Now()
	all := map[string]any{
		"iss": i.url, "aud": audience, "jti": rand.Text(),
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
	}
	for k, v := range claims {
		if _, fixed := all[k]; !fixed {
			all[k] = v
		}
	}
	payload, err := json.Marshal(all)
	if err != nil {
		return "", fmt.Errorf("encoding claims: %w", err)
	}
	jws, err := i.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("signing the token: %w", err)
	}
	return jws.CompactSerialize()
}

func (i *Issuer) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]any{
		"issuer":                                i.url,
		"jwks_uri":                              i.url + "/jwks",
		"response_types_supported":              []string{"id_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"ES256"},
	})
}

func (i *Issuer) jwks(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: i.key.Public(), KeyID: keyID, Algorithm: "ES256", Use: "sig"}}})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil && !errors.Is(err, http.ErrHandlerTimeout) {
		http.Error(w, "encoding failed", http.StatusInternalServerError)
	}
}
