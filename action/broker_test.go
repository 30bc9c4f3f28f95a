package action

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jit-policy/jit-policy/internal/brokerapi"
	"github.com/jit-policy/jit-policy/internal/oidctest"
)

const brokerAudience = "jit-broker"

// fakeBroker is a canned broker over TLS: it checks that each request
// carries a runner token for brokerAudience in the Authorization header
// (and nowhere else), issues SSH certificates signed by its own CA, and
// revokes what it is asked to.
type fakeBroker struct {
	t   *testing.T
	srv *httptest.Server
	ca  ssh.Signer

	mu       sync.Mutex
	requests []fakeRequest
	n        int
	// deny, when set, is the 403 answer to issue; revokeStatus, when not
	// 0 or 200, the status of revoke; skip answers revoke with skipped;
	// pending with pending (and skipped, as brokers do).
	deny         *brokerapi.Error
	revokeStatus int
	skip         bool
	pending      bool
}

type fakeRequest struct {
	path, token, body string
}

func newFakeBroker(t *testing.T) *fakeBroker {
	_, caKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := ssh.NewSignerFromKey(caKey)
	if err != nil {
		t.Fatal(err)
	}
	b := &fakeBroker{t: t, ca: ca}
	b.srv = httptest.NewTLSServer(http.HandlerFunc(b.serve))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *fakeBroker) fail(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(brokerapi.Error{Error: msg})
}

func (b *fakeBroker) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	b.mu.Lock()
	b.requests = append(b.requests, fakeRequest{path: r.URL.Path, token: token, body: string(body)})
	b.n++
	n := b.n
	b.mu.Unlock()
	if !ok || audienceOf(token) != brokerAudience {
		b.fail(w, 401, "no token for the broker's audience")
		return
	}
	if strings.Contains(string(body), token) || strings.Contains(r.URL.RawQuery, token) {
		b.fail(w, 400, "the token is in the body or the query")
		return
	}
	if r.Method != http.MethodPost {
		b.fail(w, 405, "POST only")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case brokerapi.PathIssue:
		if b.deny != nil {
			w.WriteHeader(403)
			_ = json.NewEncoder(w).Encode(b.deny)
			return
		}
		var req brokerapi.IssueRequest
		if err := json.Unmarshal(body, &req); err != nil || req.Issuer != "ssh" || req.Role == "" {
			b.fail(w, 400, "bad request")
			return
		}
		res, err := b.issue(req, fmt.Sprintf("brokerlease%d", n))
		if err != nil {
			b.fail(w, 500, err.Error())
			return
		}
		_ = json.NewEncoder(w).Encode(res)
	case brokerapi.PathRevoke:
		if b.revokeStatus != 0 && b.revokeStatus != 200 {
			b.fail(w, b.revokeStatus, "revocation failed")
			return
		}
		var req brokerapi.RevokeRequest
		if err := json.Unmarshal(body, &req); err != nil {
			b.fail(w, 400, "bad request")
			return
		}
		if b.skip {
			_ = json.NewEncoder(w).Encode(brokerapi.RevokeResponse{Revoked: []string{}, Skipped: req.LeaseIDs})
			return
		}
		if b.pending {
			_ = json.NewEncoder(w).Encode(brokerapi.RevokeResponse{Revoked: []string{}, Skipped: req.LeaseIDs, Pending: req.LeaseIDs})
			return
		}
		_ = json.NewEncoder(w).Encode(brokerapi.RevokeResponse{Revoked: req.LeaseIDs})
	default:
		b.fail(w, 404, "not found")
	}
}

// issue certifies the request's key (or a fresh one) for ten minutes.
func (b *fakeBroker) issue(req brokerapi.IssueRequest, id string) (brokerapi.IssueResponse, error) {
	var pub ssh.PublicKey
	res := brokerapi.IssueResponse{LeaseID: id, Outputs: map[string]string{}}
	if req.GenerateKey {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return res, err
		}
		block, err := ssh.MarshalPrivateKey(priv, "")
		if err != nil {
			return res, err
		}
		signer, err := ssh.NewSignerFromKey(priv)
		if err != nil {
			return res, err
		}
		pub = signer.PublicKey()
		res.Outputs["private-key"] = string(pem.EncodeToMemory(block))
		res.Secret = []string{"private-key"}
	} else {
		k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(req.PublicKey))
		if err != nil {
			return res, err
		}
		pub = k
	}
	now := time.Now().Truncate(time.Second)
	res.ExpiresAt = now.Add(10 * time.Minute).UTC()
	principals := req.Principals
	if len(principals) == 0 {
		principals = []string{"nobody"}
	}
	cert := &ssh.Certificate{Key: pub, Serial: 7, CertType: ssh.UserCert, KeyId: "jit/" + id, ValidPrincipals: principals,
		ValidAfter: uint64(now.Unix()), ValidBefore: uint64(res.ExpiresAt.Unix())}
	if err := cert.SignCert(rand.Reader, b.ca); err != nil {
		return res, err
	}
	res.Outputs["lease-id"] = id
	res.Outputs["expires-at"] = res.ExpiresAt.Format(time.RFC3339)
	res.Outputs["certificate"] = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(cert)))
	return res, nil
}

func (b *fakeBroker) seen() []fakeRequest {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.requests)
}

// audienceOf decodes (without verifying) a JWT's aud claim.
func audienceOf(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Aud any `json:"aud"`
	}
	if json.Unmarshal(raw, &c) != nil {
		return ""
	}
	if s, ok := c.Aud.(string); ok {
		return s
	}
	return ""
}

// brokerJob is a job step with the broker input: a runner token endpoint,
// runner files, and a config path that does not exist (nothing local may
// be opened).
type brokerJob struct {
	runnerStep
	b              *fakeBroker
	runner         *oidctest.Issuer
	stdout, stderr strings.Builder
}

func newBrokerJob(t *testing.T, b *fakeBroker) *brokerJob {
	t.Helper()
	runner := oidctest.NewIssuer(t)
	d := t.TempDir()
	j := &brokerJob{runnerStep: newRunnerStep(t, d, runner.RunnerEnv(), filepath.Join(d, "no-such-config.yaml")), b: b, runner: runner}
	j.env[InputEnv(InputBroker)] = b.srv.URL
	j.env[InputEnv(InputAudience)] = brokerAudience
	return j
}

func (j *brokerJob) run() int {
	j.t.Helper()
	j.stdout.Reset()
	j.stderr.Reset()
	return Run(context.Background(), RunParams{Getenv: j.env.Get, Stdout: &j.stdout, Stderr: &j.stderr, HTTPClient: j.runner.Client(), BrokerClient: j.b.srv.Client()})
}

// post runs the post step with the state the main step saved (and
// extra state on top).
func (j *brokerJob) post(extra map[string]string) int {
	j.t.Helper()
	j.stdout.Reset()
	j.stderr.Reset()
	env := oidctest.Env{}
	for k, v := range j.env {
		if !strings.HasPrefix(k, "INPUT_") {
			env[k] = v
		}
	}
	for k, v := range j.parse(j.state) {
		env[StateEnv(k)] = v
	}
	for k, v := range extra {
		env[StateEnv(k)] = v
	}
	return Post(context.Background(), PostParams{Getenv: env.Get, Stdout: &j.stdout, Stderr: &j.stderr, HTTPClient: j.runner.Client(), BrokerClient: j.b.srv.Client()})
}

// runnerTokens returns the audiences the runner endpoint was asked for.
func (j *brokerJob) runnerAudiences() []string {
	var auds []string
	for _, r := range j.runner.Requests() {
		if rest, ok := strings.CutPrefix(r, "GET /token?"); ok {
			for _, kv := range strings.Split(rest, "&") {
				if a, ok := strings.CutPrefix(kv, "audience="); ok {
					auds = append(auds, a)
				}
			}
		}
	}
	return auds
}

func TestBrokerActionRunAndPost(t *testing.T) {
	b := newFakeBroker(t)
	j := newBrokerJob(t, b)
	if code := j.run(); code != ExitOK {
		t.Fatalf("run: exit %d\n%s", code, j.stdout.String())
	}
	outs := j.parse(j.output)
	id := outs["lease-id"]
	if id != "brokerlease1" {
		t.Fatalf("outputs %v", outs)
	}
	reqs := b.seen()
	if len(reqs) != 1 || reqs[0].path != brokerapi.PathIssue {
		t.Fatalf("broker requests %+v", reqs)
	}
	var req brokerapi.IssueRequest
	if err := json.Unmarshal([]byte(reqs[0].body), &req); err != nil || req.Role != "deploy" || req.Issuer != "ssh" || !req.GenerateKey || req.PublicKey != "" {
		t.Fatalf("issue request %s: %v", reqs[0].body, err)
	}
	issueToken := reqs[0].token
	if auds := j.runnerAudiences(); !slices.Equal(auds, []string{brokerAudience}) {
		t.Fatalf("runner asked for audiences %v", auds)
	}

	// Outputs and files as with a local issue.
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(outs["certificate"]))
	if err != nil {
		t.Fatal(err)
	}
	cert := pub.(*ssh.Certificate)
	signer, err := ssh.ParsePrivateKey([]byte(outs["private-key"]))
	if err != nil || string(signer.PublicKey().Marshal()) != string(cert.Key.Marshal()) {
		t.Fatalf("private-key output is not the certified key: %v", err)
	}
	certPath := outs["certificate-path"]
	if want := filepath.Join(j.runnerTemp, "jit-policy", id, "id_ed25519-cert.pub"); certPath != want {
		t.Fatalf("certificate-path %q, want %q", certPath, want)
	}
	if fi, err := os.Stat(outs["private-key-path"]); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private-key-path %q: %v %v", outs["private-key-path"], fi, err)
	}
	if exp, err := time.Parse(time.RFC3339, outs["expires-at"]); err != nil || exp.Unix() != int64(cert.ValidBefore) {
		t.Fatalf("expires-at %q: %v", outs["expires-at"], err)
	}
	st := j.parse(j.state)
	if st[StateLeaseIDs] != id || st[StateBroker] != b.srv.URL || st[StateAudience] != brokerAudience || st[StateConfig] != "" {
		t.Fatalf("state %v", st)
	}
	sum := mustRead(t, j.summary)
	if want := "| " + id + " | ssh | deploy | nobody | repo:org/app:environment:prod | org/app | 987654321 attempt 1, job 24681357 | " + outs["expires-at"] + " |"; !strings.Contains(sum, want) {
		t.Fatalf("summary lacks %q:\n%s", want, sum)
	}

	// Masks: the token and every key line, before anything else; no secret
	// anywhere else.
	out, firstOther, masked := leadingMasks(j.stdout.String())
	secrets := maskLinesOf(t, outs["private-key"])
	for _, s := range append(secrets, issueToken) {
		if !masked[s] {
			t.Fatalf("%q is not masked before the first other line:\n%s", s, j.stdout.String())
		}
	}
	if len(masked) != len(secrets)+1 {
		t.Fatalf("%d masks, want the token and %d key lines", len(masked), len(secrets))
	}
	for i, l := range out[firstOther:] {
		for s := range masked {
			if strings.Contains(l, s) {
				t.Fatalf("stdout line %d holds a secret: %q", firstOther+i+1, l)
			}
		}
	}
	if strings.Contains(j.stderr.String(), issueToken) {
		t.Fatalf("stderr holds the token")
	}

	// The post step revokes through the broker with a fresh token.
	if code := j.post(nil); code != ExitPostOK {
		t.Fatalf("post: exit %d\n%s", code, j.stdout.String())
	}
	reqs = b.seen()
	if len(reqs) != 2 || reqs[1].path != brokerapi.PathRevoke || reqs[1].body != `{"lease_ids":["`+id+`"]}` {
		t.Fatalf("broker requests %+v", reqs)
	}
	if reqs[1].token == issueToken || audienceOf(reqs[1].token) != brokerAudience {
		t.Fatalf("the post step did not send a fresh token for %s", brokerAudience)
	}
	if !strings.Contains(j.stdout.String(), "::add-mask::"+reqs[1].token+"\n") || !strings.Contains(j.stdout.String(), "jit-policy: lease "+id+": revoked") {
		t.Fatalf("post stdout:\n%s", j.stdout.String())
	}
	if _, err := os.Stat(filepath.Dir(certPath)); !os.IsNotExist(err) {
		t.Fatalf("the lease's files are still there: %v", err)
	}
	if sum := mustRead(t, j.summary); !strings.Contains(sum, "| "+id+" | — | — | revoked |") {
		t.Fatalf("summary:\n%s", sum)
	}

	// Again: the broker says it was already revoked.
	b.skip = true
	if code := j.post(nil); code != ExitPostOK || !strings.Contains(j.stdout.String(), "lease "+id+": already revoked") {
		t.Fatalf("second post: exit %d\n%s", code, j.stdout.String())
	}

	// Again: another process is revoking it. Not the step's failure, but
	// a warning, since the credential may still be live.
	b.skip, b.pending = false, true
	if code := j.post(nil); code != ExitPostOK || !strings.Contains(j.stdout.String(), "::warning::lease "+id+": being revoked by another process (the sweep finishes it if that one died)") {
		t.Fatalf("third post: exit %d\n%s", code, j.stdout.String())
	}
}

func TestBrokerActionPublicKey(t *testing.T) {
	b := newFakeBroker(t)
	j := newBrokerJob(t, b)
	line, _ := userKey(t, t.TempDir(), "deploy_key")
	j.env[InputEnv(InputGenerateKey)] = ""
	j.env[InputEnv(InputPublicKey)] = line
	j.env[InputEnv(InputTTL)] = "5m"
	j.env[InputEnv(InputPrincipals)] = "daemon"
	if code := j.run(); code != ExitOK {
		t.Fatalf("run: exit %d\n%s", code, j.stdout.String())
	}
	var req brokerapi.IssueRequest
	if err := json.Unmarshal([]byte(b.seen()[0].body), &req); err != nil || req.PublicKey != line || req.GenerateKey || req.TTLSeconds != 300 || !slices.Equal(req.Principals, []string{"daemon"}) {
		t.Fatalf("issue request %+v: %v", req, err)
	}
	outs := j.parse(j.output)
	if _, ok := outs["private-key"]; ok {
		t.Fatalf("private-key output without generate-key")
	}
	if strings.Count(j.stdout.String(), "::add-mask::") != 1 {
		t.Fatalf("want only the token masked:\n%s", j.stdout.String())
	}
}

func TestBrokerActionDenied(t *testing.T) {
	b := newFakeBroker(t)
	b.deny = &brokerapi.Error{Error: "denied by policy", Reasons: []string{"ref refs/heads/dev is not refs/heads/main", "environment dev%\nis not prod"}}
	j := newBrokerJob(t, b)
	if code := j.run(); code != ExitDenied {
		t.Fatalf("exit %d, want %d\n%s", code, ExitDenied, j.stdout.String())
	}
	var errs []string
	for _, l := range lines(j.stdout.String()) {
		if strings.HasPrefix(l, "::") && !strings.HasPrefix(l, "::add-mask::") {
			errs = append(errs, l)
		}
	}
	want := []string{"::error::denied: ref refs/heads/dev is not refs/heads/main", "::error::denied: environment dev%25%0Ais not prod"}
	if !slices.Equal(errs, want) {
		t.Fatalf("commands %q, want %q", errs, want)
	}
	for _, f := range []string{j.output, j.envFile} {
		if s := mustRead(t, f); s != "" {
			t.Fatalf("%s written on denial: %q", filepath.Base(f), s)
		}
	}
	if st := j.parse(j.state); !isBlankState(st) {
		t.Fatalf("state %v on denial, want every state of the post step blank", st)
	}
	if sum := mustRead(t, j.summary); !strings.Contains(sum, "access denied") || !strings.Contains(sum, "ref refs/heads/dev is not refs/heads/main") {
		t.Fatalf("summary:\n%s", sum)
	}
	// A denial without reasons shows the broker's message.
	b.deny = &brokerapi.Error{Error: "the token was already used"}
	j = newBrokerJob(t, b)
	if code := j.run(); code != ExitDenied || !strings.Contains(j.stdout.String(), "::error::denied: the token was already used") {
		t.Fatalf("exit %d\n%s", code, j.stdout.String())
	}
}

// TestBrokerActionRunErrors checks bad broker inputs fail before a token
// is requested, and a failing broker fails the step with exit 2.
func TestBrokerActionRunErrors(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		want     string
		tokenReq bool
	}{
		{"http to a remote host", map[string]string{InputEnv(InputBroker): "http://example.com"}, "::error::input broker: broker URL: must be https", false},
		{"user info", map[string]string{InputEnv(InputBroker): "https://u:secretpw@jit.example.com"}, "::error::input broker: broker URL: user info is not allowed", false},
		{"no audience", map[string]string{InputEnv(InputAudience): ""}, "::error::input audience is required with broker", false},
		{"broker unreachable", map[string]string{InputEnv(InputBroker): "https://127.0.0.1:1"}, "::error::broker: POST https://127.0.0.1:1/v1/issue", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newFakeBroker(t)
			j := newBrokerJob(t, b)
			for k, v := range tc.env {
				j.env[k] = v
			}
			if code := j.run(); code != ExitError || !strings.Contains(j.stdout.String(), tc.want) {
				t.Fatalf("exit %d\n%s\nwant %q", code, j.stdout.String(), tc.want)
			}
			if strings.Contains(j.stdout.String(), "secretpw") {
				t.Fatalf("the error echoes the URL's password")
			}
			if got := len(j.runnerAudiences()) > 0; got != tc.tokenReq {
				t.Fatalf("token requested %v, want %v", got, tc.tokenReq)
			}
			if st := j.parse(j.state); !isBlankState(st) {
				t.Fatalf("state %v, want every state of the post step blank", st)
			}
		})
	}
}

func TestBrokerActionPostFailures(t *testing.T) {
	tests := []struct {
		name         string
		state        map[string]string
		revokeStatus int
		noRunner     bool
		code         int
		want         string
		requests     int
	}{
		{name: "broker fails", revokeStatus: 500, code: ExitPostUnrevoked, want: "::error::lease brokerlease1 was not revoked: broker answered 500: revocation failed", requests: 1},
		{name: "not its job", revokeStatus: 403, code: ExitPostUnrevoked, want: "::error::lease brokerlease1 was not revoked: broker answered 403", requests: 1},
		{name: "no runner token", noRunner: true, code: ExitPostUnrevoked, want: "::error::lease brokerlease1 was not revoked: no OIDC ID token available"},
		{name: "tampered broker", state: map[string]string{StateBroker: "http://evil.example.com"}, code: ExitPostUnreadable, want: "::error::lease brokerlease1 was not revoked: state broker: broker URL: must be https"},
		{name: "no audience", state: map[string]string{StateAudience: ""}, code: ExitPostUnreadable, want: "::error::lease brokerlease1 was not revoked: state audience is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newFakeBroker(t)
			j := newBrokerJob(t, b)
			if code := j.run(); code != ExitOK {
				t.Fatalf("run: exit %d\n%s", code, j.stdout.String())
			}
			b.revokeStatus = tc.revokeStatus
			if tc.noRunner {
				delete(j.env, "ACTIONS_ID_TOKEN_REQUEST_URL")
			}
			if code := j.post(tc.state); code != tc.code || !strings.Contains(j.stdout.String(), tc.want) {
				t.Fatalf("post: exit %d, want %d\n%s\nwant %q", code, tc.code, j.stdout.String(), tc.want)
			}
			if n := len(b.seen()) - 1; n != tc.requests {
				t.Fatalf("%d revoke requests, want %d", n, tc.requests)
			}
			if sum := mustRead(t, j.summary); !strings.Contains(sum, "| brokerlease1 | — | — | not revoked: ") {
				t.Fatalf("summary:\n%s", sum)
			}
		})
	}
}
