package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/jit-policy/jit-policy/internal/loopback"
	"github.com/jit-policy/jit-policy/internal/strictyaml"
)

// validator collects every problem in a Config, each naming its key and,
// where the key is in the file, its line. Messages never repeat a value:
// values may have been expanded from the environment and hold secrets.
type validator struct {
	strictyaml.Problems
	// unknown holds the paths of values that held ${NAME} when the file
	// is checked without the environment (CheckFile): their values are
	// placeholders, so problems reported at those paths are dropped.
	unknown map[string]bool
}

// Fail records a problem at path, unless the value at path is unknown.
func (v *validator) Fail(path, format string, args ...any) {
	if v.unknown[path] {
		return
	}
	v.Problems.Fail(path, format, args...)
}

func (v *validator) config(c *Config) {
	switch c.Version {
	case Version:
	case "":
		v.Fail("version", "is required; set it to %s", Version)
	default:
		v.Fail("version", "must be %s", Version)
	}
	if strings.Contains(c.Policy, "://") {
		v.Fail("policy", "must be a folder path, not a URI")
	}
	if c.Audit != "stderr" {
		v.fileURI("audit", c.Audit, `must be "stderr" or file://PATH`)
	}
	v.oidc(c.OIDC)
	if !strings.HasPrefix(c.Leases, "postgres://") && !strings.HasPrefix(c.Leases, "postgresql://") {
		v.fileURI("leases", c.Leases, "must be file://PATH, postgres://… or postgresql://…")
	} else {
		v.postgresDSN("leases", c.Leases)
	}
	v.ci(&c.CI)
	v.pullRequests(c.PullRequests)
	v.fileURI("krl", c.KRL, "must be file://PATH")
	v.fileURI("crl", c.CRL, "must be file://PATH")
	if c.Issuers.SSH != nil {
		v.ssh("issuers.ssh", c.Issuers.SSH)
	}
	if c.Issuers.Postgres != nil {
		v.postgres("issuers.postgres", c.Issuers.Postgres)
	}
	if c.Issuers.AWS != nil {
		v.aws("issuers.aws", c.Issuers.AWS, c)
	}
	if c.Issuers.X509 != nil {
		v.x509("issuers.x509", c.Issuers.X509)
	}
}

func (v *validator) oidc(providers []OIDCProvider) {
	first := map[string]int{}
	for i, p := range providers {
		path := fmt.Sprintf("oidc[%d]", i)
		v.endpoint(path+".issuer", p.Issuer)
		if j, dup := first[p.Issuer]; dup && p.Issuer != "" {
			v.Fail(path+".issuer", "repeats oidc[%d].issuer; list each issuer once", j)
		} else {
			first[p.Issuer] = i
		}
		if p.Audience == "" {
			v.Fail(path+".audience", "is required: the audience its tokens must be issued for, e.g. jit-policy")
		}
	}
}

// endpoint checks an https:// URL (http:// only on loopback) with a host
// and no user info, query or fragment.
func (v *validator) endpoint(path, s string) {
	if s == "" {
		v.Fail(path, "is required: an https:// URL")
		return
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" || (u.Scheme != "https" && u.Scheme != "http") {
		v.Fail(path, "must be an https:// URL")
		return
	}
	if u.Scheme == "http" && !loopback.Is(u.Hostname()) {
		v.Fail(path, "must use https; http is allowed only on loopback (localhost, 127.0.0.0/8, ::1)")
	}
	if u.User != nil {
		v.Fail(path, "must not hold a user name or password")
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		v.Fail(path, "must not have a query or fragment")
	}
}

// fileURI checks a file://PATH value; want says which forms the key takes.
func (v *validator) fileURI(path, s, want string) {
	p, ok := FilePath(s)
	switch {
	case s == "":
		v.Fail(path, "is required; it %s", want)
	case !ok:
		v.Fail(path, "%s", want)
	case p == "":
		v.Fail(path, "names no path after file://")
	}
}

var keySchemes = []string{"file", "awskms", "gcpkms", "azurekms", "hashivault"}

// keyURI checks a CA key reference: a file or a KMS key.
func (v *validator) keyURI(path, s string) {
	const forms = "file://PATH, awskms://…, gcpkms://…, azurekms://… or hashivault://…"
	scheme, rest, ok := strings.Cut(s, "://")
	switch {
	case s == "":
		v.Fail(path, "is required: %s", forms)
	case !ok || !slices.Contains(keySchemes, scheme):
		v.Fail(path, "must be %s", forms)
	case rest == "":
		v.Fail(path, "names no key after %s://", scheme)
	}
}

// issuerTTL checks an issuer's max_ttl, which is required.
func (v *validator) issuerTTL(path string, d Duration) {
	if d.Duration == 0 {
		v.Fail(path+".max_ttl", "is required: the longest credential this issuer may issue, e.g. 1h")
	}
}

// roleTTL checks an optional role max_ttl (at path+".max_ttl") against
// its issuer's (at issuerPath+".max_ttl"); not when either held ${NAME}
// and so is unknown here (CheckFile).
func (v *validator) roleTTL(path, issuerPath string, role, issuer Duration) {
	if v.unknown[path+".max_ttl"] || v.unknown[issuerPath+".max_ttl"] {
		return
	}
	if issuer.Duration > 0 && role.Duration > issuer.Duration {
		v.Fail(path+".max_ttl", "%v is longer than the issuer's max_ttl %v; lower it", role.Duration, issuer.Duration)
	}
}

// list checks that every entry of a list is set.
func (v *validator) list(path string, items []string) {
	for i, s := range items {
		if strings.TrimSpace(s) == "" {
			v.Fail(fmt.Sprintf("%s[%d]", path, i), "must not be empty")
		}
	}
}
