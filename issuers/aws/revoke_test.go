package aws

// AWS IAM cannot run on this machine: these tests run the real AWS SDK
// (signing, the query protocol, error decoding) against an httptest IAM
// endpoint that speaks IAM's query protocol, checks the GetRole,
// GetRolePolicy, PutRolePolicy and DeleteRolePolicy calls, and keeps the
// documents written, which the tests then inspect: the deny statement, the
// aws:userid condition, the merge, the pruning and the size report. MinIO
// returns no AssumedRoleId, so the GetRole fallback is tested too.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/internal/lease"
)

const (
	testRoleID  = "AROAEXAMPLEROLEID1234"
	testRoleARN = "arn:aws:iam::123456789012:role/ci/deploy" // a role with a path
)

// fakeRole is a role the fake IAM knows.
type fakeRole struct {
	id       string
	boundary bool
}

// fakeIAM is an IAM endpoint: it answers the query protocol as IAM does
// and records every call.
type fakeIAM struct {
	t        *testing.T
	url      string
	mu       sync.Mutex
	roles    map[string]fakeRole // by role name
	policies map[string]string   // jit-policy-revoked by role name, decoded
	calls    []string            // "Action RoleName"
	puts     []string            // documents written
	// denied makes these actions fail with AccessDenied.
	denied map[string]bool
	// afterPut, when set, may replace what a PutRolePolicy stored (another
	// process writing at the same time).
	afterPut func(n int, doc string) string
}

func newFakeIAM(t *testing.T) *fakeIAM {
	f := &fakeIAM{t: t, roles: map[string]fakeRole{"deploy": {id: testRoleID, boundary: true}}, policies: map[string]string{}, denied: map[string]bool{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

func (f *fakeIAM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		f.t.Errorf("IAM got %s %v (%v), want a form POST", r.Method, r.URL, err)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if v := r.PostForm.Get("Version"); v != "2010-05-08" {
		f.t.Errorf("IAM API version %q, want 2010-05-08", v)
	}
	if a := r.Header.Get("Authorization"); !strings.Contains(a, "Credential=AKID/") || !strings.Contains(a, "/us-east-1/iam/aws4_request") {
		f.t.Errorf("request not signed with SigV4 for iam in us-east-1: %q", a)
	}
	action, name := r.PostForm.Get("Action"), r.PostForm.Get("RoleName")
	f.calls = append(f.calls, action+" "+name)
	if f.denied[action] {
		iamError(w, http.StatusForbidden, "AccessDenied", "User: arn:aws:sts::123456789012:assumed-role/issuer/x is not authorized to perform: iam:"+action)
		return
	}
	if action != "GetRole" {
		if p := r.PostForm.Get("PolicyName"); p != RevokedPolicyName {
			f.t.Errorf("%s on policy %q, want %q", action, p, RevokedPolicyName)
		}
	}
	role, ok := f.roles[name]
	if !ok {
		iamError(w, http.StatusNotFound, "NoSuchEntity", "The role with name "+name+" cannot be found.")
		return
	}
	switch action {
	case "GetRole":
		boundary := ""
		if role.boundary {
			boundary = "<PermissionsBoundary><PermissionsBoundaryType>Policy</PermissionsBoundaryType><PermissionsBoundaryArn>arn:aws:iam::123456789012:policy/jit-boundary</PermissionsBoundaryArn></PermissionsBoundary>"
		}
		iamResult(w, "GetRole", fmt.Sprintf("<Role><Path>/ci/</Path><RoleName>%s</RoleName><RoleId>%s</RoleId><Arn>arn:aws:iam::123456789012:role/ci/%s</Arn><CreateDate>2024-01-02T03:04:05Z</CreateDate><AssumeRolePolicyDocument>%s</AssumeRolePolicyDocument><MaxSessionDuration>3600</MaxSessionDuration>%s</Role>",
			name, role.id, name, iamEscape(`{"Version":"2012-10-17","Statement":[]}`), boundary))
	case "GetRolePolicy":
		doc, ok := f.policies[name]
		if !ok {
			iamError(w, http.StatusNotFound, "NoSuchEntity", "The role policy with name "+RevokedPolicyName+" cannot be found.")
			return
		}
		iamResult(w, "GetRolePolicy", fmt.Sprintf("<RoleName>%s</RoleName><PolicyName>%s</PolicyName><PolicyDocument>%s</PolicyDocument>", name, RevokedPolicyName, iamEscape(doc)))
	case "PutRolePolicy":
		doc := r.PostForm.Get("PolicyDocument")
		if !json.Valid([]byte(doc)) {
			iamError(w, http.StatusBadRequest, "MalformedPolicyDocument", "Syntax errors in policy.")
			return
		}
		f.puts = append(f.puts, doc)
		if f.afterPut != nil {
			doc = f.afterPut(len(f.puts), doc)
		}
		f.policies[name] = doc
		iamResult(w, "PutRolePolicy", "")
	case "DeleteRolePolicy":
		if _, ok := f.policies[name]; !ok {
			iamError(w, http.StatusNotFound, "NoSuchEntity", "The role policy with name "+RevokedPolicyName+" cannot be found.")
			return
		}
		delete(f.policies, name)
		iamResult(w, "DeleteRolePolicy", "")
	default:
		f.t.Errorf("unexpected IAM action %q", action)
		iamError(w, http.StatusBadRequest, "InvalidAction", "Could not find operation "+action)
	}
}

// iamEscape URL-encodes a policy document as IAM returns it (RFC 3986).
func iamEscape(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}

func iamResult(w http.ResponseWriter, action, result string) {
	w.Header().Set("Content-Type", "text/xml")
	body := ""
	if result != "" {
		body = "<" + action + "Result>" + result + "</" + action + "Result>"
	}
	fmt.Fprintf(w, `<%sResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">%s<ResponseMetadata><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ResponseMetadata></%sResponse>`, action, body, action)
}

func iamError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ErrorResponse>`, code, msg)
}

func (f *fakeIAM) count(action string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if strings.HasPrefix(c, action+" ") {
			n++
		}
	}
	return n
}

// newTestIssuer builds the issuer with the real SDK against f, logging
// into the returned buffer.
func newTestIssuer(t *testing.T, f *fakeIAM, roles map[string]config.AWSRole) (*Issuer, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	cfg := &config.AWSIssuer{Region: "us-east-1", IAMEndpoint: f.url, Roles: roles}
	i, err := New(context.Background(), cfg, Options{
		AWS:    &aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")},
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	i.settle = 0 // the fake IAM is consistent at once
	return i, &logs
}

func deployRoles() map[string]config.AWSRole {
	return map[string]config.AWSRole{"deploy": {RoleARN: testRoleARN}}
}

// hourAfter is t rounded up to the hour, in Unix seconds, computed apart
// from the code under test.
func hourAfter(t time.Time) int64 {
	h := t.Truncate(time.Hour)
	if h.Before(t) {
		h = h.Add(time.Hour)
	}
	return h.Unix()
}

// ourStatement writes a statement as the issuer does.
func ourStatement(until int64, ids ...string) string {
	ids = slices.Sorted(slices.Values(ids))
	b, _ := json.Marshal(ids)
	return fmt.Sprintf(`{"Sid":"JitRevokedUntil%d","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:userid":%s}}}`, until, b)
}

func policyDoc(stmts ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
}

// foreignStatement is not the issuer's: it must survive every write as it
// is. Its space and '+' check the URL decoding.
const foreignStatement = `{"Sid":"KeepMe","Effect":"Deny","Action":"s3:DeleteObject","Resource":"*","Condition":{"StringLike":{"aws:PrincipalTag/team":"a b+c"}}}`

// parsed is a written document as the tests read it.
type parsed struct {
	denied  map[int64][]string // the issuer's statements: until → ids
	foreign []string           // the other statements, compact
}

func parseDoc(t *testing.T, doc string) parsed {
	t.Helper()
	var d struct {
		Version   string
		Statement []json.RawMessage
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatalf("written document is not a policy: %v\n%s", err, doc)
	}
	if d.Version != "2012-10-17" {
		t.Errorf("Version %q, want 2012-10-17", d.Version)
	}
	p := parsed{denied: map[int64][]string{}}
	for _, raw := range d.Statement {
		var s struct {
			Sid, Effect, Action, Resource string
			Condition                     map[string]map[string][]string
		}
		_ = json.Unmarshal(raw, &s)
		var until int64
		if _, err := fmt.Sscanf(s.Sid, "JitRevokedUntil%d", &until); err != nil {
			var c bytes.Buffer
			if err := json.Compact(&c, raw); err != nil {
				t.Fatal(err)
			}
			p.foreign = append(p.foreign, c.String())
			continue
		}
		if until%3600 != 0 {
			t.Errorf("statement %s: not a whole hour", s.Sid)
		}
		if s.Effect != "Deny" || s.Action != "*" || s.Resource != "*" {
			t.Errorf("statement %s is %s %s on %s, want Deny * on *", s.Sid, s.Effect, s.Action, s.Resource)
		}
		ids := s.Condition["StringEquals"]["aws:userid"]
		if len(s.Condition) != 1 || len(s.Condition["StringEquals"]) != 1 || len(ids) == 0 {
			t.Errorf("statement %s condition = %v, want only StringEquals aws:userid", s.Sid, s.Condition)
		}
		if !slices.IsSorted(ids) {
			t.Errorf("statement %s ids %v are not sorted", s.Sid, ids)
		}
		if _, dup := p.denied[until]; dup {
			t.Errorf("two statements %s", s.Sid)
		}
		p.denied[until] = ids
	}
	return p
}

func TestRevoke(t *testing.T) {
	now := time.Now()
	exp := now.Add(50 * time.Minute)
	until := hourAfter(exp)
	const session = "jit-123456-1-0a1b2c3d"
	const userID = "AROAEXAMPLEROLEID1234:" + session
	const other = "AROAEXAMPLEROLEID1234:jit-99-2-ffffffff"
	past := hourAfter(now.Add(-3 * time.Hour))
	later := hourAfter(now.Add(5 * time.Hour))

	cases := []struct {
		name          string
		existing      string // the policy before; "" for none
		assumedRoleID string
		noBoundary    bool
		denyGetRole   bool
		wantDenied    map[int64][]string
		wantForeign   []string
		wantPuts      int
		wantLog       string // a substring of the log, when set
		wantNoLog     string // a substring that must not be logged, when set
	}{
		{
			name:          "first revoke creates the policy",
			assumedRoleID: userID,
			wantDenied:    map[int64][]string{until: {userID}},
			wantPuts:      1,
			wantNoLog:     "permissions boundary",
		},
		{
			name:          "merges with a foreign statement and an existing statement",
			existing:      policyDoc(foreignStatement, ourStatement(until, other), ourStatement(later, "AROAEXAMPLEROLEID1234:jit-7-1-77777777")),
			assumedRoleID: userID,
			wantDenied:    map[int64][]string{until: {userID, other}, later: {"AROAEXAMPLEROLEID1234:jit-7-1-77777777"}},
			wantForeign:   []string{foreignStatement},
			wantPuts:      1,
		},
		{
			name:          "already denied: nothing written",
			existing:      policyDoc(ourStatement(until, other, userID)),
			assumedRoleID: userID,
			wantDenied:    map[int64][]string{until: {other, userID}},
			wantPuts:      0,
		},
		{
			name:          "expired statement pruned on write",
			existing:      policyDoc(ourStatement(past, other), foreignStatement),
			assumedRoleID: userID,
			wantDenied:    map[int64][]string{until: {userID}},
			wantForeign:   []string{foreignStatement},
			wantPuts:      1,
		},
		{
			name:       "GetRole fallback without AssumedRoleId (MinIO)",
			wantDenied: map[int64][]string{until: {testRoleID + ":" + session}},
			wantPuts:   1,
		},
		{
			name:          "warns when the role has no permissions boundary",
			assumedRoleID: userID,
			noBoundary:    true,
			wantDenied:    map[int64][]string{until: {userID}},
			wantPuts:      1,
			wantLog:       "role has no permissions boundary",
		},
		{
			name:          "GetRole refused: revoked all the same, and logged",
			assumedRoleID: userID,
			denyGetRole:   true,
			wantDenied:    map[int64][]string{until: {userID}},
			wantPuts:      1,
			wantLog:       "AccessDenied",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeIAM(t)
			f.roles["deploy"] = fakeRole{id: testRoleID, boundary: !c.noBoundary}
			f.denied["GetRole"] = c.denyGetRole
			if c.existing != "" {
				f.policies["deploy"] = c.existing
			}
			i, logs := newTestIssuer(t, f, deployRoles())
			l := lease.Lease{ID: "lease-1", Issuer: "aws", Role: "deploy", ExpiresAt: exp,
				Credential: lease.Credential{SessionName: session, AssumedRoleID: c.assumedRoleID}}
			if err := i.Revoke(context.Background(), l); err != nil {
				t.Fatalf("Revoke: %v\ncalls: %v", err, f.calls)
			}
			if got := f.count("GetRole"); got != 1 {
				t.Errorf("GetRole called %d times, want once (id or boundary check): %v", got, f.calls)
			}
			for _, c := range f.calls {
				if !strings.HasSuffix(c, " deploy") {
					t.Errorf("call %q does not name the role deploy (the last segment of %s)", c, testRoleARN)
				}
			}
			if len(f.puts) != c.wantPuts {
				t.Fatalf("%d PutRolePolicy calls, want %d: %v", len(f.puts), c.wantPuts, f.calls)
			}
			got := parseDoc(t, f.policies["deploy"])
			for u := range c.wantDenied {
				slices.Sort(c.wantDenied[u])
			}
			if fmt.Sprint(got.denied) != fmt.Sprint(c.wantDenied) {
				t.Errorf("denied = %v, want %v\n%s", got.denied, c.wantDenied, f.policies["deploy"])
			}
			if !slices.Equal(got.foreign, c.wantForeign) {
				t.Errorf("foreign statements = %q, want %q unchanged", got.foreign, c.wantForeign)
			}
			if c.wantLog != "" && !strings.Contains(logs.String(), c.wantLog) {
				t.Errorf("log lacks %q:\n%s", c.wantLog, logs)
			}
			if c.wantNoLog != "" && strings.Contains(logs.String(), c.wantNoLog) {
				t.Errorf("log has %q:\n%s", c.wantNoLog, logs)
			}
		})
	}
}

// TestRevokeTwice: the second revoke of the same session reads the policy,
// finds the session denied and writes nothing; GetRole is asked once.
func TestRevokeTwice(t *testing.T) {
	f := newFakeIAM(t)
	i, _ := newTestIssuer(t, f, deployRoles())
	l := lease.Lease{ID: "lease-1", Role: "deploy", ExpiresAt: time.Now().Add(time.Hour), Credential: lease.Credential{SessionName: "jit-1-1-aaaaaaaa"}}
	for range 2 {
		if err := i.Revoke(context.Background(), l); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.puts) != 1 || f.count("GetRole") != 1 {
		t.Errorf("calls = %v, want one GetRole and one PutRolePolicy", f.calls)
	}
}

// TestRevokeConcurrentWriter: another process replaces the policy right
// after the write (IAM has no conditional write); the read-back misses the
// session and the issuer writes again, merging with the other's document.
func TestRevokeConcurrentWriter(t *testing.T) {
	f := newFakeIAM(t)
	theirs := policyDoc(ourStatement(hourAfter(time.Now().Add(2*time.Hour)), "AROAEXAMPLEROLEID1234:jit-other-1-bbbbbbbb"))
	f.afterPut = func(n int, doc string) string {
		if n == 1 {
			return theirs
		}
		return doc
	}
	i, _ := newTestIssuer(t, f, deployRoles())
	l := lease.Lease{ID: "lease-1", Role: "deploy", ExpiresAt: time.Now().Add(time.Hour), Credential: lease.Credential{AssumedRoleID: testRoleID + ":jit-1-1-aaaaaaaa"}}
	if err := i.Revoke(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	got := parseDoc(t, f.policies["deploy"])
	if len(f.puts) != 2 || len(got.denied) != 2 {
		t.Errorf("puts = %d, denied = %v; want a second write holding both sessions", len(f.puts), got.denied)
	}
}

// TestRevokeRefused: what cannot be revoked says why and what to do.
func TestRevokeRefused(t *testing.T) {
	exp := time.Now().Add(time.Hour)
	cases := []struct {
		name    string
		lease   lease.Lease
		denied  string // an IAM action refused
		wantErr string
	}{
		{"unconfigured role", lease.Lease{ID: "l", Role: "nope", ExpiresAt: exp, Credential: lease.Credential{SessionName: "jit-1"}}, "", `aws role "nope" of lease l is not configured`},
		{"no session name", lease.Lease{ID: "l", Role: "deploy", ExpiresAt: exp}, "", "nothing names the session"},
		{"PutRolePolicy refused", lease.Lease{ID: "l", Role: "deploy", ExpiresAt: exp, Credential: lease.Credential{AssumedRoleID: testRoleID + ":jit-1"}}, "PutRolePolicy", "the issuer needs iam:GetRole, iam:GetRolePolicy, iam:PutRolePolicy and iam:DeleteRolePolicy on " + testRoleARN},
		{"GetRole refused without AssumedRoleId", lease.Lease{ID: "l", Role: "deploy", ExpiresAt: exp, Credential: lease.Credential{SessionName: "jit-1"}}, "GetRole", "iam:GetRole " + testRoleARN},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeIAM(t)
			f.denied[c.denied] = true
			i, _ := newTestIssuer(t, f, deployRoles())
			err := i.Revoke(context.Background(), c.lease)
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("Revoke = %v, want an error with %q", err, c.wantErr)
			}
			if len(f.puts) != 0 {
				t.Errorf("wrote %v", f.puts)
			}
		})
	}
}

// TestRevokeNotAtBackend: a certificate-mode role without a role ARN
// (MinIO) and an expired session need no IAM call.
func TestRevokeNotAtBackend(t *testing.T) {
	f := newFakeIAM(t)
	i, logs := newTestIssuer(t, f, map[string]config.AWSRole{
		"minio":  {Mode: config.AWSModeCertificate, X509Role: "ci"},
		"deploy": {RoleARN: testRoleARN},
	})
	if err := i.Revoke(context.Background(), lease.Lease{ID: "l1", Role: "minio", ExpiresAt: time.Now().Add(time.Hour), Credential: lease.Credential{SessionName: "jit-1"}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "ends only at its expiry") {
		t.Errorf("no warning that the session lives on:\n%s", logs)
	}
	if err := i.Revoke(context.Background(), lease.Lease{ID: "l2", Role: "deploy", ExpiresAt: time.Now().Add(-time.Hour), Credential: lease.Credential{SessionName: "jit-2"}}); err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 0 {
		t.Errorf("IAM calls %v, want none", f.calls)
	}
}

// bigBucket is a statement holding n sessions.
func bigBucket(until int64, n int) string {
	ids := make([]string, n)
	for k := range ids {
		ids[k] = fmt.Sprintf("%s:jit-1000000%04d-1-0a1b2c3d", testRoleID, k)
	}
	slices.Sort(ids)
	return ourStatement(until, ids...)
}

// TestRevokeOverLimit: a revoke that would take the policy past IAM's
// 10,240 characters is refused, saying to sweep or lower max_ttl.
func TestRevokeOverLimit(t *testing.T) {
	f := newFakeIAM(t)
	for n := 150; len(f.policies["deploy"]) <= InlinePolicyLimit-60; n++ {
		f.policies["deploy"] = policyDoc(bigBucket(hourAfter(time.Now().Add(2*time.Hour)), n))
	}
	if n := len(f.policies["deploy"]); n > InlinePolicyLimit {
		t.Fatalf("test document is %d characters, want just under the limit", n)
	}
	i, _ := newTestIssuer(t, f, deployRoles())
	err := i.Revoke(context.Background(), lease.Lease{ID: "l", Role: "deploy", ExpiresAt: time.Now().Add(time.Hour), Credential: lease.Credential{AssumedRoleID: testRoleID + ":jit-new-1-abcdef12"}})
	if err == nil || !strings.Contains(err.Error(), "jit-policy sweep") || !strings.Contains(err.Error(), "max_ttl") {
		t.Errorf("Revoke = %v, want the limit error saying to sweep or lower max_ttl", err)
	}
	if len(f.puts) != 0 {
		t.Errorf("wrote a document over the limit")
	}
}

// TestPrune: expired statements go, live ones stay, an emptied policy is
// deleted, and the notes report sizes and a policy nearing the limit.
func TestPrune(t *testing.T) {
	f := newFakeIAM(t)
	for _, n := range []string{"build", "big", "none"} {
		f.roles[n] = fakeRole{id: "AROA" + strings.ToUpper(n), boundary: true}
	}
	now := time.Now()
	past, live := hourAfter(now.Add(-2*time.Hour)), hourAfter(now.Add(time.Hour))
	f.policies["deploy"] = policyDoc(ourStatement(past, "AROAX:old"), ourStatement(live, "AROAX:live"), foreignStatement)
	f.policies["build"] = policyDoc(ourStatement(past, "AROAB:old"))
	f.policies["big"] = policyDoc(bigBucket(live, 160))
	i, _ := newTestIssuer(t, f, map[string]config.AWSRole{
		"deploy":       {RoleARN: testRoleARN},
		"deploy-again": {RoleARN: testRoleARN}, // one ARN, pruned once
		"build":        {RoleARN: "arn:aws:iam::123456789012:role/build"},
		"big":          {RoleARN: "arn:aws:iam::123456789012:role/big"},
		"none":         {RoleARN: "arn:aws:iam::123456789012:role/none"},
		"minio":        {Mode: config.AWSModeCertificate},
	})
	notes, err := i.Prune(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	got := parseDoc(t, f.policies["deploy"])
	if fmt.Sprint(got.denied) != fmt.Sprint(map[int64][]string{live: {"AROAX:live"}}) || !slices.Equal(got.foreign, []string{foreignStatement}) {
		t.Errorf("deploy after prune = %s", f.policies["deploy"])
	}
	if _, ok := f.policies["build"]; ok || f.count("DeleteRolePolicy") != 1 {
		t.Errorf("build's emptied policy was not deleted: %v", f.calls)
	}
	if len(f.puts) != 1 {
		t.Errorf("%d writes, want one (deploy; big had nothing expired): %v", len(f.puts), f.calls)
	}
	if f.count("GetRole") != 4 {
		t.Errorf("GetRole called %d times, want once per distinct role", f.count("GetRole"))
	}
	size := len(f.policies["deploy"])
	want := []string{
		fmt.Sprintf("%s: jit-policy-revoked holds 1 session, %d of 10,240 characters (pruned 1 expired statement)", testRoleARN, size),
		"arn:aws:iam::123456789012:role/build: jit-policy-revoked deleted",
		"arn:aws:iam::123456789012:role/big: jit-policy-revoked holds 160 sessions, 8,",
		"arn:aws:iam::123456789012:role/big: jit-policy-revoked is nearing IAM's 10,240-character inline-policy limit",
	}
	for _, w := range want {
		if !slices.ContainsFunc(notes, func(n string) bool { return strings.HasPrefix(n, w) }) {
			t.Errorf("no note starting %q in\n%s", w, strings.Join(notes, "\n"))
		}
	}
	if len(notes) != len(want) {
		t.Errorf("notes:\n%s\nwant %d", strings.Join(notes, "\n"), len(want))
	}

	// Nothing expired the second time: reads only.
	before := len(f.calls)
	if _, err := i.Prune(context.Background(), now); err != nil {
		t.Fatal(err)
	}
	for _, c := range f.calls[before:] {
		if !strings.HasPrefix(c, "GetRolePolicy ") {
			t.Errorf("second prune called %s", c)
		}
	}
}

func TestRoleName(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:iam::123456789012:role/deploy":          "deploy",
		"arn:aws:iam::123456789012:role/ci/prod/deploy":  "deploy",
		"arn:aws-cn:iam::123456789012:role/service/x-y":  "x-y",
		"arn:aws:iam::123456789012:user/deploy":          "",
		"deploy":                                         "",
		"arn:aws:iam::123456789012:role/trailing-slash/": "",
	} {
		got, err := roleName(arn)
		if got != want || (err != nil) != (want == "") {
			t.Errorf("roleName(%q) = %q, %v; want %q", arn, got, err, want)
		}
	}
}

// TestRevokeNearLimit: a write past 80 % of IAM's limit is logged.
func TestRevokeNearLimit(t *testing.T) {
	f := newFakeIAM(t)
	exp := time.Now().Add(time.Hour)
	f.policies["deploy"] = policyDoc(bigBucket(hourAfter(exp), 160))
	i, logs := newTestIssuer(t, f, deployRoles())
	if err := i.Revoke(context.Background(), lease.Lease{ID: "l", Role: "deploy", ExpiresAt: exp, Credential: lease.Credential{AssumedRoleID: testRoleID + ":jit-new-1-abcdef12"}}); err != nil {
		t.Fatal(err)
	}
	if len(f.puts) != 1 || !strings.Contains(logs.String(), "nears IAM's inline-policy size limit") {
		t.Errorf("puts %d, log:\n%s", len(f.puts), logs)
	}
}

// TestRevokeOverwrittenEveryTime: when every write is replaced by another
// process, Revoke gives up after three writes and says so, so that the
// lease stays unrevoked for the next revoke or sweep.
func TestRevokeOverwrittenEveryTime(t *testing.T) {
	f := newFakeIAM(t)
	f.afterPut = func(int, string) string { return policyDoc(foreignStatement) }
	i, _ := newTestIssuer(t, f, deployRoles())
	err := i.Revoke(context.Background(), lease.Lease{ID: "l", Role: "deploy", ExpiresAt: time.Now().Add(time.Hour), Credential: lease.Credential{AssumedRoleID: testRoleID + ":jit-1-1-aaaaaaaa"}})
	if err == nil || !strings.Contains(err.Error(), "after 3 writes") || len(f.puts) != 3 {
		t.Errorf("Revoke = %v after %d writes, want an error after 3", err, len(f.puts))
	}
}
