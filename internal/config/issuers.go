package config

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
)

var (
	roleNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	regionRe   = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	roleARNRe  = regexp.MustCompile(`^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$`)
	// policyARNRe matches managed policies: AWS's own (account "aws") or a customer's.
	policyARNRe      = regexp.MustCompile(`^arn:aws(-[a-z]+)*:iam::([0-9]{12}|aws):policy/[A-Za-z0-9+=,.@_/-]+$`)
	trustAnchorARNRe = regexp.MustCompile(`^arn:aws(-[a-z]+)*:rolesanywhere:[a-z0-9-]+:[0-9]{12}:trust-anchor/[0-9a-f-]{36}$`)
	profileARNRe     = regexp.MustCompile(`^arn:aws(-[a-z]+)*:rolesanywhere:[a-z0-9-]+:[0-9]{12}:profile/[0-9a-f-]{36}$`)

	sshExtensions = []string{"no-touch-required", "permit-X11-forwarding", "permit-agent-forwarding",
		"permit-port-forwarding", "permit-pty", "permit-user-rc"}
	sshCriticalOptions = []string{"force-command", "source-address", "verify-required"}
)

// STS limits on a session's duration.
const (
	awsMinTTL = 15 * time.Minute
	awsMaxTTL = 12 * time.Hour
)

// roles checks that an issuer defines roles with usable names and returns
// the names in order, so errors come out in a stable order.
func roles[R any](v *validator, path string, m map[string]R) []string {
	if len(m) == 0 {
		v.Fail(path+".roles", "must define at least one role")
		return nil
	}
	names := slices.Sorted(maps.Keys(m))
	for _, name := range names {
		if !roleNameRe.MatchString(name) {
			v.Fail(path+".roles."+name, `role name must be at most 64 letters, digits, ".", "_" or "-", starting with a letter or digit`)
		}
	}
	return names
}

func (v *validator) ssh(path string, s *SSHIssuer) {
	v.keyURI(path+".ca_key", s.CAKey)
	if _, ok := FilePath(s.CAPublicKey); s.CAPublicKey != "" && !ok {
		v.Fail(path+".ca_public_key", "must be file://PATH")
	}
	v.issuerTTL(path, s.MaxTTL)
	for _, name := range roles(v, path, s.Roles) {
		r, rp := s.Roles[name], path+".roles."+name
		if len(r.Principals) == 0 {
			v.Fail(rp+".principals", `must list at least one principal; an empty list never means "any"`)
		}
		for i, p := range r.Principals {
			if p == "" || strings.ContainsAny(p, ", \t\r\n") {
				v.Fail(fmt.Sprintf("%s.principals[%d]", rp, i), "must be a non-empty name without spaces or commas")
			}
		}
		v.sshNames(rp+".extensions", "extension", r.Extensions, sshExtensions, true)
		v.sshNames(rp+".critical_options", "critical option", r.CriticalOptions, sshCriticalOptions, false)
		v.roleTTL(rp, path, r.MaxTTL, s.MaxTTL)
	}
}

// sshNames checks certificate extension or critical option names: OpenSSH's
// own, or a vendor name@domain.
func (v *validator) sshNames(path, what string, m map[string]string, known []string, vendor bool) {
	for _, name := range slices.Sorted(maps.Keys(m)) {
		switch {
		case slices.Contains(known, name):
		case vendor && strings.Contains(name, "@"):
		case vendor:
			v.Fail(path+"."+name, "unknown %s; use one of %s, or a vendor name@domain",
				what, strings.Join(known, ", "))
		default:
			// sshd refuses a certificate with a critical option it does not
			// know, so vendor options would only lock users out.
			v.Fail(path+"."+name, "unknown %s; use one of %s", what, strings.Join(known, ", "))
		}
	}
}

func (v *validator) postgres(path string, p *PostgresIssuer) {
	if p.DSN == "" {
		v.Fail(path+".dsn", "is required: the admin connection, e.g. ${JIT_PG_DSN} (never written in the file)")
	} else {
		v.postgresDSN(path+".dsn", p.DSN)
	}
	if p.Owner == "" {
		v.Fail(path+".owner", "is required: the NOLOGIN role that takes over what revoked roles owned")
	}
	v.issuerTTL(path, p.MaxTTL)
	for _, name := range roles(v, path, p.Roles) {
		r, rp := p.Roles[name], path+".roles."+name
		if len(r.Grants) == 0 {
			v.Fail(rp+".grants", "must list at least one role to grant")
		}
		v.list(rp+".grants", r.Grants)
		v.list(rp+".databases", r.Databases)
		if r.ConnectionLimit < 0 {
			v.Fail(rp+".connection_limit", "must be 0 (no limit) or more")
		}
		v.roleTTL(rp, path, r.MaxTTL, p.MaxTTL)
	}
}

func (v *validator) aws(path string, a *AWSIssuer, c *Config) {
	switch {
	case a.Region == "":
		v.Fail(path+".region", "is required, e.g. us-east-1")
	case !regionRe.MatchString(a.Region):
		v.Fail(path+".region", "must be an AWS region name such as us-east-1")
	}
	for key, ep := range map[string]string{"sts_endpoint": a.STSEndpoint, "iam_endpoint": a.IAMEndpoint, "rolesanywhere_endpoint": a.RolesAnywhereEndpoint} {
		if ep != "" {
			v.endpoint(path+"."+key, ep)
		}
	}
	if a.EndpointCA != "" {
		v.fileURI(path+".endpoint_ca", a.EndpointCA, "must be file://PATH of PEM CA certificates")
	}
	v.issuerTTL(path, a.MaxTTL)
	v.awsTTL(path, a.MaxTTL)
	for _, name := range roles(v, path, a.Roles) {
		r, rp := a.Roles[name], path+".roles."+name
		v.awsRole(rp, r, a, c)
		if r.SessionPolicy != "" && !jsonObject(r.SessionPolicy) {
			v.Fail(rp+".session_policy", "must be a JSON policy document (an object)")
		}
		if len(r.ManagedSessionPolicies) > 10 {
			v.Fail(rp+".managed_session_policies", "STS takes at most 10 managed session policies")
		}
		for i, arn := range r.ManagedSessionPolicies {
			if !policyARNRe.MatchString(arn) {
				v.Fail(fmt.Sprintf("%s.managed_session_policies[%d]", rp, i), "must be an IAM policy ARN such as arn:aws:iam::aws:policy/ReadOnlyAccess")
			}
		}
		v.awsTTL(rp, r.MaxTTL)
		v.roleTTL(rp, path, r.MaxTTL, a.MaxTTL)
	}
}

// awsRole checks the mode of one AWS role and the keys that mode needs.
func (v *validator) awsRole(rp string, r AWSRole, a *AWSIssuer, c *Config) {
	needARN := true
	switch r.Mode {
	case "", AWSModeAssumeRole, AWSModeWebIdentity:
		if r.X509Role != "" || r.TrustAnchorARN != "" || r.ProfileARN != "" {
			v.Fail(rp+".mode", "x509_role, trust_anchor_arn and profile_arn need mode: certificate")
		}
	case AWSModeCertificate:
		if r.SessionPolicy != "" || len(r.ManagedSessionPolicies) > 0 {
			v.Fail(rp+".session_policy", "certificate mode takes no session policy (neither Roles Anywhere CreateSession nor AssumeRoleWithCertificate accepts one): scope the role or the MinIO policy itself")
		}
		if r.X509Role == "" {
			v.Fail(rp+".x509_role", "is required in certificate mode: the issuers.x509 role of the job's certificate")
		} else if c.Issuers.X509 == nil {
			v.Fail(rp+".x509_role", "certificate mode needs the x509 issuer: configure issuers.x509")
		} else if _, ok := c.Issuers.X509.Roles[r.X509Role]; !ok {
			v.Fail(rp+".x509_role", "names no role of issuers.x509")
		}
		switch {
		case r.TrustAnchorARN == "" && r.ProfileARN == "":
			needARN = false // STS AssumeRoleWithCertificate: the certificate names the policy
			if a.STSEndpoint == "" {
				v.Fail(rp+".mode", "certificate mode without a trust anchor exchanges the certificate at sts_endpoint: set it")
			}
		case !trustAnchorARNRe.MatchString(r.TrustAnchorARN):
			v.Fail(rp+".trust_anchor_arn", "must be a Roles Anywhere trust anchor ARN, with profile_arn")
		case !profileARNRe.MatchString(r.ProfileARN):
			v.Fail(rp+".profile_arn", "must be a Roles Anywhere profile ARN, with trust_anchor_arn")
		}
	default:
		v.Fail(rp+".mode", "must be assume-role, web-identity or certificate")
	}
	switch {
	case r.RoleARN == "" && needARN:
		v.Fail(rp+".role_arn", "is required: the IAM role to assume")
	case r.RoleARN != "" && !roleARNRe.MatchString(r.RoleARN):
		v.Fail(rp+".role_arn", "must be an IAM role ARN such as arn:aws:iam::123456789012:role/deploy")
	}
}

// awsTTL checks a set max_ttl against the STS limits.
func (v *validator) awsTTL(path string, d Duration) {
	if d.Duration != 0 && (d.Duration < awsMinTTL || d.Duration > awsMaxTTL) {
		v.Fail(path+".max_ttl", "must be between %v and %v (AWS STS limits)", awsMinTTL, awsMaxTTL)
	}
}

func jsonObject(s string) bool {
	var obj map[string]json.RawMessage
	return json.Unmarshal([]byte(s), &obj) == nil && obj != nil
}

func (v *validator) x509(path string, x *X509Issuer) {
	v.fileURI(path+".ca_cert", x.CACert, "must be file://PATH of the CA certificate (PEM)")
	v.keyURI(path+".ca_key", x.CAKey)
	v.issuerTTL(path, x.MaxTTL)
	for _, name := range roles(v, path, x.Roles) {
		r, rp := x.Roles[name], path+".roles."+name
		if strings.TrimSpace(r.CommonName) == "" {
			v.Fail(rp+".common_name", "is required; it may use {{subject}}")
		}
		v.list(rp+".organizations", r.Organizations)
		v.roleTTL(rp, path, r.MaxTTL, x.MaxTTL)
	}
}
