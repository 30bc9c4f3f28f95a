package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/action/event"
	"github.com/jit-policy/jit-policy/action/event/eventtest"
	"github.com/jit-policy/jit-policy/internal/githubtest"
	"github.com/jit-policy/jit-policy/internal/oidctest"
)

// prPolicy is the pull-request policy the check tests run, written with
// the jit.lib helpers: two current approvals from @acme/sre, a ticket in
// the reason, at most an hour per role.
const prPolicy = `package jit

import data.jit.lib

allow if input.kind == "pull_request"

deny contains msg if {
	input.kind == "pull_request"
	n := lib.missing_approvals("acme/sre", 2)
	n > 0
	msg := sprintf("needs %d more approval from @acme/sre", [n])
}

deny contains "reason must name a ticket like INC-1234" if {
	input.kind == "pull_request"
	not lib.reason_mentions("INC-[0-9]+")
}

deny contains msg if {
	input.kind == "pull_request"
	not lib.within_role_duration({"deploy": "1h", "orders": "1h"})
	msg := sprintf("%s is over the 1h maximum for role %s", [lib.duration_string(input.request.ttl_seconds), input.request.role])
}

grant := {"principals": ["nobody"]} if input.kind == "pull_request"
`

// prEnv is a policy repo (pipelineEnv) whose config points the
// pull-request flow at a fake GitHub holding pull request #2 of
// Codertocat/Hello-World, as in @octokit/webhooks-examples' payloads.
type prEnv struct {
	*pipelineEnv
	gh  *githubtest.Server
	ev  event.Event // the opened event's facts
	now time.Time
}

const (
	prOwner  = "Codertocat"
	prRepo   = "Hello-World"
	prAuthor = "Codertocat"
)

func newPREnv(t *testing.T) *prEnv {
	t.Helper()
	e := &prEnv{pipelineEnv: newPipelineEnv(t, ""), gh: githubtest.New(t), now: time.Now()}
	ev, err := event.Parse(event.PullRequestTarget, eventtest.Load(t, eventtest.PullRequestOpened))
	if err != nil {
		t.Fatal(err)
	}
	e.ev = ev
	cfg, err := os.ReadFile(e.config)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, e.config, string(cfg)+fmt.Sprintf("pull_requests:\n  api_url: %s\n  teams: [acme/sre, acme/dev]\n", e.gh.URL))
	mustWrite(t, filepath.Join(e.dir, "policies", "policy.rego"), prPolicy) // replaces the pipeline policy
	e.gh.SetPR(githubtest.PR{Owner: prOwner, Repo: prRepo, Number: ev.Number, Author: prAuthor, HeadSHA: ev.HeadSHA, BaseRef: "master"})
	e.gh.SetTeamMembers("acme", "sre", "bob", "carol")
	e.gh.SetTeamMembers("acme", "dev", prAuthor, "dave")
	e.gh.SetCommits(prOwner, prRepo, ev.Number, []githubtest.Commit{{SHA: ev.HeadSHA, AuthorLogin: prAuthor, CommitterLogin: "web-flow"}})
	e.approve("bob", "carol")
	return e
}

// approve sets the reviews: an approval on the head commit from each login.
func (e *prEnv) approve(logins ...string) {
	var rs []githubtest.Review
	for _, l := range logins {
		rs = append(rs, githubtest.Review{Login: l, State: "APPROVED", CommitID: e.ev.HeadSHA, SubmittedAt: e.now.Add(-time.Minute)})
	}
	e.gh.SetReviews(prOwner, prRepo, e.ev.Number, rs)
}

// request puts a request file into the pull request at its head commit.
func (e *prEnv) request(t *testing.T, name, body string) {
	t.Helper()
	path := "requests/" + name
	e.gh.SetFiles(prOwner, prRepo, e.ev.Number, []githubtest.File{{Name: path, Status: "added"}, {Name: "README.md", Status: "modified"}})
	e.gh.SetContent(prOwner, prRepo, path, e.ev.HeadSHA, []byte(body))
}

// sshRequest is a request file asking for the deploy role with pubKey.
func sshRequest(reason, duration, pubKey string) string {
	return fmt.Sprintf("version: jit-policy/v1\nrequester: %s\nreason: %q\nduration: %s\naccess:\n  - issuer: ssh\n    role: deploy\n    principals: [nobody]\n    public_key: %q\n",
		prAuthor, reason, duration, strings.TrimSpace(pubKey))
}

// check runs `jit-policy check` for the payload file named by eventtest
// as event name; token, when set, is this job's OIDC token and asks to
// issue.
func (e *prEnv) check(t *testing.T, eventName, payload, token string) (int, string, string) {
	t.Helper()
	p := checkParams{config: e.config, event: eventtest.Path(payload), eventName: eventName, report: true,
		getenv: func(k string) string {
			if k == "GITHUB_TOKEN" {
				return e.gh.Token
			}
			return ""
		},
		now: time.Now, http: e.gh.Client()}
	if token != "" {
		p.issue = true
		p.tokenFile = filepath.Join(t.TempDir(), "token")
		mustWrite(t, p.tokenFile, token)
	}
	var out, errOut bytes.Buffer
	p.out, p.err = &out, &errOut
	code := runCheck(context.Background(), p)
	return code, out.String(), errOut.String()
}

// readFile returns a file's contents.
func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// workflowToken mints this job's token, running the workflow at ref.
func (e *prEnv) workflowToken(t *testing.T, ref string) string {
	wf := prOwner + "/" + prRepo + "/.github/workflows/access-request.yml@" + ref
	return e.oidc.Mint(t, oidctest.MintOptions{Claims: map[string]any{
		"repository": prOwner + "/" + prRepo, "ref": ref, "event_name": "pull_request_target",
		"job_workflow_ref": wf, "workflow_ref": wf,
	}})
}

// comment is the one sticky comment on the pull request.
func (e *prEnv) comment(t *testing.T) string {
	t.Helper()
	cs := e.gh.Comments(prOwner, prRepo, e.ev.Number)
	if len(cs) != 1 {
		t.Fatalf("%d comments on the pull request, want exactly one (sticky)", len(cs))
	}
	return cs[0].Body
}

// lastCheckRun is the newest check run.
func (e *prEnv) lastCheckRun(t *testing.T) githubtest.CheckRun {
	t.Helper()
	runs := e.gh.CheckRuns()
	if len(runs) == 0 {
		t.Fatal("no check run")
	}
	return runs[len(runs)-1]
}
