package issuers_test

import (
	"encoding/json"
	"testing"

	"github.com/jit-policy/jit-policy/issuers"
)

func TestClaimString(t *testing.T) {
	claims := map[string]any{
		"repository": "acme/app",
		"run_id":     json.Number("123"),
		"pr":         float64(7),
		"draft":      false,
		"nothing":    nil,
	}
	cases := []struct{ name, want string }{
		{"repository", "acme/app"},
		{"run_id", "123"},
		{"pr", "7"},
		{"draft", "false"},
		{"nothing", ""},
		{"absent", ""},
	}
	for _, c := range cases {
		if got := issuers.ClaimString(claims, c.name); got != c.want {
			t.Errorf("ClaimString(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}
