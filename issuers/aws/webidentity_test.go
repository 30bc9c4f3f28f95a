package aws

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/jit-policy/jit-policy/internal/config"
)

// TestWebIdentitySendsTheJobToken: web-identity mode sends the job's own
// token to sts:AssumeRoleWithWebIdentity, unsigned (the issuer's own
// credentials play no part), with the session name, duration and session
// policy. MinIO's web-identity flow needs its own OpenID set-up, so an
// httptest STS endpoint stands in and answers with STS's response shape.
func TestWebIdentitySendsTheJobToken(t *testing.T) {
	var got map[string]string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("parsing the STS request: %v", err)
		}
		got = map[string]string{"Authorization": r.Header.Get("Authorization")}
		for k := range r.PostForm {
			got[k] = r.PostForm.Get(k)
		}
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>repo:acme/app:ref:refs/heads/main</SubjectFromWebIdentityToken>
    <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/artifacts/%[1]s</Arn><AssumedRoleId>AROAEXAMPLE:%[1]s</AssumedRoleId></AssumedRoleUser>
    <Credentials><AccessKeyId>ASIAEXAMPLE</AccessKeyId><SecretAccessKey>secret</SecretAccessKey><SessionToken>token</SessionToken><Expiration>%[2]s</Expiration></Credentials>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`, r.PostForm.Get("RoleSessionName"), time.Now().Add(20*time.Minute).UTC().Format(time.RFC3339))
	}))
	defer srv.Close()
	cfg := &config.AWSIssuer{Region: "us-east-1", STSEndpoint: srv.URL, MaxTTL: config.Duration{Duration: time.Hour},
		Roles: map[string]config.AWSRole{"artifacts": {Mode: config.AWSModeWebIdentity, RoleARN: "arn:aws:iam::123456789012:role/artifacts", SessionPolicy: minioPolicy}}}
	iss, err := New(context.Background(), cfg, Options{AWS: &aws.Config{Region: "us-east-1"}})
	if err != nil {
		t.Fatal(err)
	}
	req := minioRequest(20*time.Minute, "builds")
	req.Token = "eyJhbGciOiJSUzI1NiJ9.job-token.sig"
	cred, err := iss.Issue(context.Background(), req)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	want := map[string]string{
		"Action": "AssumeRoleWithWebIdentity", "WebIdentityToken": req.Token, "Authorization": "",
		"RoleArn": cfg.Roles["artifacts"].RoleARN, "RoleSessionName": "jit-4242-1-001122334455", "DurationSeconds": "1200",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("STS request %s = %q, want %q", k, got[k], v)
		}
	}
	if !strings.Contains(got["Policy"], "arn:aws:s3:::artifacts/acme/app/builds/*") {
		t.Errorf("session policy not sent: %q", got["Policy"])
	}
	if cred.Identity.AssumedRoleID != "AROAEXAMPLE:jit-4242-1-001122334455" {
		t.Errorf("AssumedRoleId not recorded: %+v", cred.Identity)
	}

	req.Token = ""
	if err := iss.Check(context.Background(), req); err == nil || !strings.Contains(err.Error(), "needs the job's OIDC token") {
		t.Fatalf("web-identity without a token: %v", err)
	}
}
