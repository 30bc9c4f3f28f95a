package jobstate

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
)

// Tokens the fake server expects; no error may contain them.
const (
	ghToken = "ghs_FAKEgithubTOKEN0123456789"
	glToken = "glpat-FAKEgitlabTOKEN0123"
)

// reply is one canned answer: a status, a fixture under testdata/ and
// headers.
type reply struct {
	status int
	file   string
	header map[string]string
}

// fake is an httptest server answering GitHub's and GitLab's API paths
// (by escaped path) with canned replies, in order; the last one repeats.
type fake struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	replies map[string][]reply
	hits    map[string]int
}

func newFake(t *testing.T, replies map[string][]reply) *fake {
	t.Helper()
	f := &fake{t: t, replies: replies, hits: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	f.mu.Lock()
	n := f.hits[path]
	f.hits[path]++
	rs, ok := f.replies[path]
	f.mu.Unlock()
	switch {
	case len(path) > 4 && path[:4] == "/gh/":
		if got := r.Header.Get("Authorization"); got != "Bearer "+ghToken {
			f.t.Errorf("%s: Authorization %q, want the GitHub token", path, got)
		}
	case len(path) > 4 && path[:4] == "/gl/":
		if r.Header.Get("PRIVATE-TOKEN") != glToken && r.Header.Get("JOB-TOKEN") != glToken {
			f.t.Errorf("%s: no GitLab token header", path)
		}
	}
	if !ok {
		f.t.Errorf("unexpected request %s %s", r.Method, path)
		http.NotFound(w, r)
		return
	}
	rep := rs[min(n, len(rs)-1)]
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	body := []byte{}
	if rep.file != "" {
		var err error
		if body, err = os.ReadFile(filepath.Join("testdata", rep.file)); err != nil {
			f.t.Errorf("fixture: %v", err)
		}
	}
	w.WriteHeader(rep.status)
	w.Write(body)
}

func (f *fake) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, h := range f.hits {
		n += h
	}
	return n
}

// now is the fake clock of the tests.
var now = time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)

// newChecker returns a Checker for f with fast retries.
func newChecker(t *testing.T, f *fake, edit func(*Config)) *Checker {
	t.Helper()
	cfg := Config{
		GitHubAPI: f.srv.URL + "/gh/", GitHubToken: ghToken,
		GitLabAPI: f.srv.URL + "/gl/api/v4/", GitLabToken: glToken,
		HTTPClient: f.srv.Client(), Now: func() time.Time { return now },
		Backoff: time.Millisecond, MaxRetryAfter: 20 * time.Millisecond,
	}
	if edit != nil {
		edit(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// ok, file and status build replies.
func ok(file string) []reply { return []reply{{status: 200, file: file}} }

func status(code int, file string) reply { return reply{status: code, file: file} }

// ghLease is a GitHub job lease issued age ago.
func ghLease(jobID string, age time.Duration) lease.Lease {
	return lease.Lease{ID: "l-gh", Job: lease.Job{Provider: "github", Repository: "acme/widgets",
		RunID: "30433642", Attempt: "2", JobID: jobID}, IssuedAt: now.Add(-age), ExpiresAt: now.Add(time.Hour)}
}

// glLease is a GitLab job lease issued age ago.
func glLease(jobID string, age time.Duration) lease.Lease {
	return lease.Lease{ID: "l-gl", Job: lease.Job{Provider: "gitlab", Repository: "group/sub/proj",
		RunID: "6", JobID: jobID}, IssuedAt: now.Add(-age), ExpiresAt: now.Add(time.Hour)}
}
