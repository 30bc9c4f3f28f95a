package issuers

import "fmt"

// ClaimString returns claim name of a token's claims (Request.Claims, or
// any claims decoded from JSON) as text: a string as it is, an absent or
// null claim as "", and any other value (a number, a boolean) as
// fmt.Sprint prints it.
func ClaimString(claims map[string]any, name string) string {
	switch v := claims[name].(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}
