// Package seal encrypts secret-bearing outputs (database passwords, AWS keys)
// with age (https://age-encryption.org) so that only the requester can read
// them.
//
// Recipients are either native age X25519 keys ("age1…") or OpenSSH public keys
// of type ssh-ed25519 or ssh-rsa, typically the requester's GitHub SSH keys
// (GET /users/{login}/keys). Other SSH key types (ECDSA, security keys
// "sk-…", certificates, DSA) cannot be age recipients and are refused.
//
// Sealed output is ASCII-armored and is opened with the age CLI:
//
//	age -d -i ~/.ssh/id_ed25519 secret.age
package seal

import (
	"bytes"
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"filippo.io/age/armor"
	"golang.org/x/crypto/ssh"
)

// DecryptCommand is the command a requester runs on a sealed file (here
// secret.age) with the private half of one of the SSH keys it was sealed to.
const DecryptCommand = "age -d -i ~/.ssh/id_ed25519 secret.age"

const (
	// MinRSABits is the smallest ssh-rsa key accepted as a recipient.
	MinRSABits = 2048
	// MaxRSABits bounds the work done for one ssh-rsa recipient.
	MaxRSABits = 16384

	typeAge     = "age"
	typeEd25519 = ssh.KeyAlgoED25519 // "ssh-ed25519"
	typeRSA     = ssh.KeyAlgoRSA     // "ssh-rsa"

	supportedTypes = "age X25519 (age1…), ssh-ed25519, ssh-rsa (>= 2048 bits)"
)

// Recipient is a parsed encryption recipient.
type Recipient struct {
	age.Recipient
	// Type is "age" for an age X25519 key, else the SSH key type
	// ("ssh-ed25519" or "ssh-rsa").
	Type string
	// Fingerprint identifies the key: "SHA256:…" (ssh.FingerprintSHA256) for
	// SSH keys, the age1… string itself for age keys.
	Fingerprint string
}

// Recipients parses recipient strings. Each is either an age X25519 recipient
// ("age1…") or a single OpenSSH public key in authorized_keys form
// ("ssh-ed25519 AAAA… comment"; comment allowed, options not). Only
// ssh-ed25519 and ssh-rsa keys can be age recipients; any other type is an
// error naming the type. ssh-rsa keys under 2048 bits are refused. Duplicate
// keys are collapsed. An empty list is an error.
func Recipients(keys []string) ([]Recipient, error) {
	if len(keys) == 0 {
		return nil, errors.New("seal: no recipient keys")
	}
	var out []Recipient
	seen := map[string]bool{}
	for i, k := range keys {
		r, err := parseRecipient(k, true)
		if err != nil {
			if len(keys) == 1 {
				return nil, fmt.Errorf("seal: recipient: %w", err)
			}
			return nil, fmt.Errorf("seal: recipient %d: %w", i+1, err)
		}
		if seen[r.Fingerprint] {
			continue
		}
		seen[r.Fingerprint] = true
		out = append(out, r)
	}
	return out, nil
}

// FromGitHubKeys turns the key strings of a GitHub user's public SSH keys
// (GET /users/{login}/keys, field "key") into recipients, keeping the
// ssh-ed25519 and ssh-rsa (>= 2048 bits) keys. Every other key is described in
// skipped (its type and why, e.g. "ecdsa-sha2-nistp256: unsupported key
// type"), for reporting. The caller must refuse to seal when no recipient
// remains.
func FromGitHubKeys(keys []string) (rs []Recipient, skipped []string) {
	seen := map[string]bool{}
	for _, k := range keys {
		r, err := parseRecipient(k, false)
		if err != nil {
			skipped = append(skipped, err.Error())
			continue
		}
		if seen[r.Fingerprint] {
			continue
		}
		seen[r.Fingerprint] = true
		rs = append(rs, r)
	}
	return rs, skipped
}

func parseRecipient(s string, allowAge bool) (Recipient, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Recipient{}, errors.New("empty key")
	}
	if strings.HasPrefix(s, "age1") {
		if !allowAge {
			return Recipient{}, fmt.Errorf("%s: not an SSH public key", short(s))
		}
		r, err := age.ParseX25519Recipient(s)
		if err != nil {
			return Recipient{}, fmt.Errorf("%s: invalid age X25519 recipient (supported: %s): %w", short(s), supportedTypes, err)
		}
		return Recipient{Recipient: r, Type: typeAge, Fingerprint: r.String()}, nil
	}
	if strings.ContainsAny(s, "\r\n") {
		return Recipient{}, errors.New("more than one line: give one key per recipient")
	}
	pub, _, options, rest, err := ssh.ParseAuthorizedKey([]byte(s))
	if err != nil {
		return Recipient{}, fmt.Errorf("%s: not an age X25519 recipient or OpenSSH public key (supported: %s): %w", short(firstField(s)), supportedTypes, err)
	}
	if len(options) > 0 || len(bytes.TrimSpace(rest)) > 0 {
		return Recipient{}, fmt.Errorf("%s: authorized_keys options are not allowed: give just \"type base64 [comment]\"", short(firstField(s)))
	}
	t := pub.Type()
	fp := ssh.FingerprintSHA256(pub)
	switch t {
	case typeEd25519:
		r, err := agessh.NewEd25519Recipient(pub)
		if err != nil {
			return Recipient{}, fmt.Errorf("%s %s: invalid key: %w", t, fp, err)
		}
		return Recipient{Recipient: r, Type: t, Fingerprint: fp}, nil
	case typeRSA:
		ck, ok := pub.(ssh.CryptoPublicKey)
		if !ok {
			return Recipient{}, fmt.Errorf("%s %s: invalid key", t, fp)
		}
		rk, ok := ck.CryptoPublicKey().(*rsa.PublicKey)
		if !ok {
			return Recipient{}, fmt.Errorf("%s %s: invalid key", t, fp)
		}
		if bits := rk.N.BitLen(); bits < MinRSABits || bits > MaxRSABits {
			return Recipient{}, fmt.Errorf("%s %s: %d-bit RSA key refused: need %d to %d bits", t, fp, bits, MinRSABits, MaxRSABits)
		}
		r, err := agessh.NewRSARecipient(pub)
		if err != nil {
			return Recipient{}, fmt.Errorf("%s %s: invalid key: %w", t, fp, err)
		}
		return Recipient{Recipient: r, Type: t, Fingerprint: fp}, nil
	}
	what := "unsupported key type"
	if _, isCert := pub.(*ssh.Certificate); isCert {
		what = "SSH certificates are not supported"
	}
	return Recipient{}, fmt.Errorf("%s %s: %s; age can encrypt only to %s", t, fp, what, supportedTypes)
}

func firstField(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return s
}

// short bounds a key fragment quoted in an error.
func short(s string) string {
	const max = 40
	if len(s) > max {
		s = s[:max] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// Seal encrypts plaintext to every recipient (any one of their private keys
// decrypts it) and returns the ASCII-armored age file
// ("-----BEGIN AGE ENCRYPTED FILE-----" … "-----END AGE ENCRYPTED FILE-----\n").
func Seal(plaintext []byte, rs []Recipient) (string, error) {
	if len(rs) == 0 {
		return "", errors.New("seal: no recipients")
	}
	ars := make([]age.Recipient, 0, len(rs))
	for i, r := range rs {
		if r.Recipient == nil {
			return "", fmt.Errorf("seal: recipient %d is empty", i+1)
		}
		ars = append(ars, r.Recipient)
	}
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	w, err := age.Encrypt(aw, ars...)
	if err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	if _, err := w.Write(plaintext); err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	if err := aw.Close(); err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	return buf.String(), nil
}
