package issuers

import (
	"fmt"
	"time"
)

// ClampTTL is the lifetime to issue (DESIGN.md, "Decision"): the smallest
// of the requested TTL (0: no limit), the policy grant's max_ttl_seconds
// (nil: no limit), the role's max_ttl (0: no limit) and the issuer's
// max_ttl (positive). A negative request, a grant of 0 or less, or a result
// under a second is an error: never a silent widening.
func ClampTTL(requested time.Duration, grantSeconds *int64, role, issuer time.Duration) (time.Duration, error) {
	if requested < 0 {
		return 0, fmt.Errorf("requested ttl %v is negative", requested)
	}
	ttl := issuer
	if role > 0 && role < ttl {
		ttl = role
	}
	if grantSeconds != nil {
		s := *grantSeconds
		if s <= 0 {
			return 0, fmt.Errorf("grant max_ttl_seconds %d must be positive", s)
		}
		if s < int64(ttl/time.Second) {
			ttl = time.Duration(s) * time.Second
		}
	}
	if requested > 0 && requested < ttl {
		ttl = requested
	}
	if ttl < time.Second {
		return 0, fmt.Errorf("ttl %v is shorter than a second", ttl)
	}
	return ttl, nil
}
