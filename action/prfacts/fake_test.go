package prfacts

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/config"
)

// Test constants: the token the fake expects, the head and an older
// commit of acme/widgets PR #42, and the fake clock.
const (
	token   = "ghs_FAKEprfactsTOKEN0123456789"
	headSHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
	oldSHA  = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
	apiBase = "/api/v3"
	prPath  = apiBase + "/repos/acme/widgets/pulls/42"
)

var now = time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)

// handler answers one API path.
type handler func(w http.ResponseWriter, r *http.Request)

// fakeGitHub is an httptest server answering GitHub's REST paths (by
// escaped path) with GitHub's response shapes from testdata.
type fakeGitHub struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	routes map[string]handler
	hits   map[string]int
}

func newFakeGitHub(t *testing.T) *fakeGitHub {
	t.Helper()
	f := &fakeGitHub{t: t, routes: map[string]handler{}, hits: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	p := r.URL.EscapedPath()
	f.mu.Lock()
	f.hits[p]++
	h, ok := f.routes[p]
	f.mu.Unlock()
	if got := r.Header.Get("Authorization"); got != "Bearer "+token {
		f.t.Errorf("%s: Authorization %q, want the token", p, got)
	}
	if !ok {
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL)
		reply(w, http.StatusNotFound, fixture(f.t, "notfound.json"), nil)
		return
	}
	h(w, r)
}

func (f *fakeGitHub) hit(p string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[p]
}

// client returns a Client for f with fast retries.
func (f *fakeGitHub) client(t *testing.T) *Client {
	t.Helper()
	c, err := New(config.PullRequests{APIURL: f.srv.URL + apiBase}, token, f.srv.Client())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	c.retry.Backoff = time.Millisecond
	c.retry.MaxWait = 5 * time.Second
	return c
}

// reply writes a JSON answer as GitHub does.
func reply(w http.ResponseWriter, status int, body []byte, header map[string]string) {
	for k, v := range header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-GitHub-Media-Type", "github.v3; format=json")
	w.WriteHeader(status)
	w.Write(body)
}

// static answers status with body.
func static(status int, body []byte) handler {
	return func(w http.ResponseWriter, r *http.Request) { reply(w, status, body, nil) }
}

// paged answers the pages of a list (by the page query parameter, first
// page by default) with GitHub's Link header.
func paged(pages ...[]byte) handler {
	return func(w http.ResponseWriter, r *http.Request) {
		n := 1
		if p := r.URL.Query().Get("page"); p != "" {
			fmt.Sscan(p, &n)
		}
		if n < 1 || n > len(pages) {
			reply(w, http.StatusOK, []byte("[]"), nil)
			return
		}
		link := func(page int, rel string) string {
			u := *r.URL
			q := u.Query()
			q.Set("page", fmt.Sprint(page))
			u.RawQuery = q.Encode()
			return fmt.Sprintf("<http://%s%s>; rel=%q", r.Host, u.String(), rel)
		}
		var links []string
		if n > 1 {
			links = append(links, link(n-1, "prev"), link(1, "first"))
		}
		if n < len(pages) {
			links = append(links, link(n+1, "next"), link(len(pages), "last"))
		}
		h := map[string]string{}
		if len(links) > 0 {
			h["Link"] = strings.Join(links, ", ")
		}
		reply(w, http.StatusOK, pages[n-1], h)
	}
}

// fixture reads testdata/name.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return data
}

// object decodes a JSON object fixture to edit.
func object(t testing.TB, name string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(fixture(t, name), &m); err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	return m
}

func encode(t testing.TB, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// user is a GitHub user object for login (the shape the fixtures use).
func user(login string, id int) map[string]any {
	return map[string]any{"login": login, "id": id, "node_id": "MDQ6VXNlcj" + fmt.Sprint(id),
		"avatar_url": fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", id), "gravatar_id": "",
		"url": "https://api.github.com/users/" + login, "html_url": "https://github.com/" + login,
		"type": "User", "site_admin": false}
}

// review is the review fixture by login with state on commit at hh:mm on
// the test day.
func review(t testing.TB, id int, login, state, commit, at string) map[string]any {
	r := object(t, "review.json")
	r["id"] = id
	r["user"] = user(login, 1000+id)
	r["state"] = state
	r["commit_id"] = commit
	r["submitted_at"] = "2026-05-04T" + at + ":00Z"
	return r
}

// commit is the commit fixture with the given author and committer
// logins ("" for a git identity linked to no account).
func commit(t testing.TB, sha, author, committer string) map[string]any {
	c := object(t, "commit.json")
	c["sha"] = sha
	c["author"], c["committer"] = nil, nil
	if author != "" {
		c["author"] = user(author, 3000+len(author))
	}
	if committer != "" {
		c["committer"] = user(committer, 4000+len(committer))
	}
	return c
}
