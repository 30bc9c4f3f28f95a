package jobstate

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/jit-policy/jit-policy/internal/httpretry"
	"github.com/jit-policy/jit-policy/internal/lease"
)

// githubProvider asks GitHub's REST API through go-github.
type githubProvider struct {
	client *github.Client
	maxJob time.Duration
}

func newGitHub(cfg Config, hc *http.Client) (*githubProvider, error) {
	api := cfg.GitHubAPI
	if api == "" {
		api = DefaultGitHubAPI
	}
	base, err := apiURL(api)
	if err != nil {
		return nil, fmt.Errorf("jobstate: GitHub API URL: %w", err)
	}
	client := github.NewClient(hc)
	if cfg.GitHubToken != "" {
		client = client.WithAuthToken(cfg.GitHubToken)
	}
	client.BaseURL = base
	g := &githubProvider{client: client, maxJob: cfg.GitHubMaxJobTime}
	if g.maxJob <= 0 {
		g.maxJob = DefaultGitHubMaxJobTime
	}
	return g, nil
}

// githubRunning are the check run and workflow run statuses of work not
// yet finished; "completed" is the only finished one.
var githubRunning = map[string]bool{
	"queued": true, "in_progress": true, "waiting": true, "requested": true, "pending": true,
}

// job asks about the lease's check run (the job, by its check_run_id) or,
// without one, about its workflow run attempt.
func (g *githubProvider) job(ctx context.Context, c *Checker, l lease.Lease) (Verdict, error) {
	owner, repo, err := splitRepo(l.Job.Repository)
	if err != nil {
		return Verdict{}, fmt.Errorf("github: lease %s: %w", l.ID, err)
	}
	var (
		what, status, conclusion string
		resp                     *github.Response
	)
	if l.Job.JobID != "" {
		id, err := positive(l.Job.JobID)
		if err != nil {
			return Verdict{}, fmt.Errorf("github: lease %s: check run id: %w", l.ID, err)
		}
		what = fmt.Sprintf("check run %d", id)
		var run *github.CheckRun
		resp, err = g.call(ctx, c, func() (r *github.Response, err error) {
			run, r, err = g.client.Checks.GetCheckRun(ctx, owner, repo, id)
			return r, err
		})
		if err == nil {
			status, conclusion = run.GetStatus(), run.GetConclusion()
		}
		if v, done, err := g.settle(c, l, what, resp, err); done {
			return v, err
		}
	} else {
		runID, err := positive(l.Job.RunID)
		if err != nil {
			return Verdict{}, fmt.Errorf("github: lease %s: run id: %w", l.ID, err)
		}
		attempt := int64(0)
		if l.Job.Attempt != "" {
			if attempt, err = positive(l.Job.Attempt); err != nil || attempt > 1<<20 {
				return Verdict{}, fmt.Errorf("github: lease %s: run attempt %q: not a small positive number", l.ID, l.Job.Attempt)
			}
		}
		what = fmt.Sprintf("workflow run %d", runID)
		var run *github.WorkflowRun
		if attempt > 0 {
			what += fmt.Sprintf(" attempt %d", attempt)
			resp, err = g.call(ctx, c, func() (r *github.Response, err error) {
				run, r, err = g.client.Actions.GetWorkflowRunAttempt(ctx, owner, repo, runID, int(attempt), nil)
				return r, err
			})
		} else {
			resp, err = g.call(ctx, c, func() (r *github.Response, err error) {
				run, r, err = g.client.Actions.GetWorkflowRunByID(ctx, owner, repo, runID)
				return r, err
			})
		}
		if err == nil {
			status, conclusion = run.GetStatus(), run.GetConclusion()
		}
		if v, done, err := g.settle(c, l, what, resp, err); done {
			return v, err
		}
	}
	switch {
	case status == "completed":
		return Verdict{Ended: true, Reason: fmt.Sprintf("%s completed (%s)", what, orNone(printable(conclusion, 32)))}, nil
	case githubRunning[status]:
		return Verdict{Reason: fmt.Sprintf("%s %s", what, status)}, nil
	}
	return Verdict{}, fmt.Errorf("github: %s in %s: unrecognised status %q", what, l.Job.Repository, printable(status, 64))
}

// settle turns a failed call into its verdict: a 404 is an unknown job,
// anything else an error. done is false when the call succeeded.
func (g *githubProvider) settle(c *Checker, l lease.Lease, what string, resp *github.Response, err error) (v Verdict, done bool, _ error) {
	if err == nil {
		return Verdict{}, false, nil
	}
	if statusOf(resp) == http.StatusNotFound {
		return c.unknown(l, what, "GitHub", g.maxJob), true, nil
	}
	return Verdict{}, true, githubError(what, l.Job.Repository, resp, err)
}

// pullRequest asks about the lease's pull request: closed without merge
// is ended; open or merged is not.
func (g *githubProvider) pullRequest(ctx context.Context, c *Checker, l lease.Lease) (Verdict, error) {
	what := fmt.Sprintf("PR #%d", l.PR)
	owner, repo, err := splitRepo(l.Job.Repository)
	if err != nil {
		return Verdict{}, fmt.Errorf("github: %s of lease %s: %w", what, l.ID, err)
	}
	var pr *github.PullRequest
	resp, err := g.call(ctx, c, func() (r *github.Response, err error) {
		pr, r, err = g.client.PullRequests.Get(ctx, owner, repo, l.PR)
		return r, err
	})
	if err != nil {
		return Verdict{}, githubError(what, l.Job.Repository, resp, err)
	}
	merged := pr.GetMerged() || pr.MergedAt != nil
	switch state := pr.GetState(); {
	case merged:
		return Verdict{Reason: what + " merged"}, nil
	case state == "closed":
		return Verdict{Ended: true, Reason: what + " closed without merge"}, nil
	case state == "open":
		return Verdict{Reason: what + " open"}, nil
	default:
		return Verdict{}, fmt.Errorf("github: %s in %s: unrecognised state %q", what, l.Job.Repository, printable(state, 64))
	}
}

// call runs one go-github call with retries.
func (g *githubProvider) call(ctx context.Context, c *Checker, fn func() (*github.Response, error)) (*github.Response, error) {
	return c.retry.GitHub(ctx, classify, fn)
}

// githubError names the provider, the object, the repository and the
// HTTP status of a failed call.
func githubError(what, repo string, resp *github.Response, err error) error {
	status := "no response"
	if code := statusOf(resp); code != 0 {
		status = fmt.Sprintf("HTTP %d", code)
	}
	return fmt.Errorf("github: %s in %s: %s: %w", what, repo, status, err)
}

func statusOf(resp *github.Response) int {
	if resp == nil || resp.Response == nil {
		return 0
	}
	return resp.StatusCode
}

// splitRepo splits "owner/repo".
func splitRepo(s string) (owner, repo string, err error) {
	owner, repo, ok := strings.Cut(s, "/")
	if !ok || owner == "" || repo == "" || strings.Contains(repo, "/") {
		return "", "", fmt.Errorf("repository %q is not owner/name", s)
	}
	return owner, repo, nil
}

// positive parses a positive decimal id.
func positive(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a positive integer", s)
	}
	return n, nil
}

// apiURL parses a provider's API base URL (GitHub's or GitLab's) with
// [httpretry.BaseURL].
func apiURL(s string) (*url.URL, error) { return httpretry.BaseURL(s) }

func orNone(s string) string {
	if s == "" {
		return "no conclusion"
	}
	return s
}
