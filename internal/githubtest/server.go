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
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
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

// PR is a pull request in the fake. Zero fields get defaults: State
// "open" (or "closed" when Merged), AuthorAssociation "CONTRIBUTOR",
// BaseRef "main", HeadRef "feature", CreatedAt one hour before [Server.SetPR].
type PR struct {
	Owner, Repo       string
	Number            int
	Author            string
	AuthorAssociation string // OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR, NONE…
	HeadSHA, HeadRef  string
	BaseSHA, BaseRef  string
	Draft, Merged     bool
	State             string // open or closed
	FromFork          bool   // head repository is Author/Repo, a fork
	Labels            []string
	CreatedAt         time.Time
	Title, Body       string
}

// File is a changed file of a pull request. Status is one of added,
// removed, modified, renamed, copied, changed, unchanged; PreviousName is
// set for renamed files.
type File struct {
	Name, Status, PreviousName string
}

// Review is a pull request review. A zero ID is assigned; a zero
// SubmittedAt is the time of [Server.SetReviews].
type Review struct {
	ID          int64
	Login       string
	State       string // APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED
	CommitID    string
	SubmittedAt time.Time
	Body        string
}

// Commit is a commit of a pull request. An empty login answers null, as
// GitHub does for an e-mail address linked to no account.
type Commit struct {
	SHA, AuthorLogin, CommitterLogin string
	Message                          string
}

// CheckRun is a check run created through the fake, in its current state.
type CheckRun struct {
	ID                     int64
	Owner, Repo            string
	Name, HeadSHA          string
	Status, Conclusion     string
	Title, Summary, Text   string
	DetailsURL, ExternalID string
	StartedAt, CompletedAt time.Time
	Updates                int // PATCH requests applied
}

// Comment is an issue (pull request) comment in its current state.
type Comment struct {
	ID        int64
	Body      string
	User      string // login; BotLogin for comments made through the fake
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Status is a commit status created through the fake.
type Status struct {
	ID                                     int64
	Owner, Repo, SHA                       string
	State, Context, Description, TargetURL string
}

type prKey struct {
	owner, repo string
	number      int
}

type contentKey struct{ owner, repo, path, ref string }

type team struct {
	id      int64
	members []string
}

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

// SetPR adds or replaces a pull request.
func (s *Server) SetPR(pr PR) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pr.CreatedAt.IsZero() {
		pr.CreatedAt = s.now().Add(-time.Hour)
	}
	s.prs[prKey{pr.Owner, pr.Repo, pr.Number}] = pr
}

// SetFiles sets the changed files of a pull request.
func (s *Server) SetFiles(owner, repo string, number int, files []File) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[prKey{owner, repo, number}] = slices.Clone(files)
}

// SetReviews sets the reviews of a pull request, in submission order.
func (s *Server) SetReviews(owner, repo string, number int, reviews []Review) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := slices.Clone(reviews)
	for i := range rs {
		if rs[i].ID == 0 {
			rs[i].ID = s.id()
		}
		if rs[i].SubmittedAt.IsZero() {
			rs[i].SubmittedAt = s.now()
		}
	}
	s.reviews[prKey{owner, repo, number}] = rs
}

// SetCommits sets the commits of a pull request, oldest first.
func (s *Server) SetCommits(owner, repo string, number int, commits []Commit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commits[prKey{owner, repo, number}] = slices.Clone(commits)
}

// SetContent sets the content of the file at path in owner/repo at ref
// (as given in the request's ref parameter; "" for requests without one).
func (s *Server) SetContent(owner, repo, path, ref string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.contents[contentKey{owner, repo, path, ref}] = slices.Clone(data)
}

// SetTeamMembers creates the team org/slug, if needed, and sets its
// active members.
func (s *Server) SetTeamMembers(org, slug string, logins ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := org + "/" + slug
	tm := s.teams[k]
	if tm == nil {
		tm = &team{id: s.id()}
		s.teams[k] = tm
	}
	tm.members = slices.Clone(logins)
}

// ForbidTeams makes every team endpoint answer 403 "Resource not
// accessible by integration", as for the default GITHUB_TOKEN.
func (s *Server) ForbidTeams() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forbid = true
}

// SetUserKeys creates the user login, if needed, and sets its public SSH
// keys (authorized_keys lines). Keys of users never set answer 404.
func (s *Server) SetUserKeys(login string, keys ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[login] = append([]string{}, keys...)
}

// AddComment adds a comment by login to issue or pull request number, as
// if made earlier, and returns its id.
func (s *Server) AddComment(owner, repo string, number int, login, body string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	c := &Comment{ID: s.id(), Body: body, User: login, CreatedAt: now, UpdatedAt: now}
	k := prKey{owner, repo, number}
	s.comments[k] = append(s.comments[k], c)
	return c.ID
}

// CheckRuns returns the check runs created so far, in creation order.
func (s *Server) CheckRuns() []CheckRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]CheckRun, len(s.checkRuns))
	for i, c := range s.checkRuns {
		out[i] = *c
	}
	return out
}

// Comments returns the comments on issue or pull request number, oldest
// first, after edits.
func (s *Server) Comments(owner, repo string, number int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Comment
	for _, c := range s.comments[prKey{owner, repo, number}] {
		out = append(out, *c)
	}
	return out
}

// Statuses returns the commit statuses created so far, in order.
func (s *Server) Statuses() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.statuses)
}

// Requests returns every request so far as "METHOD /path?query", the path
// relative to the API root (such as "GET /repos/acme/widgets/pulls/42").
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Unhandled returns the requests to endpoints the fake does not answer
// (answered 404), in the form of [Server.Requests].
func (s *Server) Unhandled() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.unhandled)
}

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

// paginate answers one page of items by the per_page and page parameters
// with GitHub's Link header.
func (s *Server) paginate(w http.ResponseWriter, r *http.Request, items []any) {
	q := r.URL.Query()
	per := 30
	if v, err := strconv.Atoi(q.Get("per_page")); err == nil && v > 0 {
		per = min(v, 100)
	}
	page := 1
	if v, err := strconv.Atoi(q.Get("page")); err == nil && v > 0 {
		page = v
	}
	last := max(1, (len(items)+per-1)/per)
	link := func(p int, rel string) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		return fmt.Sprintf("<%s%s?%s>; rel=%q", s.srv.URL, r.URL.EscapedPath(), q.Encode(), rel)
	}
	var links []string
	if page > 1 {
		links = append(links, link(min(page-1, last), "prev"))
	}
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	lo := min((page-1)*per, len(items))
	hi := min(lo+per, len(items))
	out := items[lo:hi]
	if out == nil {
		out = []any{}
	}
	reply(w, http.StatusOK, out)
}

// prOf finds the pull request of the request's path; false after a 404.
func (s *Server) key(w http.ResponseWriter, r *http.Request) (prKey, bool) {
	n, err := strconv.Atoi(r.PathValue("number"))
	if err != nil || n <= 0 {
		notFound(w)
		return prKey{}, false
	}
	return prKey{r.PathValue("owner"), r.PathValue("repo"), n}, true
}

func (s *Server) getPR(w http.ResponseWriter, r *http.Request) {
	k, ok := s.key(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	pr, ok := s.prs[k]
	s.mu.Unlock()
	if !ok {
		notFound(w)
		return
	}
	reply(w, http.StatusOK, s.prJSON(pr))
}

// listOf answers a paginated list of a pull request's items, 404 if the
// pull request was never set.
func (s *Server) listOf(w http.ResponseWriter, r *http.Request, items func(k prKey) []any) {
	k, ok := s.key(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	_, ok = s.prs[k]
	var list []any
	if ok {
		list = items(k)
	}
	s.mu.Unlock()
	if !ok {
		notFound(w)
		return
	}
	s.paginate(w, r, list)
}

func (s *Server) listFiles(w http.ResponseWriter, r *http.Request) {
	s.listOf(w, r, func(k prKey) []any {
		head := s.prs[k].HeadSHA
		var out []any
		for _, f := range s.files[k] {
			out = append(out, s.fileJSON(k, head, f))
		}
		return out
	})
}

func (s *Server) listReviews(w http.ResponseWriter, r *http.Request) {
	s.listOf(w, r, func(k prKey) []any {
		var out []any
		for _, rv := range s.reviews[k] {
			out = append(out, s.reviewJSON(k, rv))
		}
		return out
	})
}

func (s *Server) listCommits(w http.ResponseWriter, r *http.Request) {
	s.listOf(w, r, func(k prKey) []any {
		var out []any
		cs := s.commits[k]
		for i, c := range cs {
			parent := ""
			if i > 0 {
				parent = cs[i-1].SHA
			} else {
				parent = s.prs[k].BaseSHA
			}
			out = append(out, s.commitJSON(k, c, parent))
		}
		return out
	})
}

func (s *Server) getContent(w http.ResponseWriter, r *http.Request) {
	k := contentKey{r.PathValue("owner"), r.PathValue("repo"), r.PathValue("path"), r.URL.Query().Get("ref")}
	s.mu.Lock()
	data, ok := s.contents[k]
	s.mu.Unlock()
	if !ok {
		notFound(w)
		return
	}
	reply(w, http.StatusOK, s.contentJSON(k, data))
}

// teamOf finds the team of the request's path; false after a 403 or 404.
func (s *Server) teamOf(w http.ResponseWriter, r *http.Request) (*team, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.forbid {
		reply(w, http.StatusForbidden, apiErr("Resource not accessible by integration",
			"https://docs.github.com/rest/teams/members#get-team-membership-for-a-user", http.StatusForbidden))
		return nil, false
	}
	tm := s.teams[r.PathValue("org")+"/"+r.PathValue("slug")]
	if tm == nil {
		notFound(w)
		return nil, false
	}
	return &team{id: tm.id, members: slices.Clone(tm.members)}, true
}

func (s *Server) getTeam(w http.ResponseWriter, r *http.Request) {
	tm, ok := s.teamOf(w, r)
	if !ok {
		return
	}
	reply(w, http.StatusOK, s.teamJSON(r.PathValue("org"), r.PathValue("slug"), tm))
}

func (s *Server) listTeamMembers(w http.ResponseWriter, r *http.Request) {
	tm, ok := s.teamOf(w, r)
	if !ok {
		return
	}
	var out []any
	for _, m := range tm.members {
		out = append(out, s.userJSON(m))
	}
	s.paginate(w, r, out)
}

func (s *Server) getMembership(w http.ResponseWriter, r *http.Request) {
	tm, ok := s.teamOf(w, r)
	if !ok {
		return
	}
	user := r.PathValue("user")
	if !slices.ContainsFunc(tm.members, func(m string) bool { return strings.EqualFold(m, user) }) {
		notFound(w)
		return
	}
	reply(w, http.StatusOK, map[string]any{
		"url":   fmt.Sprintf("%s/teams/%d/memberships/%s", s.base(), tm.id, url.PathEscape(user)),
		"role":  "member",
		"state": "active",
	})
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) {
	login := r.PathValue("user")
	s.mu.Lock()
	keys, ok := s.keys[login]
	s.mu.Unlock()
	if !ok {
		notFound(w)
		return
	}
	var out []any
	for i, k := range keys {
		out = append(out, map[string]any{"id": userID(login)*100 + int64(i) + 1, "key": k})
	}
	s.paginate(w, r, out)
}

// decode reads a JSON request body into v; false after a 400.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		reply(w, http.StatusBadRequest, apiErr("Problems parsing JSON", "https://docs.github.com/rest", http.StatusBadRequest))
		return false
	}
	return true
}

// checkRunBody is the body of a check run create or update.
type checkRunBody struct {
	Name        *string `json:"name"`
	HeadSHA     *string `json:"head_sha"`
	DetailsURL  *string `json:"details_url"`
	ExternalID  *string `json:"external_id"`
	Status      *string `json:"status"`
	Conclusion  *string `json:"conclusion"`
	StartedAt   *string `json:"started_at"`
	CompletedAt *string `json:"completed_at"`
	Output      *struct {
		Title   *string `json:"title"`
		Summary *string `json:"summary"`
		Text    *string `json:"text"`
	} `json:"output"`
}

// apply sets the fields of body on c; it returns a validation message.
func (b *checkRunBody) apply(c *CheckRun, now time.Time) string {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	if b.Name != nil && *b.Name != "" { // go-github always sends name on update
		c.Name = *b.Name
	}
	set(&c.DetailsURL, b.DetailsURL)
	set(&c.ExternalID, b.ExternalID)
	if b.Status != nil {
		if !slices.Contains([]string{"queued", "in_progress", "completed", "waiting", "requested", "pending"}, *b.Status) {
			return "Invalid request.\n\nstatus is not a member of [queued, in_progress, completed, waiting, requested, pending]."
		}
		c.Status = *b.Status
	}
	if b.Conclusion != nil && *b.Conclusion != "" {
		if !slices.Contains([]string{"action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out"}, *b.Conclusion) {
			return "Invalid request.\n\nconclusion is not a member of [action_required, cancelled, failure, neutral, success, skipped, stale, timed_out]."
		}
		c.Conclusion = *b.Conclusion
		c.Status = "completed" // GitHub completes a run given a conclusion
	}
	if c.Status == "completed" && c.Conclusion == "" {
		return "Invalid request.\n\n\"conclusion\" wasn't supplied."
	}
	if t, ok := parseTime(b.StartedAt); ok {
		c.StartedAt = t
	}
	if t, ok := parseTime(b.CompletedAt); ok {
		c.CompletedAt = t
	}
	if c.Status == "completed" && c.CompletedAt.IsZero() {
		c.CompletedAt = now
	}
	if o := b.Output; o != nil {
		if o.Title == nil || o.Summary == nil {
			return "Invalid request.\n\n\"title\", \"summary\" weren't supplied."
		}
		c.Title, c.Summary = *o.Title, *o.Summary
		set(&c.Text, o.Text)
	}
	return ""
}

func parseTime(s *string) (time.Time, bool) {
	if s == nil {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, *s)
	return t.UTC(), err == nil
}

const checkRunsDoc = "https://docs.github.com/rest/checks/runs#create-a-check-run"

func (s *Server) createCheckRun(w http.ResponseWriter, r *http.Request) {
	var b checkRunBody
	if !decode(w, r, &b) {
		return
	}
	if b.Name == nil || *b.Name == "" || b.HeadSHA == nil || *b.HeadSHA == "" {
		unprocessable(w, "Invalid request.\n\n\"name\", \"head_sha\" weren't supplied.", checkRunsDoc)
		return
	}
	s.mu.Lock()
	now := s.now()
	c := &CheckRun{Owner: r.PathValue("owner"), Repo: r.PathValue("repo"), HeadSHA: *b.HeadSHA, Status: "queued", StartedAt: now}
	if msg := b.apply(c, now); msg != "" {
		s.mu.Unlock()
		unprocessable(w, msg, checkRunsDoc)
		return
	}
	c.ID = s.id()
	s.checkRuns = append(s.checkRuns, c)
	body := s.checkRunJSON(*c)
	s.mu.Unlock()
	reply(w, http.StatusCreated, body)
}

func (s *Server) updateCheckRun(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		notFound(w)
		return
	}
	var b checkRunBody
	if !decode(w, r, &b) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.checkRuns, func(c *CheckRun) bool {
		return c.ID == id && c.Owner == r.PathValue("owner") && c.Repo == r.PathValue("repo")
	})
	if i < 0 {
		notFound(w)
		return
	}
	c := *s.checkRuns[i]
	if msg := b.apply(&c, s.now()); msg != "" {
		unprocessable(w, msg, "https://docs.github.com/rest/checks/runs#update-a-check-run")
		return
	}
	c.Updates++
	*s.checkRuns[i] = c
	reply(w, http.StatusOK, s.checkRunJSON(c))
}

func (s *Server) listComments(w http.ResponseWriter, r *http.Request) {
	k, ok := s.key(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	var out []any
	for _, c := range s.comments[k] {
		out = append(out, s.commentJSON(k, *c))
	}
	s.mu.Unlock()
	s.paginate(w, r, out)
}

// commentBody is the body of a comment create or edit.
type commentBody struct {
	Body *string `json:"body"`
}

func (s *Server) createComment(w http.ResponseWriter, r *http.Request) {
	k, ok := s.key(w, r)
	if !ok {
		return
	}
	var b commentBody
	if !decode(w, r, &b) {
		return
	}
	if b.Body == nil || *b.Body == "" {
		unprocessable(w, "Invalid request.\n\n\"body\" wasn't supplied.", "https://docs.github.com/rest/issues/comments#create-an-issue-comment")
		return
	}
	s.mu.Lock()
	now := s.now()
	c := &Comment{ID: s.id(), Body: *b.Body, User: BotLogin, CreatedAt: now, UpdatedAt: now}
	s.comments[k] = append(s.comments[k], c)
	body := s.commentJSON(k, *c)
	s.mu.Unlock()
	w.Header().Set("Location", body["url"].(string))
	reply(w, http.StatusCreated, body)
}

func (s *Server) editComment(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		notFound(w)
		return
	}
	var b commentBody
	if !decode(w, r, &b) {
		return
	}
	if b.Body == nil || *b.Body == "" {
		unprocessable(w, "Invalid request.\n\n\"body\" wasn't supplied.", "https://docs.github.com/rest/issues/comments#update-an-issue-comment")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, cs := range s.comments {
		if k.owner != r.PathValue("owner") || k.repo != r.PathValue("repo") {
			continue
		}
		for _, c := range cs {
			if c.ID == id {
				c.Body, c.UpdatedAt = *b.Body, s.now()
				reply(w, http.StatusOK, s.commentJSON(k, *c))
				return
			}
		}
	}
	notFound(w)
}

func (s *Server) createStatus(w http.ResponseWriter, r *http.Request) {
	var b struct {
		State       string `json:"state"`
		TargetURL   string `json:"target_url"`
		Description string `json:"description"`
		Context     string `json:"context"`
	}
	if !decode(w, r, &b) {
		return
	}
	if !slices.Contains([]string{"error", "failure", "pending", "success"}, b.State) {
		unprocessable(w, "Validation Failed", "https://docs.github.com/rest/commits/statuses#create-a-commit-status")
		return
	}
	if b.Context == "" {
		b.Context = "default"
	}
	s.mu.Lock()
	st := Status{ID: s.id(), Owner: r.PathValue("owner"), Repo: r.PathValue("repo"), SHA: r.PathValue("sha"),
		State: b.State, Context: b.Context, Description: b.Description, TargetURL: b.TargetURL}
	s.statuses = append(s.statuses, st)
	now := s.now()
	s.mu.Unlock()
	reply(w, http.StatusCreated, s.statusJSON(st, now))
}

// userID is a stable fake account id for login.
func userID(login string) int64 {
	if login == BotLogin {
		return 41898282
	}
	h := fnv.New32a()
	h.Write([]byte(strings.ToLower(login)))
	return int64(h.Sum32()%90000000) + 1000
}

// blobSHA is git's blob id of data.
func blobSHA(data []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(data))
	h.Write(data)
	return fmt.Sprintf("%x", h.Sum(nil))
}

// wrap64 is GitHub's base64 of file contents: 60 characters a line.
func wrap64(data []byte) string {
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for len(enc) > 60 {
		b.WriteString(enc[:60] + "\n")
		enc = enc[60:]
	}
	b.WriteString(enc + "\n")
	return b.String()
}
