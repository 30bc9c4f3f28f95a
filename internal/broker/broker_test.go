package broker_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/time/rate"

	"github.com/jit-policy/jit-policy/internal/app"
	"github.com/jit-policy/jit-policy/internal/broker"
	"github.com/jit-policy/jit-policy/internal/brokerapi"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/oidctest"
	"github.com/jit-policy/jit-policy/internal/pgtest"
	"github.com/jit-policy/jit-policy/internal/pipelinetest"
	"github.com/jit-policy/jit-policy/internal/testproc"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// stack is a broker on the real pipeline: file CA, lease store, policy,
// OIDC issuer.
type stack struct {
	env  *pipelinetest.Env
	app  *app.App
	srv  *broker.Server
	url  string
	logs *testproc.Buffer
}

// newStack serves env's config (edit, when set, rewrites it first).
func newStack(t testing.TB, env *pipelinetest.Env, tune func(*broker.Config)) *stack {
	t.Helper()
	ctx := context.Background()
	a, err := app.Open(ctx, env.Config, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	x, err := a.Exchange(ctx, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	logs := &testproc.Buffer{}
	cfg := broker.Config{
		Exchange: x, Revoker: a.Revoker(), Lists: a.Lists(), RatePerSubject: rate.Inf,
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if tune != nil {
		tune(&cfg)
	}
	srv, err := broker.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv.SetReady(true, "")
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &stack{env: env, app: a, srv: srv, url: ts.URL, logs: logs}
}

func newEnv(t testing.TB) *pipelinetest.Env {
	return pipelinetest.New(t, pipelinetest.Options{Policy: pipelinetest.DeployPolicy})
}

// publicKey returns a fresh ed25519 public key, authorized_keys format.
func publicKey(t testing.TB) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(ssh.MarshalAuthorizedKey(sp))
}

// call sends a raw request and returns the status, headers and body.
func call(t testing.TB, method, url, token, contentType string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, data
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (s *stack) issue(t *testing.T, token string, req brokerapi.IssueRequest) (int, brokerapi.IssueResponse, brokerapi.Error) {
	t.Helper()
	code, _, body := call(t, http.MethodPost, s.url+brokerapi.PathIssue, token, "application/json", mustJSON(t, req))
	var ok brokerapi.IssueResponse
	var bad brokerapi.Error
	if code == http.StatusOK {
		if err := json.Unmarshal(body, &ok); err != nil {
			t.Fatalf("issue response %s: %v", body, err)
		}
	} else if err := json.Unmarshal(body, &bad); err != nil {
		t.Fatalf("error response %d %q: %v", code, body, err)
	}
	return code, ok, bad
}

func (s *stack) revoke(t *testing.T, token string, ids ...string) (int, brokerapi.RevokeResponse, brokerapi.Error) {
	t.Helper()
	code, _, body := call(t, http.MethodPost, s.url+brokerapi.PathRevoke, token, "application/json", mustJSON(t, brokerapi.RevokeRequest{LeaseIDs: ids}))
	var ok brokerapi.RevokeResponse
	var bad brokerapi.Error
	if code == http.StatusOK {
		if err := json.Unmarshal(body, &ok); err != nil {
			t.Fatalf("revoke response %s: %v", body, err)
		}
	} else if err := json.Unmarshal(body, &bad); err != nil {
		t.Fatalf("error response %d %q: %v", code, body, err)
	}
	return code, ok, bad
}

func (s *stack) leases(t *testing.T) []lease.Lease {
	t.Helper()
	ls, err := s.app.Leases.List(context.Background(), lease.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

func sshRequest(t *testing.T) brokerapi.IssueRequest {
	return brokerapi.IssueRequest{Issuer: "ssh", Role: "deploy", Principals: []string{"nobody"}, PublicKey: publicKey(t)}
}

func TestIssue(t *testing.T) {
	s := newStack(t, newEnv(t), nil)
	token := s.env.OIDC.Mint(t, oidctest.MintOptions{})
	code, resp, bad := s.issue(t, token, sshRequest(t))
	if code != http.StatusOK {
		t.Fatalf("issue: %d %+v", code, bad)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(resp.Outputs["certificate"]))
	if err != nil {
		t.Fatalf("certificate %q: %v", resp.Outputs["certificate"], err)
	}
	cert, ok := pub.(*ssh.Certificate)
	if !ok {
		t.Fatalf("certificate output is a %T", pub)
	}
	ca, _, _, _, err := ssh.ParseAuthorizedKey(s.env.CAPub)
	if err != nil {
		t.Fatal(err)
	}
	checker := ssh.CertChecker{IsUserAuthority: func(k ssh.PublicKey) bool { return bytes.Equal(k.Marshal(), ca.Marshal()) }}
	if err := checker.CheckCert("nobody", cert); err != nil {
		t.Fatalf("certificate does not verify with the CA: %v", err)
	}
	if len(resp.Secret) != 0 || resp.LeaseID == "" || time.Until(resp.ExpiresAt) <= 0 || time.Until(resp.ExpiresAt) > 10*time.Minute+time.Second {
		t.Fatalf("response %+v", resp)
	}
	l, err := s.app.Leases.Get(context.Background(), resp.LeaseID)
	if err != nil || l.State != lease.Active || l.Job.RunID != "987654321" || l.Credential.Serial != cert.Serial {
		t.Fatalf("lease %+v, %v", l, err)
	}

	// generate_key: the private key comes back, named secret.
	code, resp, bad = s.issue(t, s.env.OIDC.Mint(t, oidctest.MintOptions{}), brokerapi.IssueRequest{Issuer: "ssh", Role: "deploy", GenerateKey: true})
	if code != http.StatusOK || resp.Outputs["private-key"] == "" || len(resp.Secret) != 1 || resp.Secret[0] != "private-key" {
		t.Fatalf("generate_key: %d %+v %+v", code, resp.Secret, bad)
	}
}

// TestBadInput: each bad request gets its 4xx, and no lease is recorded
// and no token spent (the same good token still works afterwards).
func TestBadInput(t *testing.T) {
	s := newStack(t, newEnv(t), nil)
	good := s.env.OIDC.Mint(t, oidctest.MintOptions{})
	body := mustJSON(t, sshRequest(t))
	// This first issue also loads the CA key, which the ssh issuer's
	// principal checks need.
	spent := s.env.OIDC.Mint(t, oidctest.MintOptions{})
	if code, _, bad := s.issue(t, spent, sshRequest(t)); code != http.StatusOK {
		t.Fatalf("spending a token: %d %+v", code, bad)
	}
	before := len(s.leases(t))
	huge := append([]byte(`{"issuer":"ssh","role":"deploy","public_key":"`), bytes.Repeat([]byte("a"), brokerapi.MaxRequestBytes)...)
	huge = append(huge, `"}`...)
	tests := []struct {
		name        string
		method      string
		token       string
		contentType string
		body        []byte
		want        int
		wantMsg     string
	}{
		{"wrong method", http.MethodGet, good, "", nil, http.StatusMethodNotAllowed, "use POST"},
		{"put", http.MethodPut, good, "application/json", body, http.StatusMethodNotAllowed, "use POST"},
		{"oversized body", http.MethodPost, good, "application/json", huge, http.StatusRequestEntityTooLarge, "bytes"},
		{"malformed JSON", http.MethodPost, good, "application/json", []byte(`{"issuer":"ssh",`), http.StatusBadRequest, "malformed"},
		{"two objects", http.MethodPost, good, "application/json", append(append([]byte{}, body...), body...), http.StatusBadRequest, "after the object"},
		{"unknown field", http.MethodPost, good, "application/json", []byte(`{"issuer":"ssh","role":"deploy","generate_key":true,"admin":true}`), http.StatusBadRequest, "unknown field"},
		{"wrong type", http.MethodPost, good, "application/json", []byte(`{"issuer":"ssh","role":"deploy","ttl_seconds":"1h"}`), http.StatusBadRequest, "ttl_seconds"},
		{"not JSON", http.MethodPost, good, "text/plain", body, http.StatusUnsupportedMediaType, "application/json"},
		{"no key", http.MethodPost, good, "application/json", []byte(`{"issuer":"ssh","role":"deploy"}`), http.StatusBadRequest, "public_key"},
		{"negative ttl", http.MethodPost, good, "application/json", []byte(`{"issuer":"ssh","role":"deploy","generate_key":true,"ttl_seconds":-1}`), http.StatusBadRequest, "ttl_seconds"},
		{"unknown issuer", http.MethodPost, good, "application/json", []byte(`{"issuer":"vault","role":"deploy","generate_key":true}`), http.StatusBadRequest, "not configured"},
		{"unknown role", http.MethodPost, good, "application/json", []byte(`{"issuer":"ssh","role":"root","generate_key":true}`), http.StatusBadRequest, "not configured"},
		{"bad public key", http.MethodPost, good, "application/json", []byte(`{"issuer":"ssh","role":"deploy","public_key":"ssh-ed25519 AAAA"}`), http.StatusBadRequest, "public key"},
		{"principal not allowed", http.MethodPost, good, "application/json", []byte(`{"issuer":"ssh","role":"deploy","generate_key":true,"principals":["root"]}`), http.StatusBadRequest, "root"},
		{"missing token", http.MethodPost, "", "application/json", body, http.StatusUnauthorized, "Bearer"},
		{"garbage token", http.MethodPost, "not.a.token", "application/json", body, http.StatusUnauthorized, "malformed"},
		{"forged token", http.MethodPost, s.env.OIDC.MintBadSignature(t, oidctest.MintOptions{}), "application/json", body, http.StatusUnauthorized, "signature"},
		{"foreign key", http.MethodPost, s.env.OIDC.Mint(t, oidctest.MintOptions{Key: oidctest.KeyForeign}), "application/json", body, http.StatusUnauthorized, "not valid"},
		{"alg none", http.MethodPost, s.env.OIDC.MintNone(t, oidctest.MintOptions{}), "application/json", body, http.StatusUnauthorized, "not valid"},
		{"expired", http.MethodPost, s.env.OIDC.Mint(t, oidctest.MintOptions{Claims: map[string]any{"exp": time.Now().Add(-time.Hour).Unix(), "iat": time.Now().Add(-2 * time.Hour).Unix(), "nbf": time.Now().Add(-2 * time.Hour).Unix()}}), "application/json", body, http.StatusUnauthorized, "expired"},
		{"wrong audience", http.MethodPost, s.env.OIDC.Mint(t, oidctest.MintOptions{Claims: map[string]any{"aud": "other"}}), "application/json", body, http.StatusUnauthorized, "audience"},
		{"replayed", http.MethodPost, spent, "application/json", body, http.StatusUnauthorized, "already used"},
		{"denied", http.MethodPost, s.env.OIDC.Mint(t, oidctest.MintOptions{Claims: map[string]any{"ref": "refs/heads/feature"}}), "application/json", body, http.StatusForbidden, "denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, hdr, resp := call(t, tt.method, s.url+brokerapi.PathIssue, tt.token, tt.contentType, tt.body)
			if code != tt.want || !strings.Contains(string(resp), tt.wantMsg) {
				t.Fatalf("got %d %s, want %d containing %q", code, resp, tt.want, tt.wantMsg)
			}
			var e brokerapi.Error
			if err := json.Unmarshal(resp, &e); err != nil || e.Error == "" {
				t.Fatalf("body %q is not a brokerapi.Error: %v", resp, err)
			}
			if code == http.StatusUnauthorized && hdr.Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
			if tt.name == "denied" && len(e.Reasons) == 0 {
				t.Fatalf("403 without reasons: %s", resp)
			}
			if n := len(s.leases(t)); n != before {
				t.Fatalf("%d leases after the request, want %d", n, before)
			}
		})
	}
	// Nothing above spent the good token.
	if code, _, bad := s.issue(t, good, sshRequest(t)); code != http.StatusOK {
		t.Fatalf("the good token after the bad requests: %d %+v", code, bad)
	}
}

// krlRevokes says whether ssh-keygen finds the certificate revoked by
// the KRL the broker at url serves.
func krlRevokes(t *testing.T, url, cert string) bool {
	t.Helper()
	code, hdr, krl := call(t, http.MethodGet, url+brokerapi.PathKRL, "", "", nil)
	if code != http.StatusOK || hdr.Get("Content-Type") != "application/octet-stream" || hdr.Get("Cache-Control") != "no-store" {
		t.Fatalf("GET KRL: %d %v", code, hdr)
	}
	dir := t.TempDir()
	krlPath, certPath := filepath.Join(dir, "krl"), filepath.Join(dir, "id-cert.pub")
	if err := os.WriteFile(krlPath, krl, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certPath, []byte(cert+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ssh-keygen", "-Q", "-f", krlPath, certPath).CombinedOutput()
	switch {
	case strings.Contains(string(out), "REVOKED"):
		return true
	case err == nil && strings.Contains(string(out), ": ok"):
		return false
	}
	t.Fatalf("ssh-keygen -Q: %v\n%s", err, out)
	return false
}

func TestRevoke(t *testing.T) {
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Skip("no ssh-keygen")
	}
	s := newStack(t, newEnv(t), nil)
	// Two leases of this job, one of another run.
	mine, other := s.env.OIDC.Mint(t, oidctest.MintOptions{}), s.env.OIDC.Mint(t, oidctest.MintOptions{Claims: map[string]any{"run_id": "111"}})
	_, a, _ := s.issue(t, mine, sshRequest(t))
	_, b, _ := s.issue(t, s.env.OIDC.Mint(t, oidctest.MintOptions{}), sshRequest(t))
	code, theirs, bad := s.issue(t, other, sshRequest(t))
	if code != http.StatusOK || a.LeaseID == "" || b.LeaseID == "" {
		t.Fatalf("issuing: %d %+v", code, bad)
	}
	if krlRevokes(t, s.url, a.Outputs["certificate"]) {
		t.Fatal("the KRL revokes a live certificate")
	}
	sameRunOtherJob := s.env.OIDC.Mint(t, oidctest.MintOptions{Claims: map[string]any{"check_run_id": "999"}})
	for _, tt := range []struct {
		name  string
		token string
		ids   []string
		want  int
	}{
		{"another run's lease", mine, []string{a.LeaseID, theirs.LeaseID}, http.StatusForbidden},
		{"unknown lease", mine, []string{a.LeaseID, "0123456789abcdef0123456789abcdef"}, http.StatusForbidden},
		{"another job of the run", sameRunOtherJob, []string{a.LeaseID}, http.StatusForbidden},
		{"no token", "", []string{a.LeaseID}, http.StatusUnauthorized},
		{"forged token", s.env.OIDC.MintBadSignature(t, oidctest.MintOptions{}), []string{a.LeaseID}, http.StatusUnauthorized},
		{"no ids", mine, nil, http.StatusBadRequest},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, bad := s.revoke(t, tt.token, tt.ids...)
			if code != tt.want {
				t.Fatalf("got %d %+v, want %d", code, bad, tt.want)
			}
			if code == http.StatusForbidden && !strings.Contains(bad.Error, "not a lease of this job") && !strings.Contains(bad.Error, "no CI job") {
				t.Fatalf("403 message %q", bad.Error)
			}
			for _, l := range s.leases(t) {
				if l.State != lease.Active {
					t.Fatalf("lease %s is %s after a refused revoke", l.ID, l.State)
				}
			}
		})
	}
	// Revoking its own leases: the token (already spent on issue) proves the job.
	code, rr, bad := s.revoke(t, mine, a.LeaseID, b.LeaseID)
	if code != http.StatusOK || len(rr.Revoked) != 2 || len(rr.Skipped) != 0 {
		t.Fatalf("revoke: %d %+v %+v", code, rr, bad)
	}
	code, rr, bad = s.revoke(t, mine, a.LeaseID)
	if code != http.StatusOK || len(rr.Revoked) != 0 || len(rr.Skipped) != 1 {
		t.Fatalf("second revoke: %d %+v %+v", code, rr, bad)
	}
	if !krlRevokes(t, s.url, a.Outputs["certificate"]) || krlRevokes(t, s.url, theirs.Outputs["certificate"]) {
		t.Fatal("the served KRL does not revoke exactly the revoked certificates")
	}
	if l, _ := s.app.Leases.Get(context.Background(), theirs.LeaseID); l.State != lease.Active {
		t.Fatalf("the other job's lease is %s", l.State)
	}
	// One that another process is revoking right now: pending, and also
	// skipped for clients older than Pending.
	_, c, _ := s.issue(t, s.env.OIDC.Mint(t, oidctest.MintOptions{}), sshRequest(t))
	if _, err := s.app.Leases.Claim(context.Background(), c.LeaseID, time.Hour); err != nil {
		t.Fatalf("another revoker's Claim: %v", err)
	}
	code, rr, bad = s.revoke(t, mine, c.LeaseID)
	if code != http.StatusOK || len(rr.Revoked) != 0 || !slices.Equal(rr.Pending, []string{c.LeaseID}) || !slices.Equal(rr.Skipped, []string{c.LeaseID}) {
		t.Fatalf("revoke of a lease being revoked elsewhere: %d %+v %+v", code, rr, bad)
	}
}

func TestPublicMaterial(t *testing.T) {
	s := newStack(t, newEnv(t), nil)
	code, hdr, body := call(t, http.MethodGet, s.url+brokerapi.PathSSHCA, "", "", nil)
	served, _, _, _, err := ssh.ParseAuthorizedKey(body)
	if err != nil {
		t.Fatalf("SSH CA %q: %v", body, err)
	}
	ca, _, _, _, err := ssh.ParseAuthorizedKey(s.env.CAPub)
	if err != nil {
		t.Fatal(err)
	}
	if code != http.StatusOK || !bytes.Equal(served.Marshal(), ca.Marshal()) || !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain") {
		t.Fatalf("SSH CA: %d %v %q, want %q", code, hdr, body, s.env.CAPub)
	}
	for _, p := range []string{brokerapi.PathX509CA, brokerapi.PathCRL, "/v1/nothing"} {
		if code, _, body := call(t, http.MethodGet, s.url+p, "", "", nil); code != http.StatusNotFound {
			t.Fatalf("GET %s without x509: %d %s", p, code, body)
		}
	}
	if code, _, _ := call(t, http.MethodPost, s.url+brokerapi.PathKRL, "", "application/json", []byte("{}")); code != http.StatusMethodNotAllowed {
		t.Fatalf("POST KRL: %d", code)
	}
}

func TestRateLimit(t *testing.T) {
	s := newStack(t, newEnv(t), func(c *broker.Config) { c.RatePerSubject, c.Burst = rate.Every(time.Hour), 2 })
	for i := range 3 {
		code, hdr, body := call(t, http.MethodPost, s.url+brokerapi.PathIssue, s.env.OIDC.Mint(t, oidctest.MintOptions{}), "application/json", mustJSON(t, sshRequest(t)))
		want := http.StatusOK
		if i == 2 {
			want = http.StatusTooManyRequests
		}
		if code != want {
			t.Fatalf("request %d: %d %s, want %d", i, code, body, want)
		}
		if code == http.StatusTooManyRequests && hdr.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	}
	if n := len(s.leases(t)); n != 2 {
		t.Fatalf("%d leases, want 2", n)
	}
	// Another subject has its own budget.
	tok := s.env.OIDC.Mint(t, oidctest.MintOptions{Claims: map[string]any{"sub": "repo:org/app:environment:staging"}})
	if code, _, body := call(t, http.MethodPost, s.url+brokerapi.PathIssue, tok, "application/json", mustJSON(t, sshRequest(t))); code != http.StatusOK {
		t.Fatalf("another subject: %d %s", code, body)
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	s := newStack(t, newEnv(t), nil)
	s.srv.SetReady(false, "policy failed to load")
	if code, _, body := call(t, http.MethodGet, s.url+brokerapi.PathReady, "", "", nil); code != http.StatusServiceUnavailable || !strings.Contains(string(body), "policy failed to load") {
		t.Fatalf("readyz before ready: %d %s", code, body)
	}
	if code, _, _ := call(t, http.MethodGet, s.url+brokerapi.PathHealth, "", "", nil); code != http.StatusOK {
		t.Fatalf("healthz: %d", code)
	}
	s.srv.SetReady(true, "")
	if code, _, body := call(t, http.MethodGet, s.url+brokerapi.PathReady, "", "", nil); code != http.StatusOK {
		t.Fatalf("readyz: %d %s", code, body)
	}
	s.issue(t, s.env.OIDC.Mint(t, oidctest.MintOptions{}), sshRequest(t))
	s.issue(t, s.env.OIDC.Mint(t, oidctest.MintOptions{Claims: map[string]any{"ref": "refs/heads/x"}}), sshRequest(t))
	s.issue(t, s.env.OIDC.MintBadSignature(t, oidctest.MintOptions{}), sshRequest(t))
	s.srv.PolicyReloaded(false)
	_, _, body := call(t, http.MethodGet, s.url+brokerapi.PathMetrics, "", "", nil)
	for _, want := range []string{
		`jit_decisions_total{issuer="ssh",outcome="allowed"} 1`,
		`jit_decisions_total{issuer="ssh",outcome="denied"} 1`,
		`jit_issues_total{issuer="ssh",outcome="issued"} 1`,
		`jit_issues_total{issuer="ssh",outcome="denied"} 1`,
		`jit_issues_total{issuer="ssh",outcome="unauthorized"} 1`,
		`jit_revocations_total{issuer="ssh",outcome="revoked"} 0`,
		`jit_policy_reload_total{outcome="error"} 1`,
		`jit_request_duration_seconds_count{code="200",route="issue"} 1`,
		`jit_request_duration_seconds_count{code="401",route="issue"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", body)
	}
}

// TestLogsHoldNoSecrets: the request log names the subject and lease but
// never a token (or any part of one), a private key or a certificate.
func TestLogsHoldNoSecrets(t *testing.T) {
	s := newStack(t, newEnv(t), nil)
	token := s.env.OIDC.Mint(t, oidctest.MintOptions{})
	_, resp, _ := s.issue(t, token, brokerapi.IssueRequest{Issuer: "ssh", Role: "deploy", GenerateKey: true})
	s.issue(t, token, brokerapi.IssueRequest{Issuer: "ssh", Role: "deploy", GenerateKey: true}) // replayed
	forged := s.env.OIDC.MintBadSignature(t, oidctest.MintOptions{})
	s.issue(t, forged, sshRequest(t))
	s.revoke(t, token, resp.LeaseID)
	logs := s.logs.String()
	if !strings.Contains(logs, resp.LeaseID) || !strings.Contains(logs, "repo:org/app:environment:prod") || !strings.Contains(logs, `"decision_id"`) {
		t.Fatalf("the log lacks the lease, subject or decision:\n%s", logs)
	}
	secrets := map[string]string{"private key": resp.Outputs["private-key"], "certificate": resp.Outputs["certificate"]}
	for i, tok := range []string{token, forged} {
		for j, part := range strings.Split(tok, ".") {
			secrets["token part "+string(rune('0'+i))+string(rune('0'+j))] = part
		}
	}
	for name, v := range secrets {
		if v == "" {
			t.Fatalf("%s is empty", name)
		}
		if strings.Contains(logs, v) || strings.Contains(logs, strings.TrimSpace(strings.SplitN(v, "\n", 3)[min(1, strings.Count(v, "\n"))])) {
			t.Fatalf("the log holds the %s:\n%s", name, logs)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
	}
}

// TestTwoBrokersOneStore: two brokers on one PostgreSQL lease store see
// the same leases, revoke once, and serve the same revocations.
func TestTwoBrokersOneStore(t *testing.T) {
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Skip("no ssh-keygen")
	}
	dsn := pgtest.NewDatabase(t)
	t.Setenv("JIT_LEASES_DSN", dsn)
	envA := newEnv(t)
	envB := newEnv(t)
	// B trusts A's OIDC issuer and uses A's CA, as a second replica would.
	for _, e := range []*pipelinetest.Env{envA, envB} {
		cfg, err := os.ReadFile(e.Config)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Replace(string(cfg), "leases: file://leases.db", "leases: ${JIT_LEASES_DSN}", 1)
		text = strings.Replace(text, e.OIDC.URL(), envA.OIDC.URL(), 1)
		text = strings.ReplaceAll(text, "file://ca/", "file://"+filepath.Join(envA.Dir, "ca")+"/")
		pipelinetest.Write(t, e.Config, text)
	}
	a, b := newStack(t, envA, nil), newStack(t, envB, nil)
	token := envA.OIDC.Mint(t, oidctest.MintOptions{})
	code, issued, bad := a.issue(t, token, sshRequest(t))
	if code != http.StatusOK {
		t.Fatalf("issue via A: %d %+v", code, bad)
	}
	if code, _, bad := b.issue(t, token, sshRequest(t)); code != http.StatusUnauthorized {
		t.Fatalf("replaying A's token on B: %d %+v", code, bad)
	}
	for name, s := range map[string]*stack{"A": a, "B": b} {
		ls := s.leases(t)
		if len(ls) != 1 || ls[0].ID != issued.LeaseID {
			t.Fatalf("leases listed by %s: %+v", name, ls)
		}
	}
	if code, rr, bad := b.revoke(t, token, issued.LeaseID); code != http.StatusOK || len(rr.Revoked) != 1 {
		t.Fatalf("revoke via B: %d %+v %+v", code, rr, bad)
	}
	if code, rr, bad := a.revoke(t, token, issued.LeaseID); code != http.StatusOK || len(rr.Revoked) != 0 || len(rr.Skipped) != 1 {
		t.Fatalf("revoke again via A: %d %+v %+v", code, rr, bad)
	}
	for name, s := range map[string]*stack{"A": a, "B": b} {
		if !krlRevokes(t, s.url, issued.Outputs["certificate"]) {
			t.Fatalf("the KRL served by %s does not revoke the certificate", name)
		}
	}
}

// next returns the next index of a shared counter.
func next(i *int64) int64 { return atomic.AddInt64(i, 1) - 1 }
