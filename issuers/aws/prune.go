package aws

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
)

// Sweeping: Prune drops expired sessions from every configured role's
// RevokedPolicyName policy and reports its size against IAM's limit.

// Prune drops, from the revocation policy of every configured role, the
// statements whose sessions have all expired at now, and deletes the
// policy when nothing is left in it. It returns one note per role whose
// policy holds sessions (how many, its size against IAM's limit), and a
// note for each that nears the limit.
//
// IAM has no conditional write: a revoke written by another process
// between Prune's last read and its write would be lost. Prune reads twice
// to narrow that window, and Revoke reads its write back after a pause
// and writes again when it is gone.
func (i *Issuer) Prune(ctx context.Context, now time.Time) ([]string, error) {
	arns := map[string]bool{}
	for _, r := range i.cfg.Roles {
		if r.RoleARN != "" {
			arns[r.RoleARN] = true
		}
	}
	var notes []string
	var errs []error
	for _, arn := range slices.Sorted(maps.Keys(arns)) {
		n, err := i.pruneRole(ctx, arn, now)
		notes = append(notes, n...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return notes, errors.Join(errs...)
}

func (i *Issuer) pruneRole(ctx context.Context, arn string, now time.Time) ([]string, error) {
	name, err := roleName(arn)
	if err != nil {
		return nil, err
	}
	st := i.roles.get(arn)
	st.write.Lock()
	defer st.write.Unlock()
	if _, err := i.roleID(ctx, arn, name, st, false); err != nil {
		return nil, err
	}
	p, found, err := i.readPolicy(ctx, arn, name)
	if err != nil || !found {
		return nil, err
	}
	dropped := 0
	for attempt := 1; attempt <= writeAttempts; attempt++ {
		if dropped = p.prune(now); dropped == 0 {
			break
		}
		again, found, err := i.readPolicy(ctx, arn, name)
		if err != nil || !found {
			return nil, err
		}
		if again.raw != p.raw {
			// Written meanwhile: start from the newer document, or leave
			// it to the next sweep.
			p, dropped = again, 0
			continue
		}
		if len(p.buckets) == 0 && len(p.foreign) == 0 {
			if err := i.deletePolicy(ctx, arn, name); err != nil {
				return nil, err
			}
			return []string{fmt.Sprintf("%s: %s deleted: every session it denied has expired", arn, RevokedPolicyName)}, nil
		}
		doc, _, err := p.encode()
		if err != nil {
			return nil, err
		}
		if err := i.putPolicy(ctx, arn, name, doc); err != nil {
			return nil, err
		}
		break
	}
	_, size, err := p.encode()
	if err != nil {
		return nil, err
	}
	n := p.sessions()
	note := fmt.Sprintf("%s: %s holds %d %s, %s of %s characters", arn, RevokedPolicyName, n, plural(n, "session", "sessions"), thousands(size), thousands(InlinePolicyLimit))
	if dropped > 0 {
		note += fmt.Sprintf(" (pruned %d expired %s)", dropped, plural(dropped, "statement", "statements"))
	}
	notes := []string{note}
	if size > nearLimit {
		notes = append(notes, fmt.Sprintf("%s: %s is nearing IAM's %s-character inline-policy limit (%d %%), which it shares with the role's other inline policies: revokes fail beyond it; lower max_ttl so that sessions expire sooner, or sweep more often",
			arn, RevokedPolicyName, thousands(InlinePolicyLimit), size*100/InlinePolicyLimit))
	}
	return notes, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// thousands formats n with comma separators: 10,240.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
