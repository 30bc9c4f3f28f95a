package aws

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsv1 "github.com/aws/aws-sdk-go/aws"
	"github.com/aws/aws-sdk-go/aws/awserr"
	"github.com/aws/aws-sdk-go/aws/client"
	"github.com/aws/aws-sdk-go/aws/credentials"
	"github.com/aws/aws-sdk-go/aws/defaults"
	"github.com/aws/aws-sdk-go/aws/endpoints"
	"github.com/aws/aws-sdk-go/aws/request"
	"github.com/aws/rolesanywhere-credential-helper/rolesanywhere"
)

// Certificate mode with a trust anchor: IAM Roles Anywhere CreateSession
// through the credential helper's rolesanywhere client (aws-sdk-go v1),
// signed with the job's certificate key by signX509Handler (sigv4x509.go).

// createSession calls Roles Anywhere CreateSession (the credential
// helper's rolesanywhere client), signed with the job's certificate key. The call
// goes through i.http (endpoint_ca, timeout) and is bound by ctx.
func (i *Issuer) createSession(ctx context.Context, p plan, dur time.Duration, c jobCertificate) (session, error) {
	alg, err := x509SigningAlgorithm(c.key)
	if err != nil {
		return session{}, err
	}
	// No v1 session: it would apply AWS_CA_BUNDLE to the transport,
	// replacing endpoint_ca. The client is built from i.http alone.
	cfg := defaults.Config().
		WithRegion(i.cfg.Region).
		WithHTTPClient(i.http).
		WithCredentials(credentials.AnonymousCredentials).
		WithMaxRetries(2)
	ep := i.cfg.RolesAnywhereEndpoint
	if ep == "" {
		re, err := endpoints.DefaultResolver().EndpointFor(rolesanywhere.EndpointsID, i.cfg.Region)
		if err != nil {
			return session{}, fmt.Errorf("roles anywhere endpoint for %s: %w (set rolesanywhere_endpoint)", i.cfg.Region, err)
		}
		ep = re.URL
	}
	ra := rolesanywhere.New(v1Config{client.Config{
		Config: cfg, Handlers: defaults.Handlers(), Endpoint: ep,
		SigningRegion: i.cfg.Region, SigningName: rolesanywhere.EndpointsID, ResolvedRegion: i.cfg.Region,
	}})
	ra.Handlers.Sign.Clear()
	ra.Handlers.Sign.PushBackNamed(request.NamedHandler{
		Name: "v4x509.SignRequestHandler",
		Fn:   signX509Handler(c.key, alg, c.cert, time.Now),
	})
	certB64 := base64.StdEncoding.EncodeToString(c.cert.Raw)
	out, err := ra.CreateSessionWithContext(ctx, &rolesanywhere.CreateSessionInput{
		Cert:            &certB64,
		ProfileArn:      awsv1.String(p.role.ProfileARN),
		TrustAnchorArn:  awsv1.String(p.role.TrustAnchorARN),
		RoleArn:         awsv1.String(p.role.RoleARN),
		DurationSeconds: awsv1.Int64(int64(dur / time.Second)),
	})
	if err != nil {
		return session{}, fmt.Errorf("rolesanywhere:CreateSession %s: %w", p.role.RoleARN, adviseRolesAnywhere(err, i.cfg.Region))
	}
	if len(out.CredentialSet) == 0 || out.CredentialSet[0] == nil || out.CredentialSet[0].Credentials == nil {
		return session{}, errors.New("rolesanywhere:CreateSession returned no credentials")
	}
	set := out.CredentialSet[0]
	cr := set.Credentials
	exp, err := time.Parse(time.RFC3339, awsv1.StringValue(cr.Expiration))
	if err != nil || awsv1.StringValue(cr.AccessKeyId) == "" || awsv1.StringValue(cr.SecretAccessKey) == "" {
		return session{}, fmt.Errorf("rolesanywhere:CreateSession returned incomplete credentials (expiration %q)", awsv1.StringValue(cr.Expiration))
	}
	s := session{
		creds: aws.Credentials{
			AccessKeyID: *cr.AccessKeyId, SecretAccessKey: *cr.SecretAccessKey,
			SessionToken: awsv1.StringValue(cr.SessionToken), CanExpire: true, Expires: exp,
		},
		sessionName: RolesAnywhereSessionName(c.cert.SerialNumber),
	}
	if u := set.AssumedRoleUser; u != nil {
		s.assumedRoleID = awsv1.StringValue(u.AssumedRoleId)
		// arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION names the session
		// authoritatively.
		if arn := awsv1.StringValue(u.Arn); strings.Contains(arn, ":assumed-role/") {
			if name := arn[strings.LastIndex(arn, "/")+1:]; name != "" {
				s.sessionName = name
			}
		}
	}
	return s, nil
}

// v1Config hands the v1 rolesanywhere client a fixed configuration.
type v1Config struct{ c client.Config }

func (p v1Config) ClientConfig(_ string, cfgs ...*awsv1.Config) client.Config {
	c := p.c
	c.Config = c.Config.Copy(cfgs...)
	return c
}

// RolesAnywhereSessionName is the role session name IAM Roles Anywhere
// gives a session: the certificate's serial number in hex.
func RolesAnywhereSessionName(serial *big.Int) string { return serial.Text(16) }

// x509SigningAlgorithm is the SigV4-X509 algorithm for key.
func x509SigningAlgorithm(key crypto.Signer) (string, error) {
	switch key.Public().(type) {
	case *ecdsa.PublicKey:
		return "AWS4-X509-ECDSA-SHA256", nil
	case *rsa.PublicKey:
		return "AWS4-X509-RSA-SHA256", nil
	}
	return "", fmt.Errorf("roles anywhere signs with ECDSA or RSA keys, not %T", key.Public())
}

// adviseRolesAnywhere adds what to do to common CreateSession errors.
func adviseRolesAnywhere(err error, region string) error {
	var ae awserr.Error
	if !errors.As(err, &ae) {
		return err
	}
	switch ae.Code() {
	case "AccessDeniedException":
		return fmt.Errorf("%w (the trust anchor must hold the x509 issuer's CA certificate and be enabled, the profile must be enabled and list the role, and the role's trust policy must allow rolesanywhere.amazonaws.com sts:AssumeRole, sts:TagSession and sts:SetSourceIdentity)", err)
	case "ValidationException":
		return fmt.Errorf("%w (check the ARNs and that the lifetime is within the profile's duration_seconds)", err)
	case "ResourceNotFoundException":
		return fmt.Errorf("%w (the trust anchor or profile does not exist in region %s)", err, region)
	case request.CanceledErrorCode:
		return fmt.Errorf("%w (the call ran out of time)", err)
	}
	return err
}
