package action

// The aws issuer through the action, against a real MinIO (S3 and STS
// AssumeRole). MinIO has no IAM, so the post step's revocation writes to
// fakeIAM, a minimal IAM query-protocol endpoint.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/lease/sqlitestore"
	"github.com/jit-policy/jit-policy/internal/miniotest"
	"github.com/jit-policy/jit-policy/internal/pipelinetest"
	"github.com/jit-policy/jit-policy/issuers"
)

// awsTestPolicy allows the aws role artifacts (and ssh's deploy) to
// org/app.
const awsTestPolicy = `package jit

import data.jit.lib

allow if {
	input.kind == "pipeline"
	input.request.issuer == "aws"
	input.request.role == "artifacts"
	lib.repository_is("123456789")
}
`

// awsTestAccount is the account of the artifacts role's ARN.
const awsTestAccount = "123456789012"

// awsSessionPolicy lets a session get and put objects of the artifacts
// bucket, nothing else.
const awsSessionPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":["arn:aws:s3:::artifacts/*"]}]}`

// newAWSTestEnv is newTestEnv's folder with issuers.aws added: role
// artifacts, STS at sts and IAM at iam. The issuer's base credentials come
// from the SDK's default chain: the environment, set to creds here.
func newAWSTestEnv(t *testing.T, sts, iam string, creds aws.Credentials) *testEnv {
	t.Helper()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY": creds.SecretAccessKey, "AWS_SESSION_TOKEN": "",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_PROFILE": "", "AWS_REGION": "", "AWS_DEFAULT_REGION": "",
		"AWS_CONFIG_FILE": filepath.Join(t.TempDir(), "none"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(t.TempDir(), "none"),
	} {
		t.Setenv(k, v)
	}
	pe := pipelinetest.New(t, pipelinetest.Options{Policy: awsTestPolicy})
	cfg := mustRead(t, pe.Config) + fmt.Sprintf(`  aws:
    region: us-east-1
    sts_endpoint: %s
    iam_endpoint: %s
    max_ttl: 1h
    roles:
      artifacts:
        role_arn: arn:aws:iam::%s:role/artifacts
        session_policy: '%s'
`, sts, iam, awsTestAccount, awsSessionPolicy)
	mustWrite(t, pe.Config, cfg)
	return &testEnv{dir: pe.Dir, config: pe.Config, oidc: pe.OIDC, krl: pe.KRL, leases: pe.Leases}
}

// newAWSJob is a job asking for the aws role artifacts.
func (e *testEnv) newAWSJob(t *testing.T, name string, inputs map[string]string) *job {
	t.Helper()
	j := e.newJob(t, name)
	j.env[InputEnv(InputIssuer)] = "aws"
	j.env[InputEnv(InputRole)] = "artifacts"
	j.env[InputEnv(InputGenerateKey)] = ""
	for k, v := range inputs {
		j.env[InputEnv(k)] = v
	}
	return j
}

// fakeIAM answers the IAM calls of a revocation (GetRole, GetRolePolicy,
// PutRolePolicy) for role artifacts, keeping the documents written.
type fakeIAM struct {
	mu       sync.Mutex
	policies map[string]string // by role name, decoded
}

func newFakeIAM(t *testing.T) (*fakeIAM, string) {
	f := &fakeIAM{policies: map[string]string{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func (f *fakeIAM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	action, name := r.PostForm.Get("Action"), r.PostForm.Get("RoleName")
	result := func(body string) {
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<%sResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><%sResult>%s</%sResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></%sResponse>`, action, action, body, action, action)
	}
	noSuch := func() {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>not found</Message></Error><RequestId>1</RequestId></ErrorResponse>`)
	}
	if name != "artifacts" {
		noSuch()
		return
	}
	escape := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
	switch action {
	case "GetRole":
		result(`<Role><Path>/</Path><RoleName>artifacts</RoleName><RoleId>AROAARTIFACTSROLE1234</RoleId><Arn>arn:aws:iam::` + awsTestAccount + `:role/artifacts</Arn><CreateDate>2024-01-02T03:04:05Z</CreateDate><AssumeRolePolicyDocument>` + escape(`{"Version":"2012-10-17","Statement":[]}`) + `</AssumeRolePolicyDocument><PermissionsBoundary><PermissionsBoundaryType>Policy</PermissionsBoundaryType><PermissionsBoundaryArn>arn:aws:iam::` + awsTestAccount + `:policy/b</PermissionsBoundaryArn></PermissionsBoundary></Role>`)
	case "GetRolePolicy":
		doc, ok := f.policies[name]
		if !ok {
			noSuch()
			return
		}
		result(`<RoleName>artifacts</RoleName><PolicyName>` + r.PostForm.Get("PolicyName") + `</PolicyName><PolicyDocument>` + escape(doc) + `</PolicyDocument>`)
	case "PutRolePolicy":
		f.policies[name] = r.PostForm.Get("PolicyDocument")
		result("")
	default:
		http.Error(w, "unexpected action "+action, http.StatusBadRequest)
	}
}

func (f *fakeIAM) policy(role string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.policies[role]
}

// TestRunAWS issues an AWS session with aws-profile and export-env and
// uses it from a profile as a later step's SDK would; the post step
// revokes it and deletes its files.
func TestRunAWS(t *testing.T) {
	srv := miniotest.Start(t, miniotest.Options{})
	srv.MakeBucket(t, "artifacts")
	srv.MakeBucket(t, "other")
	iam, iamURL := newFakeIAM(t)
	e := newAWSTestEnv(t, srv.Endpoint, iamURL, srv.RootCredentials())
	j := e.newAWSJob(t, "aws", map[string]string{InputAWSProfile: "ci.artifacts-1", InputExportEnv: "true"})
	if code := j.run(); code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, j.stdout.String(), j.stderr.String())
	}
	outs := j.parse(j.output)
	id := outs["lease-id"]
	for _, name := range []string{"lease-id", "expires-at", "aws-access-key-id", "aws-secret-access-key", "aws-session-token", "aws-expiration", "aws-region", "aws-credentials-file"} {
		if outs[name] == "" {
			t.Fatalf("output %s is missing; outputs: %v", name, slices.Sorted(maps.Keys(outs)))
		}
	}
	if outs["aws-region"] != "us-east-1" || outs["aws-expiration"] != outs["expires-at"] {
		t.Fatalf("aws-region %q, aws-expiration %q (expires-at %q)", outs["aws-region"], outs["aws-expiration"], outs["expires-at"])
	}
	if l := e.lease(t, id); l.State != lease.Active || l.Issuer != "aws" || l.Role != "artifacts" {
		t.Fatalf("lease %s: %+v", id, l)
	}

	// Masks: the secrets and the account, before any other line, and
	// nowhere else in the step's log.
	secrets := []string{outs["aws-secret-access-key"], outs["aws-session-token"]}
	out, firstOther, masked := leadingMasks(j.stdout.String())
	for _, s := range append(slices.Clone(secrets), awsTestAccount) {
		if !masked[s] {
			t.Fatalf("%q is not masked before the first other line:\n%s", s, j.stdout.String())
		}
	}
	logs := map[string]string{"stdout": strings.Join(out[firstOther:], "\n"), "stderr": j.stderr.String()}
	for name, text := range logs {
		for _, s := range append(slices.Clone(secrets), awsTestAccount) {
			if strings.Contains(text, s) {
				t.Fatalf("%s holds %q outside ::add-mask:::\n%s", name, s, text)
			}
		}
	}
	audit := mustRead(t, filepath.Join(e.dir, "audit.jsonl"))
	for _, s := range secrets {
		if strings.Contains(audit, s) {
			t.Fatalf("the audit log holds a secret")
		}
	}
	if sum := mustRead(t, j.summary); strings.Contains(sum, secrets[0]) || strings.Contains(sum, secrets[1]) || !strings.Contains(sum, "| "+id+" | aws | artifacts |") {
		t.Fatalf("summary:\n%s", sum)
	}

	// The files: 0600 in the lease's 0700 folder.
	dir := filepath.Join(j.runnerTemp, "jit-policy", id)
	credPath, confPath := filepath.Join(dir, "aws-credentials"), filepath.Join(dir, "aws-config")
	if outs["aws-credentials-file"] != credPath {
		t.Fatalf("aws-credentials-file %q, want %q", outs["aws-credentials-file"], credPath)
	}
	for path, perm := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, credPath: 0o600, confPath: 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode() != perm {
			t.Fatalf("%s: %v %v, want mode %v", path, fi, err, perm)
		}
	}
	if got, want := mustRead(t, confPath), "[profile ci.artifacts-1]\nregion = us-east-1\n"; got != want {
		t.Fatalf("aws-config:\n%s\nwant:\n%s", got, want)
	}

	// GITHUB_ENV: the files always, with export-env the standard variables
	// and the JIT_ names too.
	env := j.parse(j.envFile)
	for name, want := range map[string]string{
		"AWS_SHARED_CREDENTIALS_FILE": credPath, "AWS_CONFIG_FILE": confPath,
		"AWS_ACCESS_KEY_ID": outs["aws-access-key-id"], "AWS_SECRET_ACCESS_KEY": outs["aws-secret-access-key"], "AWS_SESSION_TOKEN": outs["aws-session-token"],
		"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
		"JIT_LEASE_ID": id, "JIT_AWS_ACCESS_KEY_ID": outs["aws-access-key-id"], "JIT_AWS_SECRET_ACCESS_KEY": outs["aws-secret-access-key"],
		"JIT_AWS_SESSION_TOKEN": outs["aws-session-token"], "JIT_AWS_REGION": "us-east-1", "JIT_AWS_CREDENTIALS_FILE": credPath,
	} {
		if env[name] != want {
			t.Fatalf("GITHUB_ENV %s = %q, want %q", name, env[name], want)
		}
	}

	// A later step's SDK, reading the profile from the files (the
	// explicitly chosen profile wins over the root credentials in the
	// environment).
	ctx := context.Background()
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithSharedCredentialsFiles([]string{credPath}),
		awsconfig.WithSharedConfigFiles([]string{confPath}), awsconfig.WithSharedConfigProfile("ci.artifacts-1"))
	if err != nil {
		t.Fatalf("loading the profile: %v", err)
	}
	got, err := cfg.Credentials.Retrieve(ctx)
	if err != nil || got.AccessKeyID != outs["aws-access-key-id"] || got.SessionToken != outs["aws-session-token"] || cfg.Region != "us-east-1" {
		t.Fatalf("profile gave key %q, region %q (%v), want the issued session in us-east-1", got.AccessKeyID, cfg.Region, err)
	}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(srv.Endpoint)
		o.UsePathStyle = true
	})
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("artifacts"), Key: aws.String("build/app.tar"), Body: strings.NewReader("x")}); err != nil {
		t.Fatalf("put to artifacts: %v", err)
	}
	var ae smithy.APIError
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("other"), Key: aws.String("app.tar"), Body: strings.NewReader("x")}); !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Fatalf("put to other: %v, want AccessDenied", err)
	}

	// The post step revokes the session and deletes the files.
	if code := j.post(); code != ExitPostOK {
		t.Fatalf("post: exit %d\n%s", code, j.stdout.String())
	}
	if l := e.lease(t, id); l.State != lease.Revoked || l.RevokedBy != lease.ByPostStep {
		t.Fatalf("lease after the post step: %s by %q", l.State, l.RevokedBy)
	}
	if doc := iam.policy("artifacts"); !strings.Contains(doc, "AROAARTIFACTSROLE1234:") {
		t.Fatalf("the role's revocation policy does not deny the session: %q", doc)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the lease's folder is still there: %v", err)
	}
}

// TestRunAWSMaskAccountOff checks mask-aws-account-id: false, export-env
// off and no profile: no account mask, no files, nothing in GITHUB_ENV.
func TestRunAWSMaskAccountOff(t *testing.T) {
	srv := miniotest.Start(t, miniotest.Options{})
	_, iamURL := newFakeIAM(t)
	e := newAWSTestEnv(t, srv.Endpoint, iamURL, srv.RootCredentials())
	j := e.newAWSJob(t, "nomask", map[string]string{InputMaskAWSAccountID: "false"})
	if code := j.run(); code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s", code, j.stdout.String())
	}
	if strings.Contains(j.stdout.String(), "::add-mask::"+awsTestAccount) {
		t.Fatalf("account masked with mask-aws-account-id: false:\n%s", j.stdout.String())
	}
	outs := j.parse(j.output)
	for _, s := range []string{outs["aws-secret-access-key"], outs["aws-session-token"]} {
		if s == "" || !strings.Contains(j.stdout.String(), "::add-mask::"+s+"\n") {
			t.Fatalf("secret output not masked:\n%s", j.stdout.String())
		}
	}
	if _, ok := outs["aws-credentials-file"]; ok {
		t.Fatalf("aws-credentials-file without aws-profile")
	}
	if env := mustRead(t, j.envFile); env != "" {
		t.Fatalf("GITHUB_ENV written without export-env or aws-profile:\n%s", env)
	}
	if _, err := os.Stat(filepath.Join(j.runnerTemp, "jit-policy", outs["lease-id"])); !os.IsNotExist(err) {
		t.Fatalf("a lease folder without aws-profile: %v", err)
	}
}

// TestRunAWSBadInputs checks that bad aws inputs fail before anything is
// issued: no token requested, no lease recorded.
func TestRunAWSBadInputs(t *testing.T) {
	e := newAWSTestEnv(t, "http://127.0.0.1:1", "http://127.0.0.1:1", aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "SECRET"})
	tests := []struct {
		name   string
		inputs map[string]string
		env    map[string]string
		want   string
	}{
		{"profile with a bracket", map[string]string{InputAWSProfile: "ci]\n[default"}, nil, "::error::input aws-profile: use only letters, digits, '_', '.' and '-'"},
		{"profile with a space", map[string]string{InputAWSProfile: "my profile"}, nil, "::error::input aws-profile: use only letters, digits"},
		{"profile too long", map[string]string{InputAWSProfile: strings.Repeat("p", 65)}, nil, "::error::input aws-profile: must be 1 to 64 characters"},
		{"profile with ssh", map[string]string{InputIssuer: "ssh", InputGenerateKey: "true", InputAWSProfile: "ci"}, nil, "::error::input aws-profile: only with issuer aws"},
		{"bad mask bool", map[string]string{InputMaskAWSAccountID: "yes"}, nil, "::error::input mask-aws-account-id: use true or false"},
		{"profile without GITHUB_ENV", map[string]string{InputAWSProfile: "ci"}, map[string]string{"GITHUB_ENV": ""}, "::error::GITHUB_ENV is not set"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := e.newAWSJob(t, "bad"+string(rune('a'+i)), tc.inputs)
			tokens := j.runRefused(tc.env)
			if !strings.Contains(j.stdout.String(), tc.want) {
				t.Fatalf("stdout:\n%s\nwant %q", j.stdout.String(), tc.want)
			}
			if strings.Contains(j.stdout.String(), "[default") {
				t.Fatalf("the error echoes the input:\n%s", j.stdout.String())
			}
			if len(tokens) > 0 {
				t.Fatalf("requested a token: %s", tokens[0])
			}
			for _, f := range []string{j.output, j.envFile} {
				if s := mustRead(t, f); s != "" {
					t.Fatalf("%s written: %q", filepath.Base(f), s)
				}
			}
			if st := j.parse(j.state); !isBlankState(st) {
				t.Fatalf("state %v, want every state of the post step blank", st)
			}
		})
	}
	st, err := sqlitestore.Open(context.Background(), e.leases)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if ls, err := st.List(context.Background(), lease.Filter{}); err != nil || len(ls) != 0 {
		t.Fatalf("leases recorded: %d (%v), want none", len(ls), err)
	}
}

func TestCheckAWSProfile(t *testing.T) {
	for _, ok := range []string{"default", "ci", "ci.artifacts-1", "A_b", strings.Repeat("p", 64)} {
		if err := checkAWSProfile(ok); err != nil {
			t.Fatalf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a b", "a]", "[a", "a\nb", "a=b", "a;b", "a#b", "é", strings.Repeat("p", 65)} {
		if err := checkAWSProfile(bad); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
}

func TestWriteAWSFilesDefaultProfile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "jit-policy", "lease1")
	outs := awsOutputs("AKID", "SECRET", "TOKEN", "eu-west-1")
	got, env, err := writeAWSFiles(dir, "default", outs)
	if err != nil {
		t.Fatal(err)
	}
	cred := filepath.Join(dir, "aws-credentials")
	if outputValue(got, OutputAWSCredentialsFile) != cred || len(env) != 2 || env[0].Value != cred || env[1].Value != filepath.Join(dir, "aws-config") {
		t.Fatalf("outputs %v, env %v", got, env)
	}
	if s := mustRead(t, cred); s != "[default]\naws_access_key_id = AKID\naws_secret_access_key = SECRET\naws_session_token = TOKEN\n" {
		t.Fatalf("aws-credentials:\n%s", s)
	}
	if s := mustRead(t, filepath.Join(dir, "aws-config")); s != "[default]\nregion = eu-west-1\n" {
		t.Fatalf("aws-config:\n%s", s)
	}
	// A value that would add INI lines is refused.
	if _, _, err := writeAWSFiles(filepath.Join(t.TempDir(), "x"), "ci", awsOutputs("AKID", "SECRET\n[evil]", "TOKEN", "eu-west-1")); err == nil {
		t.Fatalf("a secret with a line break was written")
	}
}

func TestAWSAccountID(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:iam::123456789012:role/artifacts": "123456789012",
		"arn:aws-cn:iam::210987654321:role/a/b":    "210987654321",
		"arn:aws:iam::12345678901:role/short":      "",
		"arn:aws:iam::12345678901x:role/letters":   "",
		"":                                         "",
	} {
		if got := accountOfARN(arn); got != want {
			t.Fatalf("%q: %q, want %q", arn, got, want)
		}
	}
}

// awsOutputs are the aws issuer's session outputs.
func awsOutputs(keyID, secret, token, region string) []issuers.Output {
	return []issuers.Output{
		{Name: "aws-access-key-id", Value: keyID},
		{Name: "aws-secret-access-key", Value: secret, Secret: true},
		{Name: "aws-session-token", Value: token, Secret: true},
		{Name: "aws-region", Value: region},
	}
}
