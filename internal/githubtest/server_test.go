package githubtest

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
)

const (
	headSHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
	oldSHA  = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
	baseSHA = "e5bd3914e2e596debea16f433f57875b5b90bcd6"
)

// client is a real go-github client for s, as the flow builds one.
func client(t *testing.T, s *Server) *github.Client {
	t.Helper()
	gh, err := github.NewClient(s.Client()).WithAuthToken(s.Token).WithEnterpriseURLs(s.URL, s.URL)
	if err != nil {
		t.Fatalf("WithEnterpriseURLs: %v", err)
	}
	return gh
}

// status is the HTTP status of a go-github error, 0 if none.
func status(err error) int {
	var e *github.ErrorResponse
	if errors.As(err, &e) && e.Response != nil {
		return e.Response.StatusCode
	}
	return 0
}

func seed(s *Server) {
	s.SetPR(PR{Owner: "acme", Repo: "widgets", Number: 42, Author: "alice", AuthorAssociation: "MEMBER",
		HeadSHA: headSHA, HeadRef: "alice/prod-access", BaseSHA: baseSHA, BaseRef: "main",
		Labels: []string{"access-request"}, Title: "Access to prod-bastion",
		CreatedAt: time.Date(2026, 5, 3, 9, 0, 0, 0, time.UTC)})
	s.SetFiles("acme", "widgets", 42, []File{
		{Name: "README.md", Status: "modified"},
		{Name: "requests/old-bob.yaml", Status: "renamed", PreviousName: "requests/bob.yaml"},
		{Name: "requests/alice.yaml", Status: "added"},
	})
	s.SetReviews("acme", "widgets", 42, []Review{
		{ID: 80, Login: "bob", State: "APPROVED", CommitID: headSHA, SubmittedAt: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)},
		{Login: "carol", State: "CHANGES_REQUESTED", CommitID: oldSHA},
	})
	s.SetCommits("acme", "widgets", 42, []Commit{
		{SHA: oldSHA, AuthorLogin: "alice", CommitterLogin: "web-flow"},
		{SHA: headSHA, AuthorLogin: "alice"},
	})
}

func TestReads(t *testing.T) {
	s := New(t)
	seed(s)
	gh := client(t, s)
	ctx := context.Background()

	pr, _, err := gh.PullRequests.Get(ctx, "acme", "widgets", 42)
	if err != nil {
		t.Fatalf("Get PR: %v", err)
	}
	if pr.GetNumber() != 42 || pr.GetUser().GetLogin() != "alice" || pr.GetHead().GetSHA() != headSHA ||
		pr.GetBase().GetRef() != "main" || pr.GetState() != "open" || pr.GetDraft() || pr.GetMerged() ||
		pr.GetAuthorAssociation() != "MEMBER" || pr.GetHead().GetRepo().GetFullName() != "acme/widgets" ||
		pr.GetHead().GetRepo().GetFork() || len(pr.Labels) != 1 || pr.Labels[0].GetName() != "access-request" ||
		!pr.GetCreatedAt().Time.Equal(time.Date(2026, 5, 3, 9, 0, 0, 0, time.UTC)) || pr.GetCommits() != 2 || pr.GetChangedFiles() != 3 {
		t.Fatalf("PR: %+v", pr)
	}
	if _, _, err := gh.PullRequests.Get(ctx, "acme", "widgets", 43); status(err) != http.StatusNotFound {
		t.Fatalf("unknown PR: %v", err)
	}

	var names []string
	opts := &github.ListOptions{PerPage: 2}
	pages := 0
	for {
		files, resp, err := gh.PullRequests.ListFiles(ctx, "acme", "widgets", 42, opts)
		if err != nil {
			t.Fatalf("ListFiles: %v", err)
		}
		pages++
		for _, f := range files {
			names = append(names, f.GetFilename()+":"+f.GetStatus()+":"+f.GetPreviousFilename())
		}
		if pages == 1 && resp.LastPage != 2 {
			t.Fatalf("first page LastPage %d, Link %q", resp.LastPage, resp.Header.Get("Link"))
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	want := []string{"README.md:modified:", "requests/old-bob.yaml:renamed:requests/bob.yaml", "requests/alice.yaml:added:"}
	if pages != 2 || !slices.Equal(names, want) {
		t.Fatalf("files over %d pages: %q", pages, names)
	}

	reviews, _, err := gh.PullRequests.ListReviews(ctx, "acme", "widgets", 42, nil)
	if err != nil {
		t.Fatalf("ListReviews: %v", err)
	}
	if len(reviews) != 2 || reviews[0].GetID() != 80 || reviews[0].GetUser().GetLogin() != "bob" ||
		reviews[0].GetState() != "APPROVED" || reviews[0].GetCommitID() != headSHA ||
		!reviews[0].GetSubmittedAt().Time.Equal(time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)) ||
		reviews[1].GetID() == 0 || reviews[1].GetState() != "CHANGES_REQUESTED" || reviews[1].GetSubmittedAt().IsZero() {
		t.Fatalf("reviews: %+v", reviews)
	}

	commits, _, err := gh.PullRequests.ListCommits(ctx, "acme", "widgets", 42, nil)
	if err != nil {
		t.Fatalf("ListCommits: %v", err)
	}
	if len(commits) != 2 || commits[0].GetSHA() != oldSHA || commits[0].GetAuthor().GetLogin() != "alice" ||
		commits[0].GetCommitter().GetLogin() != "web-flow" || commits[1].GetCommitter() != nil ||
		commits[1].GetCommit().GetCommitter().GetEmail() == "" || commits[1].Parents[0].GetSHA() != oldSHA {
		t.Fatalf("commits: %+v", commits)
	}
}

func TestContents(t *testing.T) {
	s := New(t)
	gh := client(t, s)
	ctx := context.Background()
	data := []byte(strings.Repeat("issuer: ssh\nrole: prod-bastion\n", 5))
	s.SetContent("acme", "widgets", "requests/alice.yaml", headSHA, data)

	file, dir, _, err := gh.Repositories.GetContents(ctx, "acme", "widgets", "requests/alice.yaml", &github.RepositoryContentGetOptions{Ref: headSHA})
	if err != nil || file == nil || dir != nil {
		t.Fatalf("GetContents: %v %v %v", file, dir, err)
	}
	got, err := file.GetContent()
	if err != nil || got != string(data) || file.GetType() != "file" || file.GetEncoding() != "base64" ||
		file.GetSize() != len(data) || file.GetName() != "alice.yaml" || file.GetSHA() == "" {
		t.Fatalf("content %q (%v), file %+v", got, err, file)
	}
	if !strings.Contains(*file.Content, "\n") {
		t.Fatalf("content not wrapped as GitHub's")
	}
	if _, _, _, err := gh.Repositories.GetContents(ctx, "acme", "widgets", "requests/alice.yaml", &github.RepositoryContentGetOptions{Ref: oldSHA}); status(err) != http.StatusNotFound {
		t.Fatalf("other ref: %v", err)
	}
}

func TestTeamsAndKeys(t *testing.T) {
	s := New(t)
	gh := client(t, s)
	ctx := context.Background()
	s.SetTeamMembers("acme", "sre", "bob", "carol")
	s.SetUserKeys("alice", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl", "ssh-rsa AAAAB3NzaC1yc2E")
	s.SetUserKeys("nokeys")

	team, _, err := gh.Teams.GetTeamBySlug(ctx, "acme", "sre")
	if err != nil || team.GetSlug() != "sre" || team.GetID() == 0 || team.GetOrganization().GetLogin() != "acme" {
		t.Fatalf("team %+v: %v", team, err)
	}
	m, _, err := gh.Teams.GetTeamMembershipBySlug(ctx, "acme", "sre", "bob")
	if err != nil || m.GetState() != "active" || m.GetRole() != "member" || m.GetURL() == "" {
		t.Fatalf("membership %+v: %v", m, err)
	}
	if _, _, err := gh.Teams.GetTeamMembershipBySlug(ctx, "acme", "sre", "mallory"); status(err) != http.StatusNotFound {
		t.Fatalf("non-member: %v", err)
	}
	if _, _, err := gh.Teams.GetTeamMembershipBySlug(ctx, "acme", "dev", "bob"); status(err) != http.StatusNotFound {
		t.Fatalf("unknown team: %v", err)
	}

	keys, _, err := gh.Users.ListKeys(ctx, "alice", &github.ListOptions{PerPage: 100})
	if err != nil || len(keys) != 2 || keys[0].GetID() == 0 || !strings.HasPrefix(keys[0].GetKey(), "ssh-ed25519 AAAA") {
		t.Fatalf("keys %+v: %v", keys, err)
	}
	if keys, _, err := gh.Users.ListKeys(ctx, "nokeys", nil); err != nil || len(keys) != 0 {
		t.Fatalf("no keys: %v %v", keys, err)
	}
	if _, _, err := gh.Users.ListKeys(ctx, "ghost", nil); status(err) != http.StatusNotFound {
		t.Fatalf("unknown user: %v", err)
	}

	s.ForbidTeams()
	_, _, err = gh.Teams.GetTeamMembershipBySlug(ctx, "acme", "sre", "bob")
	var e *github.ErrorResponse
	if status(err) != http.StatusForbidden || !errors.As(err, &e) || e.Message != "Resource not accessible by integration" {
		t.Fatalf("forbidden membership: %v", err)
	}
	var rl *github.RateLimitError
	if errors.As(err, &rl) {
		t.Fatalf("403 taken for a rate limit: %v", err)
	}
	if _, _, err := gh.Teams.GetTeamBySlug(ctx, "acme", "sre"); status(err) != http.StatusForbidden {
		t.Fatalf("forbidden team: %v", err)
	}
}

func TestCheckRunsAndStatuses(t *testing.T) {
	s := New(t)
	seed(s)
	gh := client(t, s)
	ctx := context.Background()

	cr, resp, err := gh.Checks.CreateCheckRun(ctx, "acme", "widgets", github.CreateCheckRunOptions{
		Name: "jit-policy", HeadSHA: headSHA, Status: github.String("in_progress"),
		Output: &github.CheckRunOutput{Title: github.String("Evaluating"), Summary: github.String("Reading the request")},
	})
	if err != nil || resp.StatusCode != http.StatusCreated || cr.GetID() == 0 || cr.GetStatus() != "in_progress" ||
		cr.Conclusion != nil || cr.GetHeadSHA() != headSHA || cr.GetApp().GetSlug() != "github-actions" ||
		len(cr.PullRequests) != 1 || cr.PullRequests[0].GetNumber() != 42 || cr.GetOutput().GetTitle() != "Evaluating" {
		t.Fatalf("create check run %+v: %v", cr, err)
	}
	up, _, err := gh.Checks.UpdateCheckRun(ctx, "acme", "widgets", cr.GetID(), github.UpdateCheckRunOptions{
		Conclusion: github.String("success"),
		Output:     &github.CheckRunOutput{Title: github.String("Approved"), Summary: github.String("2 approvals"), Text: github.String("details")},
	})
	if err != nil || up.GetID() != cr.GetID() || up.GetStatus() != "completed" || up.GetConclusion() != "success" ||
		up.GetName() != "jit-policy" || up.CompletedAt == nil {
		t.Fatalf("update check run %+v: %v", up, err)
	}
	if _, _, err := gh.Checks.UpdateCheckRun(ctx, "acme", "widgets", 999999, github.UpdateCheckRunOptions{Name: "x"}); status(err) != http.StatusNotFound {
		t.Fatalf("unknown check run: %v", err)
	}
	if _, _, err := gh.Checks.CreateCheckRun(ctx, "acme", "widgets", github.CreateCheckRunOptions{Name: "x"}); status(err) != http.StatusUnprocessableEntity {
		t.Fatalf("check run without head_sha: %v", err)
	}
	runs := s.CheckRuns()
	if len(runs) != 1 || runs[0].ID != cr.GetID() || runs[0].Name != "jit-policy" || runs[0].HeadSHA != headSHA ||
		runs[0].Status != "completed" || runs[0].Conclusion != "success" || runs[0].Title != "Approved" ||
		runs[0].Summary != "2 approvals" || runs[0].Text != "details" || runs[0].Updates != 1 {
		t.Fatalf("recorded check runs: %+v", runs)
	}

	st, resp, err := gh.Repositories.CreateStatus(ctx, "acme", "widgets", headSHA, &github.RepoStatus{
		State: github.String("pending"), Context: github.String("jit-policy"), Description: github.String("waiting for approval")})
	if err != nil || resp.StatusCode != http.StatusCreated || st.GetID() == 0 || st.GetState() != "pending" || st.GetCreator().GetLogin() != BotLogin {
		t.Fatalf("create status %+v: %v", st, err)
	}
	if got := s.Statuses(); len(got) != 1 || got[0].SHA != headSHA || got[0].State != "pending" || got[0].Context != "jit-policy" {
		t.Fatalf("recorded statuses: %+v", got)
	}
}

func TestComments(t *testing.T) {
	s := New(t)
	seed(s)
	gh := client(t, s)
	ctx := context.Background()
	for i := range 3 {
		s.AddComment("acme", "widgets", 42, "bob", "comment "+string(rune('a'+i)))
	}

	c, resp, err := gh.Issues.CreateComment(ctx, "acme", "widgets", 42, &github.IssueComment{Body: github.String("<!-- jit-policy -->\npending")})
	if err != nil || resp.StatusCode != http.StatusCreated || c.GetID() == 0 || c.GetUser().GetLogin() != BotLogin ||
		c.GetUser().GetType() != "Bot" || !strings.Contains(c.GetHTMLURL(), "/pull/42#issuecomment-") {
		t.Fatalf("create comment %+v: %v", c, err)
	}
	var all []*github.IssueComment
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 2}}
	for {
		list, resp, err := gh.Issues.ListComments(ctx, "acme", "widgets", 42, opts)
		if err != nil {
			t.Fatalf("ListComments: %v", err)
		}
		all = append(all, list...)
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if len(all) != 4 || all[0].GetUser().GetLogin() != "bob" || all[3].GetID() != c.GetID() {
		t.Fatalf("listed comments: %+v", all)
	}
	ed, _, err := gh.Issues.EditComment(ctx, "acme", "widgets", c.GetID(), &github.IssueComment{Body: github.String("<!-- jit-policy -->\napproved")})
	if err != nil || ed.GetBody() != "<!-- jit-policy -->\napproved" || ed.GetID() != c.GetID() {
		t.Fatalf("edit comment %+v: %v", ed, err)
	}
	if _, _, err := gh.Issues.EditComment(ctx, "acme", "other", c.GetID(), &github.IssueComment{Body: github.String("x")}); status(err) != http.StatusNotFound {
		t.Fatalf("edit in another repo: %v", err)
	}
	got := s.Comments("acme", "widgets", 42)
	if len(got) != 4 || got[3].Body != "<!-- jit-policy -->\napproved" || got[3].User != BotLogin || got[0].User != "bob" {
		t.Fatalf("recorded comments: %+v", got)
	}
}

func TestAuthAndUnknown(t *testing.T) {
	s := New(t)
	seed(s)
	ctx := context.Background()

	bad, err := github.NewClient(s.Client()).WithAuthToken("wrong").WithEnterpriseURLs(s.URL, s.URL)
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	if _, _, err := bad.PullRequests.Get(ctx, "acme", "widgets", 42); status(err) != http.StatusUnauthorized {
		t.Fatalf("wrong token: %v", err)
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL+"repos/acme/widgets/pulls/42", nil)
	req.Header.Set("Authorization", "token "+s.Token)
	resp, err := s.Client().Do(req)
	if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("token scheme: %v %v", resp, err)
	}
	resp.Body.Close()

	gh := client(t, s)
	if _, _, err := gh.Repositories.Get(ctx, "acme", "widgets"); status(err) != http.StatusNotFound {
		t.Fatalf("unknown endpoint: %v", err)
	}
	req, _ = http.NewRequest(http.MethodDelete, s.URL+"repos/acme/widgets/pulls/42?x=1", nil)
	req.Header.Set("Authorization", "Bearer "+s.Token)
	resp, err = s.Client().Do(req)
	if err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown method: %v %v", resp, err)
	}
	resp.Body.Close()
	if got := s.Unhandled(); !slices.Equal(got, []string{"GET /repos/acme/widgets", "DELETE /repos/acme/widgets/pulls/42?x=1"}) {
		t.Fatalf("unhandled: %q", got)
	}
	reqs := s.Requests()
	if len(reqs) != 4 || reqs[0] != "GET /repos/acme/widgets/pulls/42" || reqs[2] != "GET /repos/acme/widgets" {
		t.Fatalf("requests: %q", reqs)
	}
}
