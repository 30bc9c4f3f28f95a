package lease

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// ValidateNew checks a lease given to Store.Put: an id, IssuedAt and
// ExpiresAt within the int64-nanosecond range, state empty or Pending, not
// revoked. Every store applies it, so all accept the same leases.
func ValidateNew(l Lease) error {
	var problems []string
	if l.ID == "" {
		problems = append(problems, "the id is empty")
	}
	if l.State != "" && l.State != Pending {
		problems = append(problems, fmt.Sprintf("state is %q: a new lease is pending until Activate", l.State))
	}
	for _, f := range []struct {
		name string
		t    time.Time
	}{{"IssuedAt", l.IssuedAt}, {"ExpiresAt", l.ExpiresAt}} {
		if f.t.IsZero() {
			problems = append(problems, f.name+" is not set")
		} else if !InNanoRange(f.t) {
			problems = append(problems, fmt.Sprintf("%s %v is outside the years 1678-2262", f.name, f.t))
		}
	}
	if !l.RevokedAt.IsZero() || l.RevokedBy != "" {
		problems = append(problems, "RevokedAt/RevokedBy are set: a new lease is not revoked")
	}
	if len(problems) > 0 {
		return errors.New("invalid lease: " + strings.Join(problems, "; "))
	}
	return nil
}

// InNanoRange reports whether t fits in int64 Unix nanoseconds.
func InNanoRange(t time.Time) bool {
	return !t.Before(time.Unix(0, math.MinInt64)) && !t.After(time.Unix(0, math.MaxInt64))
}

// ClampNanos returns t in Unix nanoseconds, clamped to the int64 range.
func ClampNanos(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}
