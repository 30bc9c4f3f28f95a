package aws

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"
)

// The IAM calls of revocation: reading, writing and deleting a role's
// RevokedPolicyName inline policy, and advice on the errors they meet.

// readPolicy returns the role's revocation policy; found is false (and
// the policy empty) when the role has none.
func (i *Issuer) readPolicy(ctx context.Context, arn, name string) (p *revokedPolicy, found bool, err error) {
	cctx, cancel := context.WithTimeout(ctx, backendTimeout)
	defer cancel()
	out, err := i.iam.GetRolePolicy(cctx, &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(RevokedPolicyName)})
	if errorCode(err) == "NoSuchEntity" {
		p, _ = parsePolicy("")
		return p, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("iam:GetRolePolicy %s on %s: %w", RevokedPolicyName, arn, adviseIAM(err, arn))
	}
	doc, err := decodeDocument(aws.ToString(out.PolicyDocument))
	if err == nil {
		p, err = parsePolicy(doc)
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading inline policy %s of %s: %w (fix it, or delete it if it holds only expired sessions)", RevokedPolicyName, arn, err)
	}
	return p, true, nil
}

func (i *Issuer) putPolicy(ctx context.Context, arn, name, doc string) error {
	cctx, cancel := context.WithTimeout(ctx, backendTimeout)
	defer cancel()
	_, err := i.iam.PutRolePolicy(cctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(RevokedPolicyName), PolicyDocument: aws.String(doc)})
	if err != nil {
		return fmt.Errorf("iam:PutRolePolicy %s on %s: %w", RevokedPolicyName, arn, adviseIAM(err, arn))
	}
	return nil
}

func (i *Issuer) deletePolicy(ctx context.Context, arn, name string) error {
	cctx, cancel := context.WithTimeout(ctx, backendTimeout)
	defer cancel()
	_, err := i.iam.DeleteRolePolicy(cctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(RevokedPolicyName)})
	if err != nil && errorCode(err) != "NoSuchEntity" {
		return fmt.Errorf("iam:DeleteRolePolicy %s on %s: %w", RevokedPolicyName, arn, adviseIAM(err, arn))
	}
	return nil
}

// errorCode is the AWS error code of err, or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// adviseIAM adds what to do to the IAM errors revocation meets.
func adviseIAM(err error, arn string) error {
	switch errorCode(err) {
	case "AccessDenied", "AccessDeniedException":
		return fmt.Errorf("%w (the issuer needs iam:GetRole, iam:GetRolePolicy, iam:PutRolePolicy and iam:DeleteRolePolicy on %s)", err, arn)
	case "NoSuchEntity":
		return fmt.Errorf("%w (no such role: check role_arn)", err)
	case "LimitExceeded":
		return fmt.Errorf("%w (the role's inline policies exceed IAM's %d-character limit: run `jit-policy sweep` to prune expired sessions, shrink the role's other inline policies, or lower max_ttl)", err, InlinePolicyLimit)
	case "MalformedPolicyDocument":
		return fmt.Errorf("%w (a statement of %s that jit-policy did not write is invalid: fix or remove it)", err, RevokedPolicyName)
	case "UnmodifiableEntity":
		return fmt.Errorf("%w (a service-linked role cannot be changed: use a role of your own)", err)
	}
	return err
}
