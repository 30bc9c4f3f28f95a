package cakey

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"strings"

	"golang.org/x/crypto/ssh"
)

// DefaultPassphraseEnv names the environment variable holding the passphrase
// of an encrypted key file when the URI has no ?passphrase-env=NAME.
const DefaultPassphraseEnv = "JIT_CA_PASSPHRASE"

// maxKeyFile bounds how much of a key file is read.
const maxKeyFile = 1 << 20

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Load returns the CA signing key named by uri: file://PATH (see the package
// documentation for formats and ?passphrase-env=NAME) or a KMS key
// (awskms://, gcpkms://, azurekms://, hashivault://). Any other scheme is an
// error; no sigstore-kms-* plugin is ever executed.
//
// getenv looks up the passphrase of an encrypted key file; nil means
// os.Getenv. For a KMS key, ctx is kept by the returned signer and used for
// every call it makes to the KMS, so it must outlive the signer; Load itself
// contacts the KMS to fetch the public key.
//
// Errors name the URI's scheme and what to do; they never contain key
// material or passphrases.
func Load(ctx context.Context, uri string, getenv func(string) string) (crypto.Signer, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if rest, ok := strings.CutPrefix(uri, "file://"); ok {
		return loadFile(rest, getenv)
	}
	if isKMS(uri) {
		return loadKMS(ctx, uri)
	}
	return nil, unknownScheme(uri)
}

// loadFile loads "PATH[?passphrase-env=NAME]" (the URI without file://).
func loadFile(rest string, getenv func(string) string) (crypto.Signer, error) {
	path, rawQuery, _ := strings.Cut(rest, "?")
	if path == "" {
		return nil, errors.New("cakey: file: URI has no path; write file://PATH (file:///abs/path or file://rel/path)")
	}
	envName, err := passphraseEnv(rawQuery)
	if err != nil {
		return nil, err
	}
	data, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	key, err := ssh.ParseRawPrivateKey(data)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		pass := getenv(envName)
		if pass == "" {
			return nil, fmt.Errorf("cakey: file: %s is encrypted; set the environment variable %s to its passphrase", path, envName)
		}
		key, err = ssh.ParseRawPrivateKeyWithPassphrase(data, []byte(pass))
		if errors.Is(err, x509.IncorrectPasswordError) {
			return nil, fmt.Errorf("cakey: file: %s: the passphrase in %s does not decrypt it; check the variable", path, envName)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("cakey: file: %s: %s", path, parseHint(data, err))
	}
	signer, err := asSigner(key)
	if err != nil {
		return nil, fmt.Errorf("cakey: file: %s: %w", path, err)
	}
	return signer, nil
}

// passphraseEnv returns the passphrase variable named by the URI query.
func passphraseEnv(rawQuery string) (string, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", fmt.Errorf("cakey: file: malformed query %q; the only option is ?passphrase-env=NAME", rawQuery)
	}
	for k := range q {
		if k != "passphrase-env" {
			return "", fmt.Errorf("cakey: file: unknown option %q; the only option is ?passphrase-env=NAME", k)
		}
	}
	if !q.Has("passphrase-env") {
		return DefaultPassphraseEnv, nil
	}
	name := q.Get("passphrase-env")
	if len(q["passphrase-env"]) != 1 || !envNameRE.MatchString(name) {
		return "", errors.New("cakey: file: passphrase-env must name one environment variable ([A-Za-z_][A-Za-z0-9_]*)")
	}
	return name, nil
}

// readKeyFile reads a regular key file that only its owner may read.
func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cakey: file: cannot open key file: %w; check the ca_key path", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cakey: file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("cakey: file: %s is not a regular file; point ca_key at the private key file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("cakey: file: %s is readable by group or others (mode %04o); run: chmod 600 %s", path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("cakey: file: reading %s: %w", path, err)
	}
	if len(data) > maxKeyFile {
		return nil, fmt.Errorf("cakey: file: %s is larger than %d bytes; it is not a private key file", path, maxKeyFile)
	}
	return data, nil
}

// parseHint explains a parse failure without echoing the file's contents.
func parseHint(data []byte, err error) string {
	block, _ := pem.Decode(data)
	switch {
	case block == nil:
		return "no PEM or OpenSSH private key found; expected an OpenSSH, PKCS#8, SEC1 or PKCS#1 private key"
	case block.Type == "ENCRYPTED PRIVATE KEY":
		return "encrypted PKCS#8 is not supported; re-encrypt it as an OpenSSH key with: ssh-keygen -p -f FILE"
	case strings.Contains(block.Type, "PUBLIC KEY") || block.Type == "CERTIFICATE":
		return fmt.Sprintf("the file holds a %q, not a private key; point ca_key at the private key", block.Type)
	}
	return fmt.Sprintf("cannot parse the %q block (%v); expected an OpenSSH, PKCS#8, SEC1 or PKCS#1 private key", block.Type, err)
}

// asSigner checks a parsed private key against the allowed algorithms.
func asSigner(key any) (crypto.Signer, error) {
	if k, ok := key.(*ed25519.PrivateKey); ok && k != nil {
		key = *k
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported key type %T; use Ed25519, ECDSA P-256/P-384 or RSA >= 3072", key)
	}
	if err := checkPublic(s.Public()); err != nil {
		return nil, err
	}
	return s, nil
}

// checkPublic enforces the allowed CA key types and sizes.
func checkPublic(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return errors.New("malformed Ed25519 key")
		}
		return nil
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() || k.Curve == elliptic.P384() {
			return nil
		}
		return fmt.Errorf("ECDSA curve %s is not allowed; use P-256 or P-384", k.Curve.Params().Name)
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n < 3072 {
			return fmt.Errorf("RSA key of %d bits is too small; use at least 3072 bits (or Ed25519)", n)
		}
		return nil
	case nil:
		return errors.New("the key has no public key")
	}
	return fmt.Errorf("unsupported key type %T; use Ed25519, ECDSA P-256/P-384 or RSA >= 3072", pub)
}
