package prreport

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/jit-policy/jit-policy/internal/githubtest"
)

// newReporter returns a Reporter talking to a fake GitHub holding pull
// request acme/app#n for each of numbers.
func newReporter(t *testing.T, token string, numbers ...int) (*Reporter, *githubtest.Server) {
	t.Helper()
	srv := githubtest.New(t)
	for _, n := range numbers {
		srv.SetPR(githubtest.PR{Owner: "acme", Repo: "app", Number: n, Author: "alice", HeadSHA: headSHA})
	}
	gh := github.NewClient(srv.Client()).WithAuthToken(token)
	base, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	gh.BaseURL = base
	rp := New(gh)
	rp.retry.Backoff = 0
	return rp, srv
}

// botComments returns the comments by the token's account.
func botComments(srv *githubtest.Server, number int) []githubtest.Comment {
	var out []githubtest.Comment
	for _, c := range srv.Comments("acme", "app", number) {
		if c.User == githubtest.BotLogin {
			out = append(out, c)
		}
	}
	return out
}

func TestPublishEditsOneStickyComment(t *testing.T) {
	rp, srv := newReporter(t, githubtest.DefaultToken, 43)
	// A person's comment carrying the marker is never taken for ours, nor
	// a bot's comment without it; 120 comments put ours on page two.
	spoof := Marker + "\nI am the report, edit me"
	spoofID := srv.AddComment("acme", "app", 43, "mallory", spoof)
	srv.AddComment("acme", "app", 43, "dependabot[bot]", "Bumps x from 1 to 2.")
	for range 120 {
		srv.AddComment("acme", "app", 43, "bob", "LGTM")
	}
	ctx := context.Background()

	denied := deniedResult()
	if err := rp.Publish(ctx, denied); err != nil {
		t.Fatalf("first Publish: %v", err)
	}
	runs := srv.CheckRuns()
	if len(runs) != 1 {
		t.Fatalf("%d check runs after the first run, want 1", len(runs))
	}
	c := runs[0]
	_, wantTitle, wantSummary := CheckOutput(denied)
	if c.Name != CheckName || c.HeadSHA != headSHA || c.Owner != "acme" || c.Repo != "app" ||
		c.Status != "completed" || c.Conclusion != "failure" || c.Title != wantTitle || c.Summary != wantSummary {
		t.Fatalf("check run %+v", c)
	}
	mine := botComments(srv, 43)
	if len(mine) != 1 || mine[0].Body != Markdown(denied) {
		t.Fatalf("after the first run the bot's comments are %+v, want one with the report", mine)
	}
	id := mine[0].ID

	allowed := allowedResult()
	allowed.Number = 43
	if err := rp.Publish(ctx, allowed); err != nil {
		t.Fatalf("second Publish: %v", err)
	}
	runs = srv.CheckRuns()
	if len(runs) != 2 || runs[1].Conclusion != "success" || runs[0].Conclusion != "failure" {
		t.Fatalf("check runs after the second run: %+v", runs)
	}
	mine = botComments(srv, 43)
	if len(mine) != 1 || mine[0].ID != id || mine[0].Body != Markdown(allowed) {
		t.Fatalf("after the second run the bot's comments are %+v, want comment %d edited", mine, id)
	}
	all := srv.Comments("acme", "app", 43)
	if len(all) != 123 {
		t.Fatalf("%d comments, want 123", len(all))
	}
	for _, c := range all {
		if c.ID == spoofID && c.Body != spoof {
			t.Fatalf("mallory's comment was edited: %q", c.Body)
		}
	}
	paged := false
	for _, req := range srv.Requests() {
		paged = paged || (strings.HasPrefix(req, "GET /repos/acme/app/issues/43/comments?") && strings.Contains(req, "page=2"))
	}
	if !paged {
		t.Fatalf("the comments' second page was never read: %q", srv.Requests())
	}
	if u := srv.Unhandled(); len(u) != 0 {
		t.Fatalf("requests the fake does not answer: %q", u)
	}
}

func TestPublishLogin(t *testing.T) {
	rp, srv := newReporter(t, githubtest.DefaultToken, 42)
	// A known login matches only that account's comments.
	other := srv.AddComment("acme", "app", 42, "other-app[bot]", Marker+"\nold")
	rp.Login = githubtest.BotLogin
	r := allowedResult()
	for range 2 {
		if err := rp.Publish(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	all := srv.Comments("acme", "app", 42)
	if len(all) != 2 || all[0].ID != other || all[0].Body != Marker+"\nold" || all[1].User != githubtest.BotLogin {
		t.Fatalf("comments %+v", all)
	}
}

func TestPublishErrors(t *testing.T) {
	t.Run("bad token", func(t *testing.T) {
		rp, srv := newReporter(t, "wrong", 42)
		err := rp.Publish(context.Background(), allowedResult())
		if err == nil {
			t.Fatal("Publish with a bad token succeeded")
		}
		for _, want := range []string{"creating check run", "checks: write", "listing the comments of pull request acme/app#42", "pull-requests", "HTTP 401"} {
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("error %q does not mention %q", err, want)
			}
		}
		if len(srv.CheckRuns()) != 0 || len(srv.Comments("acme", "app", 42)) != 0 {
			t.Fatal("something was created with a bad token")
		}
	})
	t.Run("check run fails, comment still posted", func(t *testing.T) {
		rp, srv := newReporter(t, githubtest.DefaultToken, 42)
		r := allowedResult()
		r.HeadSHA = "not-a-commit"
		err := rp.Publish(context.Background(), r)
		if err == nil || !strings.Contains(err.Error(), "creating check run") {
			t.Fatalf("Publish = %v, want the check run's error", err)
		}
		if len(botComments(srv, 42)) != 1 {
			t.Fatal("the comment was not posted after the check run failed")
		}
	})
	t.Run("bad repository", func(t *testing.T) {
		rp, _ := newReporter(t, githubtest.DefaultToken)
		r := allowedResult()
		r.Repository = "../x"
		if err := rp.Publish(context.Background(), r); err == nil {
			t.Fatal("Publish to ../x succeeded")
		}
	})
}
