// Field validation of request files: the validator that collects every
// problem in a File, each naming its key and line.

package request

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jit-policy/jit-policy/internal/strictyaml"
)

var (
	loginRe = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$`)
	roleRe  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
)

// validator collects every problem in a File, each naming its key and,
// where the key is in the file, its line.
type validator struct {
	strictyaml.Problems
}

func (v *validator) check(f File) {
	switch f.Version {
	case Version:
	case "":
		v.Fail("version", "is required; set it to %s", Version)
	default:
		v.Fail("version", "must be %s", Version)
	}
	switch {
	case f.Requester == "":
		v.Fail("requester", "is required; set it to your GitHub login")
	case !loginRe.MatchString(f.Requester):
		v.Fail("requester", "is not a GitHub login (letters, digits and -, at most 39)")
	}
	v.reason(f.Reason)
	v.duration(f.Duration.Text)
	if f.Recipient != "" {
		v.recipient(f.Recipient)
	}
	switch n := len(f.Access); {
	case n == 0:
		v.Fail("access", "is required; list at least one {issuer, role}")
	case n > MaxItems:
		v.Fail("access", "has %d items; at most %d are allowed (split the request)", n, MaxItems)
	}
	for i, it := range f.Access {
		v.item(fmt.Sprintf("access[%d]", i), it)
	}
}

func (v *validator) reason(s string) {
	if n := utf8.RuneCountInString(s); n > MaxReason {
		v.Fail("reason", "is %d characters long; at most %d are allowed", n, MaxReason)
	}
	if !utf8.ValidString(s) {
		v.Fail("reason", "is not valid UTF-8")
		return
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			v.Fail("reason", "holds control character %U; write it on one line without control characters", r)
			return
		}
	}
}

func (v *validator) duration(s string) {
	if s == "" {
		v.Fail("duration", "is required; write one such as 30m or 2h")
		return
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		v.Fail("duration", "is not a duration; write one such as 30m, 2h or 1h30m")
	case d <= 0:
		v.Fail("duration", "must be greater than zero")
	case d > MaxDuration:
		v.Fail("duration", "is longer than 30 days (720h)")
	case d%time.Second != 0:
		v.Fail("duration", "must be a whole number of seconds")
	}
}

func (v *validator) item(path string, it Item) {
	switch {
	case it.Issuer == "":
		v.Fail(path+".issuer", "is required; one of %s", strings.Join(Issuers(), ", "))
	case !slices.Contains(Issuers(), it.Issuer):
		v.Fail(path+".issuer", "must be one of %s", strings.Join(Issuers(), ", "))
	}
	switch {
	case it.Role == "":
		v.Fail(path+".role", "is required")
	case !roleRe.MatchString(it.Role):
		v.Fail(path+".role", "is not a role name (a letter or digit, then letters, digits, ., _ or -, at most 64)")
	}
	if n := len(it.Principals); n > MaxPrincipals {
		v.Fail(path+".principals", "has %d items; at most %d are allowed", n, MaxPrincipals)
	}
	for i, p := range it.Principals {
		if p == "" || strings.ContainsFunc(p, func(r rune) bool {
			return r == ',' || unicode.IsSpace(r) || unicode.IsControl(r)
		}) {
			v.Fail(fmt.Sprintf("%s.principals[%d]", path, i), "must be non-empty, without spaces or commas")
		}
	}
	if it.PublicKey != "" {
		if it.Issuer != "ssh" {
			v.Fail(path+".public_key", "is only for issuer ssh")
		} else if _, err := parseKey(it.PublicKey); err != nil {
			v.Fail(path+".public_key", "is not an SSH public key: %v", err)
		}
	}
	if it.CSR != "" {
		if it.Issuer != "x509" {
			v.Fail(path+".csr", "is only for issuer x509")
		} else if err := checkCSR(it.CSR); err != nil {
			v.Fail(path+".csr", "%v", err)
		}
	}
}
