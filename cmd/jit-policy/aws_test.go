package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/jit-policy/jit-policy/internal/miniotest"
	"github.com/jit-policy/jit-policy/internal/oidctest"
)

// awsPolicy allows the aws roles and shapes their grants: "artifacts" gets
// the "builds" prefix; "short" a 10-minute cap (under STS's 900 s); "wild"
// a wildcard prefix, which the session policy template refuses.
const awsPolicy = `package jit

allow if input.request.issuer == "aws"

grant := {"session_policy": {"prefix": "builds"}} if input.request.role == "artifacts"

grant := {"max_ttl_seconds": 600, "session_policy": {"prefix": "builds"}} if input.request.role == "short"

grant := {"session_policy": {"prefix": "*"}} if input.request.role == "wild"
`

// TestIssueAWSAgainstMinIO: `jit-policy issue --issuer aws` against a real
// MinIO (S3 + STS AssumeRole) returns credentials that can do exactly what
// the rendered session policy allows, for exactly the requested time; a
// request over the cap is clamped; a cap under 900 s or a hostile grant
// value is a clear error that records no lease.
func TestIssueAWSAgainstMinIO(t *testing.T) {
	srv := miniotest.Start(t, miniotest.Options{})
	srv.MakeBucket(t, "artifacts")
	srv.MakeBucket(t, "other")
	root := srv.RootCredentials()
	// The issuer's base credentials come from the SDK's default chain.
	t.Setenv("AWS_ACCESS_KEY_ID", root.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", root.SecretAccessKey)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))

	e := newPipelineEnv(t, "")
	cfg, err := os.ReadFile(e.config)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::artifacts/{{repository}}/{{grant.prefix}}/*"}]}`
	role := func(name string) string {
		return fmt.Sprintf("      %s: {role_arn: 'arn:aws:iam::123456789012:role/%s', max_ttl: 1h, session_policy: '%s'}\n", name, name, tmpl)
	}
	mustWrite(t, e.config, string(cfg)+fmt.Sprintf("  aws:\n    region: us-east-1\n    sts_endpoint: %s\n    max_ttl: 2h\n    roles:\n", srv.Endpoint)+
		role("artifacts")+role("short")+role("wild"))
	mustWrite(t, filepath.Join(e.dir, "policies", "policy.rego"), awsPolicy) // replaces the SSH policy

	issue := func(role string, ttl time.Duration) (int, string, string) {
		return e.issue(t, e.oidc.Mint(t, oidctest.MintOptions{}), func(p *issueParams) {
			p.issuer, p.role, p.ttl, p.format = "aws", role, ttl, "json"
		})
	}
	type issued struct {
		LeaseID   string            `json:"lease_id"`
		ExpiresAt time.Time         `json:"expires_at"`
		Outputs   map[string]string `json:"outputs"`
	}
	parse := func(out string) issued {
		var is issued
		if err := json.Unmarshal([]byte(out), &is); err != nil {
			t.Fatalf("issue output: %v\n%s", err, out)
		}
		return is
	}

	start := time.Now()
	code, out, errOut := issue("artifacts", 20*time.Minute)
	if code != 0 {
		t.Fatalf("issue: exit %d\n%s", code, errOut)
	}
	is := parse(out)
	exp, err := time.Parse(time.RFC3339, is.Outputs["aws-expiration"])
	if err != nil {
		t.Fatalf("aws-expiration %q: %v", is.Outputs["aws-expiration"], err)
	}
	if d := exp.Sub(start); d < 20*time.Minute-5*time.Second || d > 20*time.Minute+5*time.Second {
		t.Fatalf("credentials expire after %v, want the requested 20m", d)
	}
	ctx := context.Background()
	s3c := srv.S3(aws.Credentials{AccessKeyID: is.Outputs["aws-access-key-id"], SecretAccessKey: is.Outputs["aws-secret-access-key"], SessionToken: is.Outputs["aws-session-token"]})
	// The token's repository is the test issuer's default; the template
	// puts it in the prefix.
	key := e.oidc.DefaultClaims()["repository"].(string) + "/builds/app.tar"
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("artifacts"), Key: aws.String(key), Body: strings.NewReader("x")}); err != nil {
		t.Fatalf("put under the allowed prefix: %v", err)
	}
	if _, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("artifacts"), Key: aws.String(key)}); err != nil {
		t.Fatalf("get under the allowed prefix: %v", err)
	}
	accessDenied := func(what string, err error) {
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
			t.Errorf("%s: got %v, want AccessDenied", what, err)
		}
	}
	_, err = s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("other"), Key: aws.String(key), Body: strings.NewReader("x")})
	accessDenied("put to another bucket", err)
	_, err = s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("artifacts"), Key: aws.String("elsewhere/x")})
	accessDenied("get outside the prefix", err)
	_, err = s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("artifacts"), Key: aws.String(key)})
	accessDenied("delete", err)

	// Over the role's 1h cap: clamped to it.
	start = time.Now()
	code, out, errOut = issue("artifacts", 3*time.Hour)
	if code != 0 {
		t.Fatalf("issue over the cap: exit %d\n%s", code, errOut)
	}
	if d := parse(out).ExpiresAt.Sub(start); d < time.Hour-5*time.Second || d > time.Hour+5*time.Second {
		t.Fatalf("3h request over the 1h cap expires after %v, want 1h", d)
	}
	before := len(e.allLeases(t))

	for _, tt := range []struct{ role, want string }{
		{"short", "600 s) is under STS's minimum of 900 s"},
		{"wild", "no wildcards or policy variables"},
	} {
		code, out, errOut := issue(tt.role, 0)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("issue --role %s: exit %d, stderr %q; want exit 2 naming %q", tt.role, code, errOut, tt.want)
		}
		if out != "" {
			t.Errorf("issue --role %s printed %q", tt.role, out)
		}
	}
	if n := len(e.allLeases(t)); n != before {
		t.Fatalf("refused requests recorded %d leases", n-before)
	}
}
