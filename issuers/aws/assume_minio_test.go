package aws

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/jit-policy/jit-policy/engine"
	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/miniotest"
	"github.com/jit-policy/jit-policy/issuers"
)

// minioPolicy lets a session get and put under its repository's prefix of
// the artifacts bucket, and a grant-chosen sub-prefix: nothing else.
const minioPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
  "Action":["s3:GetObject","s3:PutObject"],
  "Resource":["arn:aws:s3:::artifacts/{{repository}}/{{grant.prefix}}/*"]}]}`

// startMinIO starts a real MinIO with two buckets and an issuer whose base
// credentials are MinIO's root user (assume-role mode).
func startMinIO(t *testing.T) (*miniotest.Server, *Issuer) {
	t.Helper()
	srv := miniotest.Start(t, miniotest.Options{})
	srv.MakeBucket(t, "artifacts")
	srv.MakeBucket(t, "other")
	root := srv.RootCredentials()
	cfg := &config.AWSIssuer{
		Region: srv.Region, STSEndpoint: srv.Endpoint,
		MaxTTL: config.Duration{Duration: 2 * time.Hour},
		Roles: map[string]config.AWSRole{
			"artifacts": {RoleARN: "arn:aws:iam::123456789012:role/artifacts", SessionPolicy: minioPolicy, MaxTTL: config.Duration{Duration: time.Hour}},
		},
	}
	iss, err := New(context.Background(), cfg, Options{AWS: &aws.Config{
		Region: srv.Region, Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return root, nil }),
	}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return srv, iss
}

func minioRequest(ttl time.Duration, prefix string) issuers.Request {
	id := "00112233445566778899aabbccddeeff"
	job := lease.Job{Provider: "github", Repository: "acme/app", RunID: "4242", Attempt: "1"}
	return issuers.Request{
		Lease: lease.Lease{ID: id, Issuer: "aws", Role: "artifacts", Subject: "repo:acme/app:ref:refs/heads/main", Job: job,
			Credential: lease.Credential{SessionName: SessionName(id, job, 0)}},
		Now: time.Now(), TTL: ttl,
		Grant:  &engine.Grant{SessionPolicy: []byte(`{"prefix":"` + prefix + `"}`)},
		Claims: map[string]any{"repository": "acme/app", "ref": "refs/heads/main", "workflow": "deploy", "run_id": "4242"},
	}
}

func TestAssumeRoleAgainstMinIO(t *testing.T) {
	srv, iss := startMinIO(t)
	ctx := context.Background()
	req := minioRequest(20*time.Minute, "builds")
	cred, err := iss.Issue(ctx, req)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	// The expiration is the requested duration, to the second.
	if d := cred.ExpiresAt.Sub(req.Now); d < 20*time.Minute-5*time.Second || d > 20*time.Minute+5*time.Second {
		t.Fatalf("credentials expire after %v, want 20m", d)
	}
	if cred.Identity.SessionName != "jit-4242-1-001122334455" {
		t.Fatalf("session name = %q", cred.Identity.SessionName)
	}
	out := map[string]issuers.Output{}
	for _, o := range cred.Outputs {
		out[o.Name] = o
	}
	for _, name := range []string{OutputSecretAccessKey, OutputSessionToken} {
		if !out[name].Secret || out[name].Value == "" {
			t.Fatalf("output %s must be a non-empty secret: %+v", name, out[name])
		}
	}
	if out[OutputRegion].Value != srv.Region || out[OutputExpiration].Value != cred.ExpiresAt.Format(time.RFC3339) {
		t.Fatalf("outputs: %+v", out)
	}
	s3c := srv.S3(aws.Credentials{AccessKeyID: out[OutputAccessKeyID].Value, SecretAccessKey: out[OutputSecretAccessKey].Value, SessionToken: out[OutputSessionToken].Value})

	allowed := "acme/app/builds/app.tar"
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("artifacts"), Key: aws.String(allowed), Body: strings.NewReader("x")}); err != nil {
		t.Fatalf("put under the allowed prefix: %v", err)
	}
	if _, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("artifacts"), Key: aws.String(allowed)}); err != nil {
		t.Fatalf("get under the allowed prefix: %v", err)
	}
	denied := []struct {
		name string
		call func() error
	}{
		{"put under another repository", func() error {
			_, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("artifacts"), Key: aws.String("acme/other/builds/x"), Body: strings.NewReader("x")})
			return err
		}},
		{"put under another prefix", func() error {
			_, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("artifacts"), Key: aws.String("acme/app/releases/x"), Body: strings.NewReader("x")})
			return err
		}},
		{"another bucket", func() error {
			_, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("other"), Key: aws.String(allowed), Body: strings.NewReader("x")})
			return err
		}},
		{"delete", func() error {
			_, err := s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("artifacts"), Key: aws.String(allowed)})
			return err
		}},
		{"list", func() error {
			_, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("artifacts")})
			return err
		}},
	}
	for _, d := range denied {
		var ae smithy.APIError
		if err := d.call(); !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
			t.Errorf("%s: got %v, want AccessDenied", d.name, err)
		}
	}
}

func TestAssumeRoleClampsAndRefuses(t *testing.T) {
	_, iss := startMinIO(t)
	ctx := context.Background()

	// Over the role's 1h cap: clamped, not refused.
	req := minioRequest(3*time.Hour, "builds")
	cred, err := iss.Issue(ctx, req)
	if err != nil {
		t.Fatalf("Issue over the cap: %v", err)
	}
	if d := cred.ExpiresAt.Sub(req.Now); d < time.Hour-5*time.Second || d > time.Hour+5*time.Second {
		t.Fatalf("a 3h request over the 1h cap expires after %v, want 1h", d)
	}

	short := int64(600)
	refused := []struct {
		name string
		req  func() issuers.Request
		err  string
	}{
		{"request under 900 s", func() issuers.Request { return minioRequest(10*time.Minute, "builds") }, "under STS's minimum of 900 s"},
		{"grant cap under 900 s", func() issuers.Request {
			r := minioRequest(0, "builds")
			r.Grant.MaxTTLSeconds = &short
			return r
		}, "600 s) is under STS's minimum of 900 s"},
		{"hostile grant value", func() issuers.Request { return minioRequest(time.Hour, "*") }, "no wildcards"},
		{"malformed grant", func() issuers.Request {
			r := minioRequest(time.Hour, "")
			r.Grant.SessionPolicy = []byte(`"x"`)
			return r
		}, "object of template values"},
		{"hostile tag", func() issuers.Request {
			r := minioRequest(time.Hour, "builds")
			r.Claims["workflow"] = `x"}`
			return r
		}, "session tag workflow"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.req()
			if err := iss.Check(ctx, r); err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("Check: %v, want %q", err, tt.err)
			}
			if _, err := iss.Issue(ctx, r); err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("Issue: %v, want %q", err, tt.err)
			}
		})
	}
}
