// Package config loads and validates jit-policy.yaml: where the policy lives,
// where audit records, leases and revocation lists go, which OIDC issuers are
// trusted, and how each issuer's roles reach their backend. The policy says
// who may; this file says how.
//
// The file is decoded strictly (see internal/strictyaml): unknown keys,
// duplicate keys and wrong types are errors, and ${NAME} in a string value
// reads the environment (unset: an error). Validation runs once, in Parse;
// a *Config returned without error is complete and consistent. CheckFile
// validates a file without the environment, for commands that must run
// without secrets.
//
// PostgreSQL connection strings (leases, issuers.postgres.dsn) to a host
// other than loopback or a unix socket must verify the server's certificate:
// sslmode=verify-full or verify-ca.
//
// Defaults: policy "./policies", audit "stderr", leases
// "file://.jit/leases.db", krl "file://.jit/revoked.krl", crl
// "file://.jit/revoked.crl".
//
// Paths: Parse resolves every relative path against the directory of the
// config file (Config.Dir) once, after validation, so every path in a
// returned Config can be used as is: the policy folder, and the path in each
// file:// URI (audit, leases, krl, crl, ca_key, ca_cert). "file://rel/path"
// and "file:///abs/path" are both accepted; FilePath extracts the path.
package config

import (
	"path/filepath"
	"strings"
)

// Version is the only supported value of the version key.
const Version = "jit-policy/v1"

// Config is a validated jit-policy.yaml. The yaml tags are the file format.
type Config struct {
	Version string         `yaml:"version"`
	Policy  string         `yaml:"policy"` // policy folder; resolved against Dir
	Audit   string         `yaml:"audit"`  // "stderr" or "file://PATH"
	OIDC    []OIDCProvider `yaml:"oidc"`
	Leases  string         `yaml:"leases"` // "file://PATH", "postgres://…" or "postgresql://…"
	KRL     string         `yaml:"krl"`    // "file://PATH": the SSH key revocation list
	CRL     string         `yaml:"crl"`    // "file://PATH": the X.509 certificate revocation list
	Issuers Issuers        `yaml:"issuers"`
	CI      CI             `yaml:"ci"` // optional: job state for the sweep
	// PullRequests configures the pull-request flow (`jit-policy check`);
	// Parse fills its defaults.
	PullRequests *PullRequests `yaml:"pull_requests"`

	// Dir is the directory of the config file, the base of relative paths:
	// filepath.Dir of the name given to Parse, so relative when that name is
	// (paths then resolve relative to the working directory too). It is not
	// read from the file.
	Dir string `yaml:"-"`
}

// OIDCProvider is a trusted OIDC token issuer and the audience its tokens
// must carry.
type OIDCProvider struct {
	Issuer   string `yaml:"issuer"`   // https://…, or http:// on loopback only
	Audience string `yaml:"audience"` // required
}

// Issuers holds the configured credential issuers; nil means not configured.
type Issuers struct {
	SSH      *SSHIssuer      `yaml:"ssh"`
	Postgres *PostgresIssuer `yaml:"postgres"`
	AWS      *AWSIssuer      `yaml:"aws"`
	X509     *X509Issuer     `yaml:"x509"`
}

// SSHIssuer signs SSH user certificates with a CA key.
type SSHIssuer struct {
	CAKey string `yaml:"ca_key"` // file://, awskms://, gcpkms://, azurekms:// or hashivault://
	// CAPublicKey is an optional file://PATH of the CA's public key
	// (authorized_keys format). The KRL names the CA it revokes for; with it
	// set, revoking and sweeping never need to reach ca_key (a KMS that is
	// down or hanging). Without it the public key is read from ca_key.
	CAPublicKey string             `yaml:"ca_public_key"`
	MaxTTL      Duration           `yaml:"max_ttl"`
	Roles       map[string]SSHRole `yaml:"roles"`
}

// SSHRole is what one SSH role may be issued.
type SSHRole struct {
	Principals      []string          `yaml:"principals"` // the allow-list; never empty
	MaxTTL          Duration          `yaml:"max_ttl"`    // optional; at most the issuer's
	Extensions      map[string]string `yaml:"extensions"`
	CriticalOptions map[string]string `yaml:"critical_options"`
}

// PostgresIssuer creates short-lived PostgreSQL login roles.
type PostgresIssuer struct {
	DSN    string                  `yaml:"dsn"`   // admin connection; should come from ${ENV}; verify-full/verify-ca off loopback
	Owner  string                  `yaml:"owner"` // REASSIGN OWNED target on revoke
	MaxTTL Duration                `yaml:"max_ttl"`
	Roles  map[string]PostgresRole `yaml:"roles"`
}

// PostgresRole is what one PostgreSQL role may be issued.
type PostgresRole struct {
	Grants          []string `yaml:"grants"`           // roles granted; never empty
	Databases       []string `yaml:"databases"`        // databases it may connect to
	ConnectionLimit int      `yaml:"connection_limit"` // 0 or absent: no limit
	MaxTTL          Duration `yaml:"max_ttl"`
}

// AWSIssuer issues AWS STS sessions (issuers/aws).
type AWSIssuer struct {
	Region      string `yaml:"region"`
	STSEndpoint string `yaml:"sts_endpoint"` // optional, e.g. a local STS for tests
	// IAMEndpoint is optional; revocation writes role inline policies there.
	IAMEndpoint string `yaml:"iam_endpoint"`
	// RolesAnywhereEndpoint is optional; certificate mode with a trust
	// anchor calls CreateSession there.
	RolesAnywhereEndpoint string `yaml:"rolesanywhere_endpoint"`
	// EndpointCA is an optional file://PATH of PEM CA certificates to trust
	// for the endpoints above, besides the system roots.
	EndpointCA string             `yaml:"endpoint_ca"`
	MaxTTL     Duration           `yaml:"max_ttl"` // between 15m and 12h (STS limits)
	Roles      map[string]AWSRole `yaml:"roles"`
}

// AWS role modes: how an AWS role gets its session.
const (
	// AWSModeAssumeRole calls sts:AssumeRole with the issuer's own
	// credentials (the SDK's default chain). The default.
	AWSModeAssumeRole = "assume-role"
	// AWSModeWebIdentity calls sts:AssumeRoleWithWebIdentity with the
	// job's own OIDC token.
	AWSModeWebIdentity = "web-identity"
	// AWSModeCertificate issues a short-lived X.509 client certificate with
	// the x509 issuer's role X509Role and exchanges it: IAM Roles Anywhere
	// CreateSession when TrustAnchorARN is set, else STS
	// AssumeRoleWithCertificate at sts_endpoint (MinIO).
	AWSModeCertificate = "certificate"
)

// AWSRole is the IAM role one AWS role assumes.
type AWSRole struct {
	Mode    string `yaml:"mode"`     // assume-role (default), web-identity or certificate
	RoleARN string `yaml:"role_arn"` // not used by certificate mode without a trust anchor
	// SessionPolicy is an optional JSON policy template: string values may
	// hold {{name}} placeholders (see issuers/aws).
	SessionPolicy          string   `yaml:"session_policy"`
	ManagedSessionPolicies []string `yaml:"managed_session_policies"` // policy ARNs
	MaxTTL                 Duration `yaml:"max_ttl"`
	// Certificate mode.
	X509Role       string `yaml:"x509_role"`        // the issuers.x509 role of the job's certificate
	TrustAnchorARN string `yaml:"trust_anchor_arn"` // Roles Anywhere
	ProfileARN     string `yaml:"profile_arn"`      // Roles Anywhere
}

// X509Issuer signs X.509 client certificates.
type X509Issuer struct {
	CACert string              `yaml:"ca_cert"` // file://
	CAKey  string              `yaml:"ca_key"`  // as SSHIssuer.CAKey
	MaxTTL Duration            `yaml:"max_ttl"`
	Roles  map[string]X509Role `yaml:"roles"`
}

// X509Role is what one X.509 role may be issued.
type X509Role struct {
	CommonName    string   `yaml:"common_name"` // may hold a template such as {{subject}}
	Organizations []string `yaml:"organizations"`
	MaxTTL        Duration `yaml:"max_ttl"`
}

func (c *Config) setDefaults() {
	for _, d := range []struct {
		field *string
		value string
	}{
		{&c.Policy, "./policies"},
		{&c.Audit, "stderr"},
		{&c.Leases, "file://.jit/leases.db"},
		{&c.KRL, "file://.jit/revoked.krl"},
		{&c.CRL, "file://.jit/revoked.crl"},
	} {
		if *d.field == "" {
			*d.field = d.value
		}
	}
}

// resolve makes relative paths relative to c.Dir. It runs after validation.
func (c *Config) resolve() {
	c.Policy = c.path(c.Policy)
	for _, uri := range []*string{&c.Audit, &c.Leases, &c.KRL, &c.CRL} {
		*uri = c.fileURI(*uri)
	}
	if s := c.Issuers.SSH; s != nil {
		s.CAKey = c.fileURI(s.CAKey)
		s.CAPublicKey = c.fileURI(s.CAPublicKey)
	}
	if x := c.Issuers.X509; x != nil {
		x.CACert = c.fileURI(x.CACert)
		x.CAKey = c.fileURI(x.CAKey)
	}
	if a := c.Issuers.AWS; a != nil {
		a.EndpointCA = c.fileURI(a.EndpointCA)
	}
}

func (c *Config) path(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(c.Dir, p)
}

// fileURI resolves the path of a file:// URI; other values are returned as is.
func (c *Config) fileURI(uri string) string {
	if p, ok := FilePath(uri); ok {
		return fileScheme + c.path(p)
	}
	return uri
}

const fileScheme = "file://"

// FilePath returns the path in a "file://PATH" URI and true, or false when
// uri is not a file:// URI.
func FilePath(uri string) (string, bool) {
	return strings.CutPrefix(uri, fileScheme)
}

// PolicyDir returns the policy folder, resolved against the config's folder.
func (c *Config) PolicyDir() string { return c.Policy }

// OIDCProvider returns the trusted provider whose issuer is exactly issuer.
func (c *Config) OIDCProvider(issuer string) (OIDCProvider, bool) {
	for _, p := range c.OIDC {
		if p.Issuer == issuer {
			return p, true
		}
	}
	return OIDCProvider{}, false
}
