package ssh

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jit-policy/jit-policy/engine"
	"github.com/jit-policy/jit-policy/issuers"
)

// MaxPrincipalBytes is the longest principal accepted.
const MaxPrincipalBytes = 255

// ClockSkew is how long before the issue time a certificate becomes valid,
// so that a server whose clock is slightly behind accepts it at once.
const ClockSkew = 30 * time.Second

// ValidatePrincipal checks one SSH principal: not empty, at most
// MaxPrincipalBytes bytes of valid UTF-8, and no commas, whitespace,
// control or invisible format characters (sshd and KRLs treat principal
// lists as comma-separated; the rest hides in logs and files).
func ValidatePrincipal(p string) error {
	switch {
	case p == "":
		return errors.New("principal is empty")
	case len(p) > MaxPrincipalBytes:
		return fmt.Errorf("principal is longer than %d bytes", MaxPrincipalBytes)
	case !utf8.ValidString(p):
		return fmt.Errorf("principal %q is not valid UTF-8", p)
	case strings.IndexFunc(p, func(r rune) bool { return r == ',' || unicode.IsSpace(r) || isControl(r) }) >= 0:
		return fmt.Errorf("principal %q contains a comma, whitespace or control character", p)
	}
	return nil
}

// Plan is what a request clamps to: exactly what Issue puts in the
// certificate besides the key, serial and key id.
type Plan struct {
	Principals      []string
	TTL             time.Duration
	ValidAfter      time.Time // Now − ClockSkew, whole seconds
	ValidBefore     time.Time // Now + TTL, whole seconds; the lease's expiry
	Extensions      map[string]string
	CriticalOptions map[string]string
}

// Plan clamps req to its role (req.Lease.Role), the issuer and the grant
// without signing anything (for --dry-run, and the first step of Issue). It
// fails when the role is unknown or anything clamps to nothing; Issue
// prefixes its errors with the role.
func (i *Issuer) Plan(req issuers.Request) (Plan, error) {
	r, ok := i.roles[req.Lease.Role]
	if !ok {
		return Plan{}, errors.New("no such role in issuers.ssh.roles")
	}
	g := req.Grant
	if g == nil {
		g = &engine.Grant{}
	}
	var p Plan
	var err error
	if p.Principals, err = clampPrincipals(req.Principals, g.Principals, r.principals); err != nil {
		return Plan{}, err
	}
	if p.TTL, err = issuers.ClampTTL(req.TTL, g.MaxTTLSeconds, r.maxTTL, i.maxTTL); err != nil {
		return Plan{}, err
	}
	if req.Now.IsZero() || req.Now.Add(-ClockSkew).Unix() <= 0 {
		return Plan{}, errors.New("the request has no issue time")
	}
	p.ValidAfter = time.Unix(req.Now.Add(-ClockSkew).Unix(), 0).UTC()
	p.ValidBefore = time.Unix(req.Now.Add(p.TTL).Unix(), 0).UTC()
	if p.Extensions, err = r.mergeExtensions(g.Extensions); err != nil {
		return Plan{}, fmt.Errorf("extensions: %w", err)
	}
	if p.CriticalOptions, err = r.mergeCriticalOptions(g.CriticalOptions); err != nil {
		return Plan{}, fmt.Errorf("critical options: %w", err)
	}
	return p, nil
}

// clampPrincipals returns requested ∩ grant ∩ role, in the order requested
// (or the role's order when nothing was requested), without duplicates. A
// nil grant does not constrain; an empty one allows nothing. The role's
// principals are checked already (compileRole); the requested and granted
// ones are checked here. An empty result is an error.
func clampPrincipals(requested, grant, role []string) ([]string, error) {
	for _, p := range requested {
		if err := ValidatePrincipal(p); err != nil {
			return nil, fmt.Errorf("requested %w", err)
		}
	}
	for _, p := range grant {
		if err := ValidatePrincipal(p); err != nil {
			return nil, fmt.Errorf("grant %w", err)
		}
	}
	if len(role) == 0 {
		return nil, errors.New("the role allows no principals")
	}
	from := requested
	if len(from) == 0 {
		from = role
	}
	var out []string
	for _, p := range from {
		if slices.Contains(role, p) && (grant == nil || slices.Contains(grant, p)) && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, principalsError(requested, grant, role)
	}
	return out, nil
}

func principalsError(requested, grant, role []string) error {
	msg := fmt.Sprintf("no principal is allowed: the role allows %s", strings.Join(role, ", "))
	if grant != nil {
		msg += fmt.Sprintf("; the policy grants %s", orNone(grant))
	}
	if len(requested) > 0 {
		msg += fmt.Sprintf("; requested %s", strings.Join(requested, ", "))
	}
	return errors.New(msg)
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
