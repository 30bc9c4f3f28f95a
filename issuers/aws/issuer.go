package aws

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/issuers"
)

// Output names of the aws issuer, besides issuers.OutputLeaseID and
// issuers.OutputExpiresAt.
const (
	OutputAccessKeyID     = "aws-access-key-id"
	OutputSecretAccessKey = "aws-secret-access-key"
	OutputSessionToken    = "aws-session-token"
	OutputExpiration      = "aws-expiration"
	OutputRegion          = "aws-region"
)

// STS limits on a session's lifetime.
const (
	MinTTL = 900 * time.Second
	MaxTTL = 43200 * time.Second
)

// backendTimeout bounds every STS and IAM call.
const backendTimeout = 30 * time.Second

// Options are the optional parts of New.
type Options struct {
	// AWS is the base configuration (credentials, HTTP client). Zero means
	// the SDK's default chain: environment, shared profile, web identity.
	AWS *aws.Config
	// Certificates is the x509 issuer that certificate-mode roles use.
	Certificates issuers.Issuer
	// Logger receives warnings (a role without a permissions boundary).
	// Nil means slog.Default().
	Logger *slog.Logger
}

// Issuer issues STS sessions for the roles of one config. It is safe for
// concurrent use.
type Issuer struct {
	cfg   *config.AWSIssuer
	sts   *sts.Client
	iam   *iam.Client
	http  *http.Client // trusts endpoint_ca, for calls outside the SDK
	certs issuers.Issuer
	log   *slog.Logger
	roles roleIDs
	// settle is how long revocation waits before reading its IAM write
	// back (defaultSettle).
	settle time.Duration
}

// New builds the issuer. It reads base credentials lazily (the SDK asks
// its chain on the first call), so building never reaches AWS.
func New(ctx context.Context, c *config.AWSIssuer, opts Options) (*Issuer, error) {
	sdkHTTP, httpClient, err := endpointClients(c.EndpointCA)
	if err != nil {
		return nil, err
	}
	var base aws.Config
	if opts.AWS != nil {
		base = opts.AWS.Copy()
	} else {
		base, err = awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(c.Region), awsconfig.WithHTTPClient(sdkHTTP))
		if err != nil {
			return nil, fmt.Errorf("loading AWS credentials from the default chain (environment, profile, web identity): %w", err)
		}
	}
	base.Region = c.Region
	if base.HTTPClient == nil {
		base.HTTPClient = sdkHTTP
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	i := &Issuer{cfg: c, http: httpClient, certs: opts.Certificates, log: log, settle: defaultSettle}
	i.sts = sts.NewFromConfig(base, func(o *sts.Options) {
		if c.STSEndpoint != "" {
			o.BaseEndpoint = aws.String(c.STSEndpoint)
		}
	})
	i.iam = iam.NewFromConfig(base, func(o *iam.Options) {
		if c.IAMEndpoint != "" {
			o.BaseEndpoint = aws.String(c.IAMEndpoint)
		}
	})
	return i, nil
}

// endpointClients returns the HTTP clients for AWS's endpoints, which also
// trust the CA certificates in the file of caURI (file://PATH) when set,
// and bound every call by backendTimeout: one for the SDK (which must be
// buildable, so the SDK can add AWS_CA_BUNDLE to it), and a plain one for
// calls made outside the SDK (certificate exchange).
func endpointClients(caURI string) (*awshttp.BuildableClient, *http.Client, error) {
	sdk := awshttp.NewBuildableClient().WithTimeout(backendTimeout)
	plain := &http.Client{Timeout: backendTimeout, Transport: http.DefaultTransport.(*http.Transport).Clone()}
	if caURI == "" {
		return sdk, plain, nil
	}
	p, _ := config.FilePath(caURI)
	pem, err := os.ReadFile(p)
	if err != nil {
		return nil, nil, fmt.Errorf("reading endpoint_ca: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, nil, fmt.Errorf("endpoint_ca %s holds no PEM certificate", p)
	}
	tlsConfig := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	plain.Transport.(*http.Transport).TLSClientConfig = tlsConfig.Clone()
	return sdk.WithTransportOptions(func(tr *http.Transport) { tr.TLSClientConfig = tlsConfig.Clone() }), plain, nil
}

// plan is a checked request: everything STS will be sent, but the call.
type plan struct {
	role           config.AWSRole
	ttl            time.Duration
	sessionName    string
	sourceIdentity string
	policy         string
	tags           []tagPair
}

type tagPair struct{ key, value string }

// Check refuses, without calling AWS, a request that could never be
// issued: an unknown role, a lifetime under STS's 900 s, a session policy
// that does not render to a valid document, a hostile tag, session name or
// source identity.
func (i *Issuer) Check(_ context.Context, req issuers.Request) error {
	_, err := i.plan(req)
	return err
}

func (i *Issuer) plan(req issuers.Request) (plan, error) {
	l := req.Lease
	role, ok := i.cfg.Roles[l.Role]
	if !ok {
		return plan{}, fmt.Errorf("aws role %q is not configured: add it under issuers.aws.roles", l.Role)
	}
	var grantSeconds *int64
	if req.Grant != nil {
		grantSeconds = req.Grant.MaxTTLSeconds
	}
	ttl, err := issuers.ClampTTL(req.TTL, grantSeconds, role.MaxTTL.Duration, i.cfg.MaxTTL.Duration)
	if err != nil {
		return plan{}, err
	}
	if ttl < MinTTL {
		return plan{}, fmt.Errorf("lifetime %v (%d s) is under STS's minimum of %d s: raise the request or the cap (grant, role or issuer max_ttl); it is never extended silently", ttl, int64(ttl/time.Second), int64(MinTTL/time.Second))
	}
	if ttl > MaxTTL {
		return plan{}, fmt.Errorf("lifetime %v is over IAM's maximum of %d s", ttl, int64(MaxTTL/time.Second))
	}
	p := plan{role: role, ttl: ttl.Truncate(time.Second), sessionName: l.Credential.SessionName}
	if p.sessionName == "" {
		p.sessionName = SessionName(l.ID, l.Job, l.PR)
	}
	if err := checkSessionName(p.sessionName); err != nil {
		return plan{}, err
	}
	if p.sourceIdentity, err = SourceIdentity(l.Subject); err != nil {
		return plan{}, err
	}
	tags, err := sessionTags(l, req.Claims)
	if err != nil {
		return plan{}, err
	}
	for _, t := range tags {
		p.tags = append(p.tags, tagPair{*t.Key, *t.Value})
	}
	var grant []byte
	if req.Grant != nil {
		grant = req.Grant.SessionPolicy
	}
	if p.policy, err = RenderSessionPolicy(role.SessionPolicy, policyVars(l, req.Claims), grant); err != nil {
		return plan{}, err
	}
	if role.Mode == config.AWSModeWebIdentity && req.Token == "" {
		return plan{}, errors.New("web-identity mode needs the job's OIDC token; pull-request requests have none: use assume-role")
	}
	if role.Mode == config.AWSModeCertificate && i.certs == nil {
		return plan{}, errors.New("certificate mode needs the x509 issuer: configure issuers.x509")
	}
	return p, nil
}

// policyVars are the job facts a session policy template may use.
func policyVars(l lease.Lease, claims map[string]any) map[string]string {
	vars := map[string]string{"subject": l.Subject, "lease_id": l.ID, "run_id": l.Job.RunID, "repository": l.Job.Repository}
	for _, k := range []string{"ref", "environment", "workflow"} {
		if s, ok := claims[k].(string); ok {
			vars[k] = s
		}
	}
	if l.PR > 0 {
		vars["pull_request"] = strconv.Itoa(l.PR)
	}
	for k, v := range vars {
		if v == "" {
			delete(vars, k) // an empty fact is unknown, never "any"
		}
	}
	return vars
}

// Issue assumes the role for req.Lease and returns its credentials.
func (i *Issuer) Issue(ctx context.Context, req issuers.Request) (issuers.Credential, error) {
	p, err := i.plan(req)
	if err != nil {
		return issuers.Credential{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, backendTimeout)
	defer cancel()
	var s session
	switch p.role.Mode {
	case config.AWSModeWebIdentity:
		s, err = i.assumeWithWebIdentity(ctx, p, req.Token)
	case config.AWSModeCertificate:
		s, err = i.assumeWithCertificate(ctx, p, req)
	default:
		s, err = i.assume(ctx, p)
	}
	if err != nil {
		return issuers.Credential{}, err
	}
	id := req.Lease.Credential
	id.SessionName, id.AssumedRoleID = s.sessionName, s.assumedRoleID
	if s.keyID != "" {
		id.KeyID = s.keyID
	}
	exp := s.creds.Expires.UTC()
	return issuers.Credential{
		Identity:  id,
		ExpiresAt: exp,
		Outputs: []issuers.Output{
			{Name: issuers.OutputLeaseID, Value: req.Lease.ID},
			{Name: issuers.OutputExpiresAt, Value: exp.Format(time.RFC3339)},
			{Name: OutputAccessKeyID, Value: s.creds.AccessKeyID},
			{Name: OutputSecretAccessKey, Value: s.creds.SecretAccessKey, Secret: true},
			{Name: OutputSessionToken, Value: s.creds.SessionToken, Secret: true},
			{Name: OutputExpiration, Value: exp.Format(time.RFC3339)},
			{Name: OutputRegion, Value: i.cfg.Region},
		},
	}, nil
}

// session is what an exchange returned.
type session struct {
	creds         aws.Credentials
	sessionName   string
	assumedRoleID string // role id:session name, when STS returned it
	keyID         string // certificate mode: the X.509 certificate's key id
}

// RoleARN returns the IAM role ARN of a configured role ("" when none).
func (i *Issuer) RoleARN(role string) string { return i.cfg.Roles[role].RoleARN }
