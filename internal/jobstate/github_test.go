package jobstate

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
)

const (
	ghCheck   = "/gh/repos/acme/widgets/check-runs/4"
	ghAttempt = "/gh/repos/acme/widgets/actions/runs/30433642/attempts/2"
	ghRun     = "/gh/repos/acme/widgets/actions/runs/30433642"
	ghPull    = "/gh/repos/acme/widgets/pulls/1347"
)

// checkCase is one row of the provider tables.
type checkCase struct {
	name    string
	lease   lease.Lease
	replies map[string][]reply
	config  func(*Config)
	ended   bool
	reason  string // substring of Verdict.Reason
	err     string // substring of the error; "" means no error
	hits    int    // requests the server saw
}

func runCases(t *testing.T, cases []checkCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, tc.replies)
			c := newChecker(t, f, tc.config)
			v, err := c.Ended(context.Background(), tc.lease)
			if tc.err == "" && err != nil {
				t.Fatalf("Ended: %v", err)
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Ended error = %v, want one containing %q", err, tc.err)
				}
				for _, tok := range []string{ghToken, glToken} {
					if strings.Contains(err.Error(), tok) {
						t.Errorf("error reveals a token: %v", err)
					}
				}
				if v.Ended {
					t.Errorf("Ended = true alongside an error")
				}
			}
			if v.Ended != tc.ended {
				t.Errorf("Ended = %v (%q), want %v", v.Ended, v.Reason, tc.ended)
			}
			if !strings.Contains(v.Reason, tc.reason) {
				t.Errorf("Reason = %q, want it to contain %q", v.Reason, tc.reason)
			}
			if got := f.total(); got != tc.hits {
				t.Errorf("server saw %d requests, want %d (%v)", got, tc.hits, f.hits)
			}
		})
	}
}

func TestGitHub(t *testing.T) {
	noJob := ghLease("", time.Hour)
	noJob.Job.JobID = ""
	latest := noJob
	latest.Job.Attempt = ""
	pr := lease.Lease{ID: "l-pr", Job: lease.Job{Repository: "acme/widgets"}, PR: 1347, IssuedAt: now}
	jobAndPR := ghLease("4", time.Hour)
	jobAndPR.PR = 1347
	legacy := ghLease("4", time.Hour)
	legacy.Job.Provider = "" // recorded before the provider field existed

	runCases(t, []checkCase{
		{name: "running check run left alone", lease: ghLease("4", time.Hour),
			replies: map[string][]reply{ghCheck: ok("github/check-run-in-progress.json")},
			reason:  "check run 4 in_progress", hits: 1},
		{name: "completed check run ended", lease: ghLease("4", time.Hour),
			replies: map[string][]reply{ghCheck: ok("github/check-run-completed-success.json")},
			ended:   true, reason: "check run 4 completed (success)", hits: 1},
		{name: "cancelled check run ended", lease: legacy,
			replies: map[string][]reply{ghCheck: ok("github/check-run-completed-cancelled.json")},
			ended:   true, reason: "check run 4 completed (cancelled)", hits: 1},
		{name: "unknown recent job not ended", lease: ghLease("4", 2*time.Hour),
			replies: map[string][]reply{ghCheck: {status(404, "github/not-found.json")}},
			reason:  "check run 4 unknown for 2h, not past GitHub's 6h job limit + 1h margin", hits: 1},
		{name: "unknown old job ended", lease: ghLease("4", 7*time.Hour+time.Minute),
			replies: map[string][]reply{ghCheck: {status(404, "github/not-found.json")}},
			ended:   true, reason: "unknown for 7h1m, past GitHub's 6h job limit", hits: 1},
		{name: "unknown job within a self-hosted limit", lease: ghLease("4", 8*time.Hour),
			replies: map[string][]reply{ghCheck: {status(404, "github/not-found.json")}},
			config:  func(c *Config) { c.GitHubMaxJobTime = 120 * time.Hour },
			reason:  "not past GitHub's 120h job limit", hits: 1},
		{name: "run attempt completed ended", lease: noJob,
			replies: map[string][]reply{ghAttempt: ok("github/workflow-run-attempt-completed.json")},
			ended:   true, reason: "workflow run 30433642 attempt 2 completed (cancelled)", hits: 1},
		{name: "run attempt in progress left alone", lease: noJob,
			replies: map[string][]reply{ghAttempt: ok("github/workflow-run-attempt-in-progress.json")},
			reason:  "workflow run 30433642 attempt 2 in_progress", hits: 1},
		{name: "run without attempt asks the run", lease: latest,
			replies: map[string][]reply{ghRun: ok("github/workflow-run-attempt-completed.json")},
			ended:   true, reason: "workflow run 30433642 completed", hits: 1},
		{name: "PR closed unmerged ended", lease: pr,
			replies: map[string][]reply{ghPull: ok("github/pull-closed-unmerged.json")},
			ended:   true, reason: "PR #1347 closed without merge", hits: 1},
		{name: "PR merged not ended", lease: pr,
			replies: map[string][]reply{ghPull: ok("github/pull-merged.json")},
			reason:  "PR #1347 merged", hits: 1},
		{name: "PR open not ended", lease: pr,
			replies: map[string][]reply{ghPull: ok("github/pull-open.json")},
			reason:  "PR #1347 open", hits: 1},
		{name: "running job of a closed PR ended", lease: jobAndPR,
			replies: map[string][]reply{
				ghCheck: ok("github/check-run-in-progress.json"),
				ghPull:  ok("github/pull-closed-unmerged.json"),
			},
			ended: true, reason: "PR #1347 closed without merge", hits: 2},
		{name: "running job of an open PR left alone", lease: jobAndPR,
			replies: map[string][]reply{
				ghCheck: ok("github/check-run-in-progress.json"),
				ghPull:  ok("github/pull-open.json"),
			},
			reason: "check run 4 in_progress; PR #1347 open", hits: 2},
		{name: "5xx then 200 retried", lease: ghLease("4", time.Hour),
			replies: map[string][]reply{ghCheck: {
				status(502, ""), status(503, ""), status(200, "github/check-run-completed-success.json")}},
			ended: true, reason: "completed (success)", hits: 3},
		{name: "429 with Retry-After retried", lease: ghLease("4", time.Hour),
			replies: map[string][]reply{ghCheck: {
				{status: 429, header: map[string]string{"Retry-After": "3600"}},
				status(200, "github/check-run-in-progress.json")}},
			reason: "in_progress", hits: 2},
		{name: "5xx throughout fails after 3 attempts", lease: ghLease("4", time.Hour),
			replies: map[string][]reply{ghCheck: {status(500, "")}},
			err:     "github: check run 4 in acme/widgets: HTTP 500", hits: 3},
		{name: "401 is an error, not retried", lease: ghLease("4", 30*time.Hour),
			replies: map[string][]reply{ghCheck: {status(401, "github/bad-credentials.json")}},
			err:     "github: check run 4 in acme/widgets: HTTP 401", hits: 1},
		{name: "403 is an error, not retried", lease: pr,
			replies: map[string][]reply{ghPull: {status(403, "github/bad-credentials.json")}},
			err:     "github: PR #1347 in acme/widgets: HTTP 403", hits: 1},
		{name: "primary rate limit far off not retried", lease: ghLease("4", time.Hour),
			replies: map[string][]reply{ghCheck: {{status: 403, file: "github/rate-limited.json", header: map[string]string{
				"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0",
				"X-RateLimit-Reset": "4102444800", // 2100-01-01
			}}}},
			err: "HTTP 403", hits: 1},
		{name: "PR 404 is an error", lease: pr,
			replies: map[string][]reply{ghPull: {status(404, "github/not-found.json")}},
			err:     "github: PR #1347 in acme/widgets: HTTP 404", hits: 1},
		{name: "no job and no PR not ended", lease: lease.Lease{ID: "l-none", IssuedAt: now.Add(-100 * time.Hour)},
			reason: "no job or pull request", hits: 0},
		{name: "bad repository", lease: lease.Lease{ID: "l-bad", Job: lease.Job{Repository: "widgets", JobID: "4"}},
			err: `repository "widgets" is not owner/name`, hits: 0},
		{name: "unknown provider", lease: lease.Lease{ID: "l-x", Job: lease.Job{Provider: "jenkins", JobID: "4"}},
			err: `unknown CI provider "jenkins"`, hits: 0},
	})
}
