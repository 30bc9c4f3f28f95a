package main

import (
	"bytes"
	"encoding/json"
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

	"github.com/jit-policy/jit-policy/internal/brokerapi"
)

const brokerTestToken = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJicm9rZXItdGVzdCJ9.c2ln"

// fakeBrokerCLI is a canned broker: it records each request and answers
// issue with issueStatus (200: a certificate and, with generate_key, a
// secret private key), revoke with the ids it was given.
type fakeBrokerCLI struct {
	srv         *httptest.Server
	mu          sync.Mutex
	paths       []string
	auths       []string
	bodies      []string
	issueStatus int
	issueErr    brokerapi.Error
	revokeSkip  bool
	// revokePending answers revoke with the ids pending (and, as brokers
	// do, skipped).
	revokePending bool
}

func newFakeBrokerCLI(t *testing.T) *fakeBrokerCLI {
	f := &fakeBrokerCLI{issueStatus: 200}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeBrokerCLI) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.paths = append(f.paths, r.Method+" "+r.URL.RequestURI())
	f.auths = append(f.auths, r.Header.Get("Authorization"))
	f.bodies = append(f.bodies, string(body))
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case brokerapi.PathIssue:
		if f.issueStatus != 200 {
			w.WriteHeader(f.issueStatus)
			_ = json.NewEncoder(w).Encode(f.issueErr)
			return
		}
		var req brokerapi.IssueRequest
		_ = json.Unmarshal(body, &req)
		exp := time.Date(2030, 1, 1, 0, 10, 0, 0, time.UTC)
		res := brokerapi.IssueResponse{LeaseID: "lease-b1", ExpiresAt: exp, Outputs: map[string]string{
			"lease-id": "lease-b1", "expires-at": exp.Format(time.RFC3339), "certificate": "ssh-ed25519-cert-v01@openssh.com AAAAfake",
		}}
		if req.GenerateKey {
			res.Outputs["private-key"] = "-----BEGIN OPENSSH PRIVATE KEY-----\nsecretline1\nsecretline2\n-----END OPENSSH PRIVATE KEY-----\n"
			res.Secret = []string{"private-key"}
		}
		_ = json.NewEncoder(w).Encode(res)
	case brokerapi.PathRevoke:
		var req brokerapi.RevokeRequest
		_ = json.Unmarshal(body, &req)
		if f.revokeSkip {
			_ = json.NewEncoder(w).Encode(brokerapi.RevokeResponse{Skipped: req.LeaseIDs})
			return
		}
		if f.revokePending {
			_ = json.NewEncoder(w).Encode(brokerapi.RevokeResponse{Skipped: req.LeaseIDs, Pending: req.LeaseIDs})
			return
		}
		_ = json.NewEncoder(w).Encode(brokerapi.RevokeResponse{Revoked: req.LeaseIDs})
	default:
		w.WriteHeader(404)
		_ = json.NewEncoder(w).Encode(brokerapi.Error{Error: "not found"})
	}
}

func (f *fakeBrokerCLI) requests() (paths, auths, bodies []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.paths), slices.Clone(f.auths), slices.Clone(f.bodies)
}

// brokerIssue runs `issue --broker` with a token file and a config that
// does not exist (nothing local may be opened).
func brokerIssue(t *testing.T, f *fakeBrokerCLI, env map[string]string, mod func(*issueParams)) (int, string, string) {
	t.Helper()
	dir := t.TempDir()
	tok := filepath.Join(dir, "token")
	mustWrite(t, tok, brokerTestToken+"\n")
	var out, errOut bytes.Buffer
	p := issueParams{config: filepath.Join(dir, "missing.yaml"), issuer: "ssh", role: "deploy", generateKey: true, tokenFile: tok,
		format: "text", broker: f.srv.URL, getenv: func(k string) string { return env[k] }, out: &out, err: &errOut}
	if mod != nil {
		mod(&p)
	}
	code := runIssue(t.Context(), p)
	return code, out.String(), errOut.String()
}

func TestBrokerIssueCLI(t *testing.T) {
	f := newFakeBrokerCLI(t)
	code, out, errOut := brokerIssue(t, f, map[string]string{"GITHUB_ACTIONS": "true"}, func(p *issueParams) {
		p.format, p.ttl, p.principals = "json", 5*time.Minute, []string{"deploy"}
	})
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := []string{"::add-mask::-----BEGIN OPENSSH PRIVATE KEY-----", "::add-mask::secretline1", "::add-mask::secretline2", "::add-mask::-----END OPENSSH PRIVATE KEY-----"}
	if len(lines) != 5 || !slices.Equal(lines[:4], want) {
		t.Fatalf("stdout:\n%s", out)
	}
	var got struct {
		LeaseID   string            `json:"lease_id"`
		ExpiresAt string            `json:"expires_at"`
		Outputs   map[string]string `json:"outputs"`
	}
	if err := json.Unmarshal([]byte(lines[4]), &got); err != nil {
		t.Fatal(err)
	}
	if got.LeaseID != "lease-b1" || got.ExpiresAt != "2030-01-01T00:10:00Z" || got.Outputs["certificate"] == "" || got.Outputs["lease-id"] != "lease-b1" || !strings.Contains(got.Outputs["private-key"], "secretline1") {
		t.Fatalf("json %+v", got)
	}
	paths, auths, bodies := f.requests()
	if !slices.Equal(paths, []string{"POST " + brokerapi.PathIssue}) || auths[0] != "Bearer "+brokerTestToken {
		t.Fatalf("requests %v %v", paths, auths)
	}
	var req brokerapi.IssueRequest
	if err := json.Unmarshal([]byte(bodies[0]), &req); err != nil {
		t.Fatal(err)
	}
	if req.Issuer != "ssh" || req.Role != "deploy" || req.TTLSeconds != 300 || !slices.Equal(req.Principals, []string{"deploy"}) || !req.GenerateKey || strings.Contains(bodies[0], brokerTestToken) {
		t.Fatalf("request body %s", bodies[0])
	}
}

func TestBrokerIssueCLIPublicKeyFiles(t *testing.T) {
	f := newFakeBrokerCLI(t)
	dir := t.TempDir()
	pub := filepath.Join(dir, "deploy_key.pub")
	mustWrite(t, pub, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGnb7pKfRyT4wOdE1w0s9V8Qm3l0I2rW6yjd8cHqL0F0 ci\n")
	code, out, errOut := brokerIssue(t, f, nil, func(p *issueParams) { p.generateKey, p.publicKey = false, pub })
	if code != exitOK || strings.TrimSpace(out) != "lease-b1" {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	if got := mustRead(t, filepath.Join(dir, "deploy_key-cert.pub")); got != "ssh-ed25519-cert-v01@openssh.com AAAAfake" {
		t.Fatalf("certificate file %q", got)
	}
	_, _, bodies := f.requests()
	var req brokerapi.IssueRequest
	if err := json.Unmarshal([]byte(bodies[0]), &req); err != nil || !strings.HasPrefix(req.PublicKey, "ssh-ed25519 ") || req.GenerateKey {
		t.Fatalf("request body %s: %v", bodies[0], err)
	}
}

// TestBrokerIssueCLIRunnerToken requests the token from a (loopback)
// runner endpoint with --audience.
func TestBrokerIssueCLIRunnerToken(t *testing.T) {
	f := newFakeBrokerCLI(t)
	var gotAud string
	runner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAud = r.URL.Query().Get("audience")
		_ = json.NewEncoder(w).Encode(map[string]string{"value": brokerTestToken})
	}))
	defer runner.Close()
	env := map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": runner.URL + "/token?api-version=2.0", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "req"}
	code, _, errOut := brokerIssue(t, f, env, func(p *issueParams) { p.tokenFile, p.audience = "", "jit-broker" })
	if code != exitOK || gotAud != "jit-broker" {
		t.Fatalf("exit %d, audience %q\n%s", code, gotAud, errOut)
	}
	if _, auths, _ := f.requests(); auths[0] != "Bearer "+brokerTestToken {
		t.Fatalf("Authorization %q", auths[0])
	}
	// Without --audience there is no config to take it from.
	code, _, errOut = brokerIssue(t, f, env, func(p *issueParams) { p.tokenFile = "" })
	if code != exitError || !strings.Contains(errOut, "--audience") {
		t.Fatalf("no audience: exit %d\n%s", code, errOut)
	}
}

func TestBrokerIssueCLIFailures(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     brokerapi.Error
		mod      func(*issueParams)
		code     int
		want     []string
		requests int
	}{
		{name: "denied", status: 403, body: brokerapi.Error{Error: "denied by policy", Reasons: []string{"ref refs/heads/dev is not refs/heads/main", "environment dev is not prod"}},
			code: exitDenied, want: []string{"denied: ref refs/heads/dev is not refs/heads/main\n", "denied: environment dev is not prod\n"}, requests: 1},
		{name: "denied without reasons", status: 403, body: brokerapi.Error{Error: "token already used"}, code: exitDenied, want: []string{"denied: token already used\n"}, requests: 1},
		{name: "broker error", status: 500, body: brokerapi.Error{Error: "internal error"}, code: exitError, want: []string{"broker answered 500: internal error"}, requests: 1},
		{name: "bad token", status: 401, body: brokerapi.Error{Error: "token expired"}, code: exitError, want: []string{"broker answered 401: token expired"}, requests: 1},
		{name: "http to a remote host", mod: func(p *issueParams) { p.broker = "http://example.com" }, code: exitError, want: []string{"must be https"}},
		{name: "dry run", mod: func(p *issueParams) { p.dryRun = true }, code: exitError, want: []string{"--dry-run is not available with --broker"}},
		{name: "no key", mod: func(p *issueParams) { p.generateKey = false }, code: exitError, want: []string{"--public-key"}},
		{name: "fractional ttl", mod: func(p *issueParams) { p.ttl = 1500 * time.Millisecond }, code: exitError, want: []string{"whole seconds"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeBrokerCLI(t)
			f.issueStatus, f.issueErr = tc.status, tc.body
			if tc.status == 0 {
				f.issueStatus = 200
			}
			code, out, errOut := brokerIssue(t, f, nil, tc.mod)
			if code != tc.code || out != "" {
				t.Fatalf("exit %d, want %d\nstdout %s\nstderr %s", code, tc.code, out, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Fatalf("stderr %q lacks %q", errOut, w)
				}
			}
			if strings.Contains(errOut, brokerTestToken) {
				t.Fatalf("stderr holds the token")
			}
			if paths, _, _ := f.requests(); len(paths) != tc.requests {
				t.Fatalf("%d requests, want %d", len(paths), tc.requests)
			}
		})
	}
}

func TestBrokerRevokeCLI(t *testing.T) {
	dir := t.TempDir()
	tok := filepath.Join(dir, "token")
	mustWrite(t, tok, brokerTestToken)
	tests := []struct {
		name     string
		p        revokeParams
		skip     bool
		pending  bool
		stop     bool
		code     int
		want     string
		requests int
	}{
		{name: "revoked", p: revokeParams{leaseID: "lease-b1", tokenFile: tok}, code: exitOK, want: "revoked lease-b1\n", requests: 1},
		{name: "already revoked", p: revokeParams{leaseID: "lease-b1", tokenFile: tok}, skip: true, code: exitOK, want: "skipped lease-b1 (already revoked)\n", requests: 1},
		{name: "being revoked elsewhere", p: revokeParams{leaseID: "lease-b1", tokenFile: tok}, pending: true, code: exitOK, want: "pending lease-b1: being revoked by another process (the sweep finishes it if that one died)\n", requests: 1},
		{name: "token from a variable", p: revokeParams{leaseID: "lease-b1", tokenEnv: "JIT_TOKEN"}, code: exitOK, want: "revoked lease-b1\n", requests: 1},
		{name: "broker down", p: revokeParams{leaseID: "lease-b1", tokenFile: tok}, stop: true, code: exitLeftUnrevoked, want: "left unrevoked"},
		{name: "job with broker", p: revokeParams{job: "org/app/1/1", tokenFile: tok}, code: exitUsage, want: "--broker revokes one --lease ID"},
		{name: "no token", p: revokeParams{leaseID: "lease-b1"}, code: exitUsage, want: "give --token FILE"},
		{name: "not https", p: revokeParams{leaseID: "lease-b1", tokenFile: tok, broker: "http://jit.example.com"}, code: exitUsage, want: "must be https"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeBrokerCLI(t)
			f.revokeSkip, f.revokePending = tc.skip, tc.pending
			var out, errOut bytes.Buffer
			p := tc.p
			if p.broker == "" {
				p.broker = f.srv.URL
			}
			p.out, p.err = &out, &errOut
			p.getenv = func(k string) string {
				if k == "JIT_TOKEN" {
					return brokerTestToken
				}
				return ""
			}
			if tc.stop {
				f.srv.Close()
			}
			code := runRevoke(t.Context(), p)
			if code != tc.code || !strings.Contains(out.String()+errOut.String(), tc.want) {
				t.Fatalf("exit %d, want %d\nstdout %s\nstderr %s\nwant %q", code, tc.code, out.String(), errOut.String(), tc.want)
			}
			paths, auths, bodies := f.requests()
			if len(paths) != tc.requests {
				t.Fatalf("%d requests, want %d", len(paths), tc.requests)
			}
			if tc.requests == 1 && (paths[0] != "POST "+brokerapi.PathRevoke || auths[0] != "Bearer "+brokerTestToken || bodies[0] != `{"lease_ids":["lease-b1"]}`) {
				t.Fatalf("request %s %s %s", paths[0], auths[0], bodies[0])
			}
		})
	}
	// Token flags belong to --broker.
	var errOut bytes.Buffer
	if code := runRevoke(t.Context(), revokeParams{leaseID: "x", tokenFile: tok, out: io.Discard, err: &errOut}); code != exitUsage || !strings.Contains(errOut.String(), "go with --broker") {
		t.Fatalf("token without broker: exit %d %s", code, errOut.String())
	}
	_ = os.Remove(tok)
}
