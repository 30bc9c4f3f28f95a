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
