package jobstate

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
)

// GitLab paths carry the project path URL-escaped, as GitLab requires.
const (
	glJob = "/gl/api/v4/projects/group%2Fsub%2Fproj/jobs/8"
	glMR  = "/gl/api/v4/projects/group%2Fsub%2Fproj/merge_requests/1"
)

func TestGitLab(t *testing.T) {
	mr := lease.Lease{ID: "l-mr", Job: lease.Job{Provider: "gitlab", Repository: "group/sub/proj"}, PR: 1}
	noJobID := glLease("", time.Hour)

	runCases(t, []checkCase{
		{name: "running job left alone", lease: glLease("8", time.Hour),
			replies: map[string][]reply{glJob: ok("gitlab/job-running.json")},
			reason:  "job 8 running", hits: 1},
		{name: "canceled job ended", lease: glLease("8", time.Hour),
			replies: map[string][]reply{glJob: ok("gitlab/job-canceled.json")},
			ended:   true, reason: "job 8 canceled", hits: 1},
		{name: "failed job ended with its reason", lease: glLease("8", time.Hour),
			replies: map[string][]reply{glJob: ok("gitlab/job-failed.json")},
			ended:   true, reason: "job 8 failed (script_failure)", hits: 1},
		{name: "successful job ended", lease: glLease("8", time.Hour),
			replies: map[string][]reply{glJob: ok("gitlab/job-success.json")},
			ended:   true, reason: "job 8 success", hits: 1},
		{name: "JOB-TOKEN header", lease: glLease("8", time.Hour),
			config:  func(c *Config) { c.GitLabTokenHeader = "JOB-TOKEN" },
			replies: map[string][]reply{glJob: ok("gitlab/job-running.json")},
			reason:  "job 8 running", hits: 1},
		{name: "unknown recent job not ended", lease: glLease("8", 23*time.Hour),
			replies: map[string][]reply{glJob: {status(404, "gitlab/not-found.json")}},
			reason:  "job 8 unknown for 23h, not past GitLab's 24h job limit + 1h margin", hits: 1},
		{name: "unknown old job ended", lease: glLease("8", 26*time.Hour),
			replies: map[string][]reply{glJob: {status(404, "gitlab/not-found.json")}},
			ended:   true, reason: "job 8 unknown for 26h, past GitLab's 24h job limit", hits: 1},
		{name: "unknown job past a configured limit", lease: glLease("8", 4*time.Hour+time.Second),
			config:  func(c *Config) { c.GitLabMaxJobTime = 3 * time.Hour },
			replies: map[string][]reply{glJob: {status(404, "gitlab/not-found.json")}},
			ended:   true, reason: "past GitLab's 3h job limit", hits: 1},
		{name: "MR closed unmerged ended", lease: mr,
			replies: map[string][]reply{glMR: ok("gitlab/mr-closed.json")},
			ended:   true, reason: "MR !1 closed without merge", hits: 1},
		{name: "MR merged not ended", lease: mr,
			replies: map[string][]reply{glMR: ok("gitlab/mr-merged.json")},
			reason:  "MR !1 merged", hits: 1},
		{name: "5xx then 200 retried", lease: glLease("8", time.Hour),
			replies: map[string][]reply{glJob: {status(500, ""), status(200, "gitlab/job-canceled.json")}},
			ended:   true, reason: "job 8 canceled", hits: 2},
		{name: "429 then 200 retried", lease: glLease("8", time.Hour),
			replies: map[string][]reply{glJob: {
				{status: 429, header: map[string]string{"Retry-After": "1"}},
				status(200, "gitlab/job-running.json")}},
			reason: "job 8 running", hits: 2},
		{name: "5xx throughout fails after 3 attempts", lease: glLease("8", time.Hour),
			replies: map[string][]reply{glJob: {status(503, "")}},
			err:     "gitlab: job 8 in group/sub/proj: HTTP 503", hits: 3},
		{name: "401 is an error, not retried", lease: glLease("8", 30*time.Hour),
			replies: map[string][]reply{glJob: {status(401, "gitlab/unauthorized.json")}},
			err:     "gitlab: job 8 in group/sub/proj: HTTP 401: 401 Unauthorized", hits: 1},
		{name: "answer about another job is an error", lease: glLease("9", time.Hour),
			replies: map[string][]reply{"/gl/api/v4/projects/group%2Fsub%2Fproj/jobs/9": ok("gitlab/job-canceled.json")},
			err:     "answered with job 8", hits: 1},
		{name: "job without id not ended", lease: noJobID, reason: "no GitLab job id", hits: 0},
	})
}

// TestGitLabErrorsHideToken: a body that echoes the token does not carry
// it into the error.
func TestGitLabErrorsHideToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"message":"token ` + r.Header.Get("PRIVATE-TOKEN") + ` lacks read_api"}`))
	}))
	defer srv.Close()
	c, err := New(Config{GitLabAPI: srv.URL + "/api/v4", GitLabToken: glToken, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Ended(context.Background(), glLease("8", time.Hour))
	if err == nil || strings.Contains(err.Error(), glToken) || !strings.Contains(err.Error(), "HTTP 403") {
		t.Errorf("error = %v, want HTTP 403 without the token", err)
	}
}

// TestRedirectKeepsToken: a redirect to another host is refused, so the
// PRIVATE-TOKEN header never reaches it.
func TestRedirectKeepsToken(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("PRIVATE-TOKEN") != "" {
			t.Errorf("the token reached the other host")
		}
		w.Write([]byte(`{"id":8,"status":"success"}`))
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+r.URL.Path, http.StatusFound)
	}))
	defer srv.Close()
	c, err := New(Config{GitLabAPI: srv.URL + "/api/v4/", GitLabToken: glToken})
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.Ended(context.Background(), glLease("8", time.Hour))
	if err == nil || !strings.Contains(err.Error(), "refusing the redirect") || v.Ended {
		t.Errorf("Ended = %+v, %v; want the redirect refused", v, err)
	}
}

// TestOversizedBody: a body past MaxResponseBytes is an error, not
// retried.
func TestOversizedBody(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		w.Write([]byte(`{"id":8,"status":"success","pad":"`))
		w.Write([]byte(strings.Repeat("x", MaxResponseBytes)))
		w.Write([]byte(`"}`))
	}))
	defer srv.Close()
	c, err := New(Config{GitLabAPI: srv.URL + "/api/v4/", HTTPClient: srv.Client(), Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.Ended(context.Background(), glLease("8", time.Hour))
	if err == nil || !strings.Contains(err.Error(), "larger than") || v.Ended || hits != 1 {
		t.Errorf("Ended = %+v, %v after %d requests; want one oversized-body error", v, err, hits)
	}
}

func TestNewRejects(t *testing.T) {
	for _, cfg := range []Config{
		{GitHubAPI: "api.github.com"},
		{GitLabAPI: "ftp://gitlab.com/api/v4/"},
		{GitLabTokenHeader: "Authorization"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded, want an error", cfg)
		}
	}
}
