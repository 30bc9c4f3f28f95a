package postgres

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// maxIdentifierBytes is PostgreSQL's NAMEDATALEN-1: longer identifiers
// are silently truncated by the server, so a long configured name could
// name another role. They are refused instead.
const maxIdentifierBytes = 63

// checkIdentifier accepts any name PostgreSQL can hold unchanged: not
// empty, valid UTF-8, no NUL or other control character, at most 63 bytes.
// Quotes, semicolons and the like are fine: names are always quoted.
func checkIdentifier(what, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("%s is empty", what)
	case len(s) > maxIdentifierBytes:
		return fmt.Errorf("%s %.20q… is longer than %d bytes (PostgreSQL would truncate it)", what, s, maxIdentifierBytes)
	}
	return checkText(what, s)
}

// checkText refuses invalid UTF-8 and control characters (NUL above all).
func checkText(what, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s is not valid UTF-8", what)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%s %q holds a control character", what, s)
		}
	}
	return nil
}

// ident quotes a name as an SQL identifier.
func ident(s string) string { return pgx.Identifier{s}.Sanitize() }

// quoteLiteral quotes s as an SQL string literal that means s whatever
// standard_conforming_strings is: quotes doubled and, when s holds a
// backslash, an E” literal with backslashes doubled. s must have passed
// checkText.
func quoteLiteral(s string) string {
	q := "'" + strings.ReplaceAll(s, "'", "''") + "'"
	if strings.Contains(s, `\`) {
		q = "E" + strings.ReplaceAll(q, `\`, `\\`)
	}
	return q
}

// safeLiteral matches the values put into SQL text without quoting
// escapes: SCRAM verifiers and timestamps.
var safeLiteral = regexp.MustCompile(`^[A-Za-z0-9+/=:$ .-]+$`)

// plainLiteral quotes s, which must match safeLiteral.
func plainLiteral(what, s string) (string, error) {
	if !safeLiteral.MatchString(s) {
		return "", fmt.Errorf("postgres issuer: %s holds unexpected characters", what)
	}
	return "'" + s + "'", nil
}

// SCRAM-SHA-256 parameters of the verifier (PostgreSQL's defaults).
const (
	scramIterations = 4096
	scramSaltBytes  = 16
)

// newPassword returns 32 random bytes in unpadded base64url: ASCII, so
// SASLprep leaves it as it is.
func newPassword() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails (Go ≥ 1.24)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// scramVerifier returns PostgreSQL's SCRAM-SHA-256 verifier of password
// (RFC 5802, RFC 7677) with a random salt:
// SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>.
func scramVerifier(password string) (string, error) {
	salt := make([]byte, scramSaltBytes)
	_, _ = rand.Read(salt)
	return scramVerifierSalt(password, salt, scramIterations)
}

func scramVerifierSalt(password string, salt []byte, iterations int) (string, error) {
	salted, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		return "", fmt.Errorf("postgres issuer: deriving the SCRAM key: %w", err)
	}
	clientKey := hmacSHA256(salted, "Client Key")
	storedKey := sha256.Sum256(clientKey)
	serverKey := hmacSHA256(salted, "Server Key")
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", iterations, b64(salt), b64(storedKey[:]), b64(serverKey)), nil
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}
