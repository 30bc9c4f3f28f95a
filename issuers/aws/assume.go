package aws

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
)

// assume calls sts:AssumeRole with the issuer's own credentials.
func (i *Issuer) assume(ctx context.Context, p plan) (session, error) {
	in := &sts.AssumeRoleInput{
		RoleArn:         aws.String(p.role.RoleARN),
		RoleSessionName: aws.String(p.sessionName),
		DurationSeconds: aws.Int32(int32(p.ttl.Seconds())),
		SourceIdentity:  aws.String(p.sourceIdentity),
		Tags:            stsTags(p.tags),
		PolicyArns:      policyARNs(p.role.ManagedSessionPolicies),
	}
	if p.policy != "" {
		in.Policy = aws.String(p.policy)
	}
	out, err := i.sts.AssumeRole(ctx, in)
	if err != nil {
		return session{}, fmt.Errorf("sts:AssumeRole %s: %w", p.role.RoleARN, advise(err))
	}
	return fromSTS(out.Credentials, out.AssumedRoleUser, p.sessionName)
}

// assumeWithWebIdentity calls sts:AssumeRoleWithWebIdentity with the job's
// own token. STS takes no session tags or source identity here (they come
// from the token's claims, as the role's trust policy maps them).
func (i *Issuer) assumeWithWebIdentity(ctx context.Context, p plan, token string) (session, error) {
	in := &sts.AssumeRoleWithWebIdentityInput{
		RoleArn:          aws.String(p.role.RoleARN),
		RoleSessionName:  aws.String(p.sessionName),
		DurationSeconds:  aws.Int32(int32(p.ttl.Seconds())),
		WebIdentityToken: aws.String(token),
		PolicyArns:       policyARNs(p.role.ManagedSessionPolicies),
	}
	if p.policy != "" {
		in.Policy = aws.String(p.policy)
	}
	out, err := i.sts.AssumeRoleWithWebIdentity(ctx, in, func(o *sts.Options) { o.Credentials = aws.AnonymousCredentials{} })
	if err != nil {
		return session{}, fmt.Errorf("sts:AssumeRoleWithWebIdentity %s: %w", p.role.RoleARN, advise(err))
	}
	return fromSTS(out.Credentials, out.AssumedRoleUser, p.sessionName)
}

func fromSTS(c *types.Credentials, u *types.AssumedRoleUser, name string) (session, error) {
	if c == nil || c.AccessKeyId == nil || c.SecretAccessKey == nil || c.Expiration == nil {
		return session{}, errors.New("STS returned no credentials")
	}
	s := session{
		creds: aws.Credentials{
			AccessKeyID: *c.AccessKeyId, SecretAccessKey: *c.SecretAccessKey,
			SessionToken: aws.ToString(c.SessionToken), CanExpire: true, Expires: *c.Expiration,
		},
		sessionName: name,
	}
	if u != nil {
		s.assumedRoleID = aws.ToString(u.AssumedRoleId)
	}
	return s, nil
}

func stsTags(tags []tagPair) []types.Tag {
	out := make([]types.Tag, len(tags))
	for i, t := range tags {
		out[i] = types.Tag{Key: aws.String(t.key), Value: aws.String(t.value)}
	}
	return out
}

func policyARNs(arns []string) []types.PolicyDescriptorType {
	var out []types.PolicyDescriptorType
	for _, a := range arns {
		out = append(out, types.PolicyDescriptorType{Arn: aws.String(a)})
	}
	return out
}

// advise adds what to do to the STS errors people meet most.
func advise(err error) error {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return err
	}
	msg := ae.ErrorMessage()
	switch {
	case ae.ErrorCode() == "AccessDenied" && strings.Contains(msg, "sts:TagSession"):
		return fmt.Errorf("%w (the role's trust policy must allow sts:TagSession for the issuer: jit-policy tags every session)", err)
	case ae.ErrorCode() == "AccessDenied" && strings.Contains(msg, "sts:SetSourceIdentity"):
		return fmt.Errorf("%w (the role's trust policy must allow sts:SetSourceIdentity for the issuer)", err)
	case ae.ErrorCode() == "AccessDenied":
		return fmt.Errorf("%w (check that the role's trust policy names the issuer's principal and allows sts:AssumeRole, sts:TagSession and sts:SetSourceIdentity; for web-identity, that its conditions match the token's sub and aud)", err)
	case ae.ErrorCode() == "ValidationError" && strings.Contains(msg, "DurationSeconds"):
		return fmt.Errorf("%w (the lifetime exceeds the role's MaxSessionDuration: raise it in IAM or lower max_ttl)", err)
	case ae.ErrorCode() == "MalformedPolicyDocument", ae.ErrorCode() == "PackedPolicyTooLarge":
		return fmt.Errorf("%w (fix the role's session_policy or managed_session_policies)", err)
	case ae.ErrorCode() == "InvalidIdentityToken", ae.ErrorCode() == "IDPRejectedClaim":
		return fmt.Errorf("%w (register the token issuer as an IAM OIDC provider with the token's audience)", err)
	case ae.ErrorCode() == "RegionDisabledException":
		return fmt.Errorf("%w (activate STS in this region or use another)", err)
	}
	return err
}
