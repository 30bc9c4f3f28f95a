package oidc

import (
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/config"
)

// TestNewClaims runs payloads through decodeClaims and newClaims, with the
// clock at a whole second; each refusal must carry its own sentinel. It
// covers the issuer check, which Verify never reaches (it looks the issuer
// up by iss), and exp's semantics as go-oidc applied them: required, whole
// seconds truncated, refused once before now with no skew.
func TestNewClaims(t *testing.T) {
	t.Parallel()
	want := config.OIDCProvider{Issuer: "https://iss.example", Audience: "jit-policy"}
	now := time.Unix(1700000000, 0)
	const base = `"iss":"https://iss.example","aud":"jit-policy","sub":"s","exp":1700000300`
	tests := []struct {
		name    string
		payload string
		want    error // nil: accepted
	}{
		{"valid", `{` + base + `}`, nil},
		{"all claims", `{` + base + `,"iat":1700000000,"nbf":1700000000,"jti":"j","nonce":"n","at_hash":"h","run_id":12345678901234567}`, nil},
		{"trailing white space", `{` + base + "} \n", nil},
		{"sub null", `{` + base + `,"sub":null}`, nil},
		{"exp now", `{` + base + `,"exp":1700000000}`, nil},
		{"exp fractional, truncated to now", `{` + base + `,"exp":1700000000.9}`, nil},
		{"exp a second ago", `{` + base + `,"exp":1699999999}`, ErrExpired},
		{"exp fractional, truncated to a second ago", `{` + base + `,"exp":1699999999.99}`, ErrExpired},
		{"no exp", `{"iss":"https://iss.example","aud":"jit-policy"}`, ErrExpired},
		{"exp null", `{` + base + `,"exp":null}`, ErrMalformed},
		{"exp a string", `{` + base + `,"exp":"1700000300"}`, ErrMalformed},
		{"exp out of range", `{` + base + `,"exp":1e400}`, ErrMalformed},
		{"exp huge", `{` + base + `,"exp":1e300}`, ErrMalformed},
		{"iss another issuer", `{` + base + `,"iss":"https://other.example"}`, ErrIssuerMismatch},
		{"iss a number", `{` + base + `,"iss":1}`, ErrMalformed},
		{"aud array holding ours", `{` + base + `,"aud":["a","jit-policy"]}`, nil},
		{"aud array without ours", `{` + base + `,"aud":["a","b"]}`, ErrAudience},
		{"aud another", `{` + base + `,"aud":"jit-policy "}`, ErrAudience},
		{"aud empty array", `{` + base + `,"aud":[]}`, ErrAudience},
		{"aud null", `{` + base + `,"aud":null}`, ErrAudience},
		{"no aud", `{"iss":"https://iss.example","exp":1700000300}`, ErrAudience},
		{"aud a number", `{` + base + `,"aud":7}`, ErrMalformed},
		{"aud array holding a number", `{` + base + `,"aud":["jit-policy",7]}`, ErrMalformed},
		{"aud array holding null", `{` + base + `,"aud":["jit-policy",null]}`, ErrMalformed},
		{"sub a number", `{` + base + `,"sub":7}`, ErrMalformed},
		{"nonce an object", `{` + base + `,"nonce":{}}`, ErrMalformed},
		{"distributed claims", `{` + base + `,"_claim_names":{"groups":"src1"},"_claim_sources":{"src1":{"endpoint":"https://e.example"}}}`, nil},
		{"distributed claims, null", `{` + base + `,"_claim_names":null,"_claim_sources":null}`, nil},
		{"_claim_names naming no source", `{` + base + `,"_claim_names":{"groups":"src2"},"_claim_sources":{"src1":{}}}`, ErrMalformed},
		{"_claim_names without sources", `{` + base + `,"_claim_names":{"groups":"src1"}}`, ErrMalformed},
		{"_claim_names member null", `{` + base + `,"_claim_names":{"groups":null},"_claim_sources":{"":{}}}`, ErrMalformed},
		{"_claim_names member empty", `{` + base + `,"_claim_names":{"groups":""},"_claim_sources":{"":{}}}`, ErrMalformed},
		{"_claim_names an array", `{` + base + `,"_claim_names":[]}`, ErrMalformed},
		{"_claim_sources member a string", `{` + base + `,"_claim_sources":{"src1":"x"}}`, ErrMalformed},
		{"jti a number", `{` + base + `,"jti":7}`, ErrMalformed},
		{"jti null", `{` + base + `,"jti":null}`, ErrMalformed},
		{"iat not a number", `{` + base + `,"iat":"x"}`, ErrMalformed},
		{"iat null", `{` + base + `,"iat":null}`, ErrMalformed},
		{"iat within skew", `{` + base + `,"iat":1700000060}`, nil},
		{"iat beyond skew", `{` + base + `,"iat":1700000061}`, ErrNotYetValid},
		{"nbf within skew", `{` + base + `,"nbf":1700000060}`, nil},
		{"nbf beyond skew by a fraction", `{` + base + `,"nbf":1700000060.5}`, ErrNotYetValid},
		{"nbf a string", `{` + base + `,"nbf":"1700000000"}`, ErrMalformed},
		{"nbf null", `{` + base + `,"nbf":null}`, ErrMalformed},
		{"Sub beside sub", `{` + base + `,"Sub":"repo:evil/app"}`, ErrMalformed},
		{"ISS beside iss", `{` + base + `,"ISS":"https://iss.example"}`, ErrMalformed},
		{"Unicode case variant", `{` + base + `,"ſub":"x"}`, ErrMalformed},
		{"duplicate iss, the last counts", `{"iss":"https://other.example",` + base + `}`, nil},
		{"data after the object", `{` + base + `} {}`, ErrMalformed},
		{"null", `null`, ErrMalformed},
		{"array", `[]`, ErrMalformed},
		{"not JSON", `not json`, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all, err := decodeClaims([]byte(tt.payload))
			var c *Claims
			if err == nil {
				c, err = newClaims(all, want, now)
			}
			if tt.want == nil {
				if err != nil || c == nil {
					t.Fatalf("newClaims = %v, %v", c, err)
				}
				if c.Issuer != want.Issuer || c.Expiry.Before(now) || len(c.Audience) == 0 {
					t.Errorf("claims = %+v", c)
				}
				return
			}
			if c != nil {
				t.Errorf("claims %+v returned with an error", c)
			}
			checkErr(t, tt.payload, err, tt.want)
		})
	}
}
