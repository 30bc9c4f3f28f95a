package ssh

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Critical options this issuer understands. Any other critical option is an
// error: sshd refuses a certificate with a critical option it does not know.
const (
	OptForceCommand   = "force-command"
	OptSourceAddress  = "source-address"
	OptVerifyRequired = "verify-required"
)

// flagExtensions are OpenSSH's own certificate extensions. They are flags:
// sshd rejects the certificate if one carries a value.
var flagExtensions = []string{"no-touch-required", "permit-X11-forwarding", "permit-agent-forwarding",
	"permit-port-forwarding", "permit-pty", "permit-user-rc"}

// DefaultExtensions are what a role without extensions allows: an
// interactive terminal and nothing else.
func DefaultExtensions() map[string]string { return map[string]string{"permit-pty": ""} }

// maxOptionBytes bounds each option or extension name and value.
const maxOptionBytes = 4096

// MergeExtensions returns the extensions to issue from the role's and the
// grant's: the names in both, with the role's values. A role without
// extensions (nil) allows [DefaultExtensions]; a grant without extensions
// (nil) does not narrow; a non-nil empty map allows nothing. A grant never
// adds an extension the role does not allow. Both inputs are checked with
// [ValidateExtensions] first.
func MergeExtensions(role, grant map[string]string) (map[string]string, error) {
	if err := ValidateExtensions(role); err != nil {
		return nil, fmt.Errorf("role: %w", err)
	}
	if err := ValidateExtensions(grant); err != nil {
		return nil, fmt.Errorf("grant: %w", err)
	}
	return mergeExtensions(role, grant), nil
}

// mergeExtensions is MergeExtensions after the checks.
// A role without extensions allows the defaults, so a grant only ever
// narrows what the role allows: it never adds an extension.
func mergeExtensions(role, grant map[string]string) map[string]string {
	if role == nil {
		role = DefaultExtensions()
	}
	if grant == nil {
		return maps.Clone(role)
	}
	out := make(map[string]string, len(role))
	for name, value := range role {
		if _, ok := grant[name]; ok {
			out[name] = value
		}
	}
	return out
}

// ValidateExtensions checks certificate extensions: OpenSSH's own flags
// (permit-pty, …) with empty values, or vendor extensions name@domain; no
// control characters in names or values.
func ValidateExtensions(ext map[string]string) error {
	for _, name := range slices.Sorted(maps.Keys(ext)) {
		value := ext[name]
		if err := checkText("extension name", name, false); err != nil {
			return err
		}
		if err := checkText("extension "+name, value, true); err != nil {
			return err
		}
		switch {
		case slices.Contains(flagExtensions, name):
			if value != "" {
				return fmt.Errorf("extension %s is a flag and takes no value", name)
			}
		case !strings.Contains(name, "@"):
			return fmt.Errorf("unknown extension %q; use one of %s, or a vendor name@domain",
				name, strings.Join(flagExtensions, ", "))
		}
	}
	return nil
}

// ValidateCriticalOptions checks certificate critical options: only
// force-command (a non-empty command), source-address (a comma-separated
// list of CIDRs or addresses, see [ParseSourceAddress]) and verify-required
// (no value); no control characters.
func ValidateCriticalOptions(opts map[string]string) error {
	for _, name := range slices.Sorted(maps.Keys(opts)) {
		value := opts[name]
		if err := checkText("critical option name", name, false); err != nil {
			return err
		}
		if err := checkText("critical option "+name, value, true); err != nil {
			return err
		}
		switch name {
		case OptForceCommand:
			if strings.TrimSpace(value) == "" {
				return errors.New("critical option force-command needs a command")
			}
		case OptSourceAddress:
			if _, err := ParseSourceAddress(value); err != nil {
				return err
			}
		case OptVerifyRequired:
			if value != "" {
				return errors.New("critical option verify-required takes no value")
			}
		default:
			return fmt.Errorf("unknown critical option %q; sshd refuses certificates with critical options "+
				"it does not know; use %s, %s or %s", name, OptForceCommand, OptSourceAddress, OptVerifyRequired)
		}
	}
	return nil
}

// MergeCriticalOptions returns the critical options to issue from the
// role's and the grant's; the strictest wins. force-command: if both set
// it, they must be equal (else an error), otherwise whichever is set.
// source-address: the networks allowed by both (see
// [IntersectSourceAddress]); an empty intersection is an error.
// verify-required: set if either sets it. Both inputs are checked with
// [ValidateCriticalOptions] first; nil and empty maps both mean "no
// options".
func MergeCriticalOptions(role, grant map[string]string) (map[string]string, error) {
	if err := ValidateCriticalOptions(role); err != nil {
		return nil, fmt.Errorf("role: %w", err)
	}
	if err := ValidateCriticalOptions(grant); err != nil {
		return nil, fmt.Errorf("grant: %w", err)
	}
	out := make(map[string]string, 3)
	rc, rok := role[OptForceCommand]
	gc, gok := grant[OptForceCommand]
	switch {
	case rok && gok && rc != gc:
		return nil, fmt.Errorf("force-command conflict: the role forces %q, the grant %q", rc, gc)
	case rok:
		out[OptForceCommand] = rc
	case gok:
		out[OptForceCommand] = gc
	}
	ra, rok := role[OptSourceAddress]
	ga, gok := grant[OptSourceAddress]
	if rok || gok {
		var sa string
		var err error
		switch {
		case rok && gok:
			sa, err = IntersectSourceAddress(ra, ga)
		case rok:
			sa, err = canonicalSourceAddress(ra)
		default:
			sa, err = canonicalSourceAddress(ga)
		}
		if err != nil {
			return nil, err
		}
		out[OptSourceAddress] = sa
	}
	_, rv := role[OptVerifyRequired]
	_, gv := grant[OptVerifyRequired]
	if rv || gv {
		out[OptVerifyRequired] = ""
	}
	return out, nil
}

// checkText refuses empty names (unless allowEmpty), invalid UTF-8, control
// and format characters, and over-long values.
func checkText(what, s string, allowEmpty bool) error {
	switch {
	case s == "" && !allowEmpty:
		return fmt.Errorf("%s is empty", what)
	case len(s) > maxOptionBytes:
		return fmt.Errorf("%s is longer than %d bytes", what, maxOptionBytes)
	case !utf8.ValidString(s):
		return fmt.Errorf("%s is not valid UTF-8", what)
	case strings.IndexFunc(s, isControl) >= 0:
		return fmt.Errorf("%s contains a control character", what)
	}
	return nil
}

// isControl reports control (Cc) and invisible format (Cf) characters, such
// as bidirectional overrides, which could disguise a value in logs.
func isControl(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }
