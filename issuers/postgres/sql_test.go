package postgres

import (
	"strings"
	"testing"
)

// The verifier matches one computed independently (Python hashlib) for the
// same password, salt and iterations.
func TestSCRAMVerifier(t *testing.T) {
	salt := make([]byte, 16)
	for k := range salt {
		salt[k] = byte(k)
	}
	got, err := scramVerifierSalt("pencil", salt, 4096)
	want := "SCRAM-SHA-256$4096:AAECAwQFBgcICQoLDA0ODw==$zHCdol2044/ZyWzPLi7oxApCkamKw9Z+E4U/QApd/5Y=:dd5peBOitVnLNFu7VmwP+HiDaaw4OUCv396eVCWhYiE="
	if err != nil || got != want {
		t.Errorf("verifier = %q, %v; want %q", got, err, want)
	}
	pw := newPassword()
	v, err := scramVerifier(pw)
	if err != nil || !safeLiteral.MatchString(v) || strings.Contains(v, pw) || len(pw) != 43 {
		t.Errorf("random verifier %q (%v) for a %d-char password", v, err, len(pw))
	}
}

func TestQuoting(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:      `'plain'`,
		`it's`:       `'it''s'`,
		`back\slash`: `E'back\\slash'`,
		`'\`:         `E'''\\'`,
	} {
		if got := quoteLiteral(in); got != want {
			t.Errorf("quoteLiteral(%q) = %s, want %s", in, got, want)
		}
	}
	if got := ident(`a"b`); got != `"a""b"` {
		t.Errorf("ident = %s", got)
	}
	for _, bad := range []string{"x'", `x\`, "x;y", "é"} {
		if _, err := plainLiteral("v", bad); err == nil {
			t.Errorf("plainLiteral(%q) succeeded", bad)
		}
	}
}
