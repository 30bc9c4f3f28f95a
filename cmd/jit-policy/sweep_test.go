package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/oidctest"
)

// fakeGitHub answers GET /repos/{owner}/{repo}/check-runs/{id} with
// GitHub's real check-run payloads (internal/jobstate/testdata/github),
// completed or in progress as the test sets it.
type fakeGitHub struct {
	mu        sync.Mutex
	completed map[string]bool
}

func (f *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := filepath.Base(r.URL.Path)
	if !strings.Contains(r.URL.Path, "/check-runs/") {
		http.NotFound(w, r)
		return
	}
	f.mu.Lock()
	done := f.completed[id]
	f.mu.Unlock()
	name := "check-run-in-progress.json"
	if done {
		name = "check-run-completed-success.json"
	}
	body, err := os.ReadFile(filepath.Join("..", "..", "internal", "jobstate", "testdata", "github", name))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// TestSweepRevokesEndedJobs: a job that ended without its post step has
// its lease revoked by the next sweep once GitHub reports the check run
// completed; a running job's lease is left alone.
func TestSweepRevokesEndedJobs(t *testing.T) {
	gh := &fakeGitHub{completed: map[string]bool{}}
	api := httptest.NewServer(gh)
	defer api.Close()
	e := newPipelineEnv(t, "")
	cfg, err := os.ReadFile(e.config)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, e.config, string(cfg)+fmt.Sprintf("ci:\n  github: {api_url: %s/, token: test-token}\n", api.URL))

	issue := func(checkRun string) string {
		tok := e.oidc.Mint(t, oidctest.MintOptions{Claims: map[string]any{"check_run_id": checkRun}})
		code, out, errOut := e.issue(t, tok, func(p *issueParams) { p.generateKey = true; p.outDir = filepath.Join(e.dir, "k"+checkRun) })
		if code != 0 {
			t.Fatalf("issue: exit %d\n%s", code, errOut)
		}
		return strings.TrimSpace(out)
	}
	ended, running := issue("1001"), issue("1002")
	gh.mu.Lock()
	gh.completed["1001"] = true
	gh.mu.Unlock()

	var out bytes.Buffer
	if code := runSweep(context.Background(), sweepParams{config: e.config, grace: 0, out: &out, err: os.Stderr}); code != 0 {
		t.Fatalf("sweep: exit %d\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "revoked "+ended+" (check run 1001 completed") {
		t.Errorf("sweep output lacks the ended job's lease and reason:\n%s", out.String())
	}
	for _, l := range e.allLeases(t) {
		want := lease.Active
		if l.ID == ended {
			want = lease.Revoked
		}
		if l.State != want {
			t.Errorf("lease %s (running=%v) is %s, want %s", l.ID, l.ID == running, l.State, want)
		}
	}
}
