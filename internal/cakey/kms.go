package cakey

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/sigstore/sigstore/pkg/signature/kms"

	// The KMS providers Load accepts. Only these are registered; sigstore's
	// plugin fallback is unreachable because Load checks the scheme first.
	_ "github.com/sigstore/sigstore/pkg/signature/kms/aws"
	_ "github.com/sigstore/sigstore/pkg/signature/kms/azure"
	_ "github.com/sigstore/sigstore/pkg/signature/kms/gcp"
	_ "github.com/sigstore/sigstore/pkg/signature/kms/hashivault"
)

// kmsSchemes are the URI prefixes of the KMS providers imported above,
// spelled exactly as sigstore registers them (it matches them by prefix).
var kmsSchemes = []string{"awskms://", "gcpkms://", "azurekms://", "hashivault://"}

// isKMS reports whether uri starts with a known KMS scheme.
func isKMS(uri string) bool {
	for _, p := range kmsSchemes {
		if strings.HasPrefix(uri, p) {
			return true
		}
	}
	return false
}

// scheme returns the part of uri before "://", or "" if there is none.
func scheme(uri string) string {
	s, _, ok := strings.Cut(uri, "://")
	if !ok || strings.ContainsAny(s, "/?#") {
		return ""
	}
	return s
}

// unknownScheme is the error for a URI Load does not accept. It names the
// scheme only: the rest of an unrecognised string might be anything.
func unknownScheme(uri string) error {
	const want = "use file://PATH, awskms://, gcpkms://, azurekms:// or hashivault:// (lower case)"
	s := scheme(uri)
	if s == "" {
		return fmt.Errorf("cakey: the CA key reference has no scheme; %s", want)
	}
	if len(s) > 32 {
		s = s[:32] + "…"
	}
	return fmt.Errorf("cakey: unsupported CA key scheme %q (KMS plugins are not run); %s", s, want)
}

// loadKMS returns a signer for a key held by one of the known KMS providers.
func loadKMS(ctx context.Context, uri string) (crypto.Signer, error) {
	s := scheme(uri)
	sv, err := kms.Get(ctx, uri, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("cakey: %s: loading %s: %w; check the key reference and the provider's credentials", s, uri, err)
	}
	var (
		mu      sync.Mutex
		lastErr error
	)
	errFunc := func(err error) {
		mu.Lock()
		lastErr = err
		mu.Unlock()
	}
	signer, _, err := sv.CryptoSigner(ctx, errFunc)
	if err != nil {
		return nil, fmt.Errorf("cakey: %s: %s: %w; check that the key exists, is an asymmetric signing key, and that the credentials may use it", s, uri, err)
	}
	pub := signer.Public()
	mu.Lock()
	perr := lastErr
	mu.Unlock()
	if pub == nil || perr != nil {
		if perr == nil {
			perr = errors.New("no public key returned")
		}
		return nil, fmt.Errorf("cakey: %s: %s: fetching the public key: %w; check that the credentials may read it", s, uri, perr)
	}
	if err := checkPublic(pub); err != nil {
		return nil, fmt.Errorf("cakey: %s: %s: %w", s, uri, err)
	}
	return &verifiedSigner{signer: signer, pub: pub, scheme: s}, nil
}

// verifiedSigner wraps a remote signer: it answers Public from the key
// fetched at load time and verifies every signature before returning it.
type verifiedSigner struct {
	signer crypto.Signer
	pub    crypto.PublicKey
	scheme string
}

// Public returns the public key fetched when the key was loaded.
func (v *verifiedSigner) Public() crypto.PublicKey { return v.pub }

// Sign signs with the remote key and verifies the result locally.
func (v *verifiedSigner) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts == nil {
		return nil, fmt.Errorf("cakey: %s: Sign called without SignerOpts", v.scheme)
	}
	sig, err := v.signer.Sign(rand, digest, opts)
	if err != nil {
		return nil, fmt.Errorf("cakey: %s: signing: %w", v.scheme, err)
	}
	if err := verify(v.pub, digest, sig, opts); err != nil {
		return nil, fmt.Errorf("cakey: %s: the KMS signature does not verify (%w); the key's signing algorithm must match the request (RSA keys: PKCS#1 v1.5 with %v)", v.scheme, err, opts.HashFunc())
	}
	return sig, nil
}

// verify checks sig over digest (or over the message, for Ed25519) as a
// crypto.Signer with these opts would have produced it.
func verify(pub crypto.PublicKey, digest, sig []byte, opts crypto.SignerOpts) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(k, digest, sig) {
			return errors.New("invalid ECDSA signature")
		}
		return nil
	case *rsa.PublicKey:
		if pss, ok := opts.(*rsa.PSSOptions); ok {
			return rsa.VerifyPSS(k, opts.HashFunc(), digest, sig, pss)
		}
		return rsa.VerifyPKCS1v15(k, opts.HashFunc(), digest, sig)
	case ed25519.PublicKey:
		eo, ok := opts.(*ed25519.Options)
		if !ok {
			eo = &ed25519.Options{Hash: opts.HashFunc()}
		}
		return ed25519.VerifyWithOptions(k, digest, sig, eo)
	}
	return fmt.Errorf("unsupported key type %T", pub)
}
