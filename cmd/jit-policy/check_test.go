package main

import (
	"strings"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/action/event"
	"github.com/jit-policy/jit-policy/action/event/eventtest"
	"github.com/jit-policy/jit-policy/internal/githubtest"
)

// TestCheckDecides drives `jit-policy check` with a real webhook payload
// against a fake GitHub API answering with GitHub's response shapes: two
// current approvals from the right team allow; every other case denies,
// and each reason reaches the sticky comment and the check run.
func TestCheckDecides(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(e *prEnv)
		reason string // "" means allowed
		file   func(key string) string
	}{
		{name: "two current approvals from the team"},
		{name: "approval on an older commit", reason: "needs 1 more approval from @acme/sre", setup: func(e *prEnv) {
			e.gh.SetReviews(prOwner, prRepo, e.ev.Number, []githubtest.Review{
				{Login: "bob", State: "APPROVED", CommitID: e.ev.HeadSHA},
				{Login: "carol", State: "APPROVED", CommitID: strings.Repeat("0", 40)},
			})
		}},
		{name: "only the author's approval", reason: "needs 2 more approval from @acme/sre", setup: func(e *prEnv) { e.approve(prAuthor) }},
		{name: "approval by someone who pushed", reason: "needs 1 more approval from @acme/sre", setup: func(e *prEnv) {
			e.gh.SetCommits(prOwner, prRepo, e.ev.Number, []githubtest.Commit{
				{SHA: strings.Repeat("1", 40), AuthorLogin: prAuthor, CommitterLogin: "web-flow"},
				{SHA: e.ev.HeadSHA, AuthorLogin: "carol", CommitterLogin: "carol"},
			})
		}},
		{name: "wrong team", reason: "needs 1 more approval from @acme/sre", setup: func(e *prEnv) { e.approve("bob", "dave") }},
		{name: "later changes requested", reason: "needs 1 more approval from @acme/sre", setup: func(e *prEnv) {
			e.gh.SetReviews(prOwner, prRepo, e.ev.Number, []githubtest.Review{
				{Login: "bob", State: "APPROVED", CommitID: e.ev.HeadSHA, SubmittedAt: e.now.Add(-3 * time.Minute)},
				{Login: "carol", State: "APPROVED", CommitID: e.ev.HeadSHA, SubmittedAt: e.now.Add(-3 * time.Minute)},
				{Login: "carol", State: "CHANGES_REQUESTED", CommitID: e.ev.HeadSHA, SubmittedAt: e.now.Add(-time.Minute)},
			})
		}},
		{name: "fork", reason: "fork", setup: func(e *prEnv) {
			e.gh.SetPR(githubtest.PR{Owner: prOwner, Repo: prRepo, Number: e.ev.Number, Author: prAuthor, HeadSHA: e.ev.HeadSHA, BaseRef: "master", FromFork: true})
		}},
		{name: "draft", reason: "draft", setup: func(e *prEnv) {
			e.gh.SetPR(githubtest.PR{Owner: prOwner, Repo: prRepo, Number: e.ev.Number, Author: prAuthor, HeadSHA: e.ev.HeadSHA, BaseRef: "master", Draft: true})
		}},
		{name: "no reason", reason: "reason must name a ticket like INC-1234", file: func(k string) string { return sshRequest("", "30m", k) }},
		{name: "over the maximum duration", reason: "2h is over the 1h maximum for role deploy", file: func(k string) string { return sshRequest("INC-1234: deploy fix", "2h", k) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newPREnv(t)
			_, pubPath := e.userKey(t, "alice")
			key := readFile(t, pubPath)
			body := sshRequest("INC-1234: investigate stuck orders", "30m", key)
			if tt.file != nil {
				body = tt.file(key)
			}
			e.request(t, "alice.yaml", body)
			if tt.setup != nil {
				tt.setup(e)
			}
			code, out, errOut := e.check(t, event.PullRequestTarget, eventtest.PullRequestOpened, "")
			comment, run := e.comment(t), e.lastCheckRun(t)
			if tt.reason == "" {
				if code != 0 || run.Conclusion != "success" || !strings.Contains(comment, "✅") {
					t.Fatalf("want allowed: exit %d, check run %q\n%s\n%s", code, run.Conclusion, comment, errOut)
				}
				if n := len(e.allLeases(t)); n != 0 {
					t.Fatalf("check without --issue recorded %d leases", n)
				}
				return
			}
			if code != 1 || run.Conclusion != "failure" {
				t.Fatalf("want denied (exit 1, failure): exit %d, %q\n%s%s", code, run.Conclusion, out, errOut)
			}
			for where, text := range map[string]string{"comment": comment, "check run": run.Summary, "stdout": out} {
				if !strings.Contains(strings.ToLower(text), strings.ToLower(tt.reason)) {
					t.Errorf("%s lacks %q:\n%s", where, tt.reason, text)
				}
			}
		})
	}
}

// TestCheckMembershipUnreadable: the default GITHUB_TOKEN cannot read team
// membership; that is reported as such (never "not a member") and denies.
func TestCheckMembershipUnreadable(t *testing.T) {
	e := newPREnv(t)
	_, pubPath := e.userKey(t, "alice")
	e.request(t, "alice.yaml", sshRequest("INC-1", "30m", readFile(t, pubPath)))
	e.gh.ForbidTeams()
	code, _, errOut := e.check(t, event.PullRequestTarget, eventtest.PullRequestOpened, "")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, errOut)
	}
	if c := e.comment(t); !strings.Contains(c, "members:read") || strings.Contains(c, "not a member") {
		t.Fatalf("comment does not report the missing permission:\n%s", c)
	}
}
