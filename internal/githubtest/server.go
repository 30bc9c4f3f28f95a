// Package githubtest is a test fake of GitHub's REST API: a stateful
// httptest server that answers, with GitHub's real response shapes (field
// names and nesting as in docs.github.com/rest), the endpoints the
// pull-request access-request flow calls:
//
//	GET   /repos/{owner}/{repo}/pulls/{number}
//	GET   /repos/{owner}/{repo}/pulls/{number}/files       (paginated)
//	GET   /repos/{owner}/{repo}/pulls/{number}/reviews     (paginated)
//	GET   /repos/{owner}/{repo}/pulls/{number}/commits     (paginated)
//	GET   /repos/{owner}/{repo}/contents/{path}?ref=
//	GET   /orgs/{org}/teams/{slug}
//	GET   /orgs/{org}/teams/{slug}/members                  (paginated)
//	GET   /orgs/{org}/teams/{slug}/memberships/{username}
//	GET   /users/{username}/keys                            (paginated)
//	POST  /repos/{owner}/{repo}/check-runs
//	PATCH /repos/{owner}/{repo}/check-runs/{id}
//	GET   /repos/{owner}/{repo}/issues/{number}/comments    (paginated)
//	POST  /repos/{owner}/{repo}/issues/{number}/comments
//	PATCH /repos/{owner}/{repo}/issues/comments/{id}
//	POST  /repos/{owner}/{repo}/statuses/{sha}
//
// Every path lives under the GitHub Enterprise Server style prefix
// /api/v3/ ([Server.URL]), so go-github's BaseURL or WithEnterpriseURLs
// and prfacts.New (config.PullRequests.APIURL) can point at it directly.
// Lists honour per_page (default 30, at most 100) and page and carry
// GitHub's Link header. Anything else answers GitHub's 404 body and is
// recorded in [Server.Unhandled]. It is a regular package so that any
// package's tests can import it; nothing outside tests should.
package githubtest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultToken is the token [New] expects unless the test changes
// [Server.Token] before the first request.
const DefaultToken = "ghs_FAKEgithubtestTOKEN0123456789abcdef"

// BotLogin is the login of the token's user: comments, check runs and
// commit statuses created through the fake are by this bot, as with the
// default GITHUB_TOKEN of a workflow.
const BotLogin = "github-actions[bot]"

// apiPrefix is the path of the API root on the fake server.
const apiPrefix = "/api/v3"

// Server is the fake. Its set-up and inspection methods are safe for
// concurrent use with the requests it serves.
type Server struct {
	// URL is the API root, with the trailing slash:
	// http://127.0.0.1:port/api/v3/.
	URL string
	// Token is the token every request must carry, as "Bearer <Token>"
	// or "token <Token>"; otherwise the answer is 401. Set it before the
	// first request if DefaultToken does not suit.
	Token string

	srv *httptest.Server
	mux *http.ServeMux

	mu        sync.Mutex
	now       func() time.Time
	nextID    int64
	prs       map[prKey]PR
	files     map[prKey][]File
	reviews   map[prKey][]Review
	commits   map[prKey][]Commit
	comments  map[prKey][]*Comment
	contents  map[contentKey][]byte
	teams     map[string]*team // org/slug
	forbid    bool
	keys      map[string][]string
	checkRuns []*CheckRun
	statuses  []Status
	requests  []string
	unhandled []string
}

// New starts a fake closed by t.Cleanup.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		Token:    DefaultToken,
		now:      func() time.Time { return time.Now().UTC().Truncate(time.Second) },
		nextID:   1000,
		prs:      map[prKey]PR{},
		files:    map[prKey][]File{},
		reviews:  map[prKey][]Review{},
		commits:  map[prKey][]Commit{},
		comments: map[prKey][]*Comment{},
		contents: map[contentKey][]byte{},
		teams:    map[string]*team{},
		keys:     map[string][]string{},
	}
	s.routes()
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	s.URL = s.srv.URL + apiPrefix + "/"
	return s
}

// Client returns an HTTP client for the fake's server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// id returns a fresh id; s.mu is held.
func (s *Server) id() int64 {
	s.nextID++
	return s.nextID
}

// serve logs, authenticates and routes a request.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	line := r.Method + " " + strings.TrimPrefix(r.URL.EscapedPath(), apiPrefix)
	if r.URL.RawQuery != "" {
		line += "?" + r.URL.RawQuery
	}
	s.mu.Lock()
	s.requests = append(s.requests, line)
	tok := s.Token
	s.mu.Unlock()
	auth := r.Header.Get("Authorization")
	if auth != "Bearer "+tok && auth != "token "+tok {
		reply(w, http.StatusUnauthorized, apiErr("Bad credentials", "https://docs.github.com/rest", http.StatusUnauthorized))
		return
	}
	if _, pattern := s.mux.Handler(r); pattern == "" {
		s.mu.Lock()
		s.unhandled = append(s.unhandled, line)
		s.mu.Unlock()
		notFound(w)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// routes registers the endpoints.
func (s *Server) routes() {
	s.mux = http.NewServeMux()
	for pattern, h := range map[string]http.HandlerFunc{
		"GET /repos/{owner}/{repo}/pulls/{number}":            s.getPR,
		"GET /repos/{owner}/{repo}/pulls/{number}/files":      s.listFiles,
		"GET /repos/{owner}/{repo}/pulls/{number}/reviews":    s.listReviews,
		"GET /repos/{owner}/{repo}/pulls/{number}/commits":    s.listCommits,
		"GET /repos/{owner}/{repo}/contents/{path...}":        s.getContent,
		"GET /orgs/{org}/teams/{slug}":                        s.getTeam,
		"GET /orgs/{org}/teams/{slug}/members":                s.listTeamMembers,
		"GET /orgs/{org}/teams/{slug}/memberships/{user}":     s.getMembership,
		"GET /users/{user}/keys":                              s.listKeys,
		"POST /repos/{owner}/{repo}/check-runs":               s.createCheckRun,
		"PATCH /repos/{owner}/{repo}/check-runs/{id}":         s.updateCheckRun,
		"GET /repos/{owner}/{repo}/issues/{number}/comments":  s.listComments,
		"POST /repos/{owner}/{repo}/issues/{number}/comments": s.createComment,
		"PATCH /repos/{owner}/{repo}/issues/comments/{id}":    s.editComment,
		"POST /repos/{owner}/{repo}/statuses/{sha}":           s.createStatus,
	} {
		method, p, _ := strings.Cut(pattern, " ")
		s.mux.HandleFunc(method+" "+apiPrefix+p, h)
	}
}

// base is the API root without the trailing slash, for URLs in bodies.
func (s *Server) base() string { return s.srv.URL + apiPrefix }

// web is the web root, for html_url fields.
func (s *Server) web() string { return s.srv.URL }

// reply writes a JSON answer with GitHub's headers.
func reply(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	h.Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	h.Set("X-RateLimit-Limit", "5000")
	h.Set("X-RateLimit-Remaining", "4999")
	h.Set("X-RateLimit-Used", "1")
	h.Set("X-RateLimit-Resource", "core")
	h.Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

// apiErr is GitHub's error body.
func apiErr(msg, doc string, status int) map[string]any {
	return map[string]any{"message": msg, "documentation_url": doc, "status": strconv.Itoa(status)}
}

func notFound(w http.ResponseWriter) {
	reply(w, http.StatusNotFound, apiErr("Not Found", "https://docs.github.com/rest", http.StatusNotFound))
}

func unprocessable(w http.ResponseWriter, msg, doc string) {
	reply(w, http.StatusUnprocessableEntity, apiErr(msg, doc, http.StatusUnprocessableEntity))
}

// decode reads a JSON request body into v; false after a 400.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		reply(w, http.StatusBadRequest, apiErr("Problems parsing JSON", "https://docs.github.com/rest", http.StatusBadRequest))
		return false
	}
	return true
}
