package prreport

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/jit-policy/jit-policy/action/event"
	"github.com/jit-policy/jit-policy/action/prcheck"
	"github.com/jit-policy/jit-policy/internal/httpretry"
)

// CheckName is the name of the check run on the head commit.
const CheckName = "jit-policy access request"

// Bounds of the comment listing and of the retries.
const (
	perPage         = 100
	maxCommentPages = 50
	defaultAttempts = 4
	defaultBackoff  = time.Second
	defaultMaxWait  = time.Minute
)

// Reporter publishes a [prcheck.Result] on its pull request through
// GitHub's REST API.
type Reporter struct {
	gh *github.Client
	// Login is the login of the token's account, whose comment carrying
	// [Marker] is the sticky one. When it is empty a comment is taken as
	// the sticky one if it carries the marker and its author is a bot
	// account (user type "Bot"): the token of a workflow
	// (github-actions[bot]) and GitHub App installation tokens cannot
	// read their own account (GET /user answers 403), and only an
	// installed app, never a person, can post as a bot, so a person
	// copying the marker into a comment cannot make a run overwrite it.
	Login string

	retry httpretry.Policy
}

// New returns a Reporter that calls GitHub through gh, such as a client
// made with github.NewClient(hc).WithAuthToken(token) and, for GitHub
// Enterprise Server, its BaseURL set to the API root. The token needs
// checks: write (for the check run) and pull-requests: write (for the
// comment).
func New(gh *github.Client) *Reporter {
	return &Reporter{gh: gh, retry: httpretry.Policy{Attempts: defaultAttempts, Backoff: defaultBackoff, MaxWait: defaultMaxWait}}
}

// Publish creates the check run on r.HeadSHA and creates or edits the
// sticky comment on the pull request. One failing does not stop the
// other; the error joins both failures, each naming what failed and the
// permission the token needs.
func (rp *Reporter) Publish(ctx context.Context, r prcheck.Result) error {
	owner, repo, ok := strings.Cut(r.Repository, "/")
	if !ok || !event.ValidOwner(owner) || !event.ValidRepo(repo) {
		return fmt.Errorf("prreport: %q is not a repository (owner/repo)", r.Repository)
	}
	var errs []error
	if err := rp.checkRun(ctx, owner, repo, r); err != nil {
		errs = append(errs, err)
	}
	if err := rp.upsertComment(ctx, owner, repo, r); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// checkRun creates a completed check run on the head commit.
func (rp *Reporter) checkRun(ctx context.Context, owner, repo string, r prcheck.Result) error {
	what := fmt.Sprintf("creating check run %q on commit %s of %s/%s", CheckName, short(r.HeadSHA), owner, repo)
	if !event.ValidSHA(r.HeadSHA) {
		return fmt.Errorf("prreport: %s: %q is not a commit id", what, r.HeadSHA)
	}
	conclusion, title, summary := CheckOutput(r)
	done := r.Now
	if done.IsZero() {
		done = time.Now()
	}
	opts := github.CreateCheckRunOptions{
		Name:        CheckName,
		HeadSHA:     r.HeadSHA,
		Status:      github.String("completed"),
		Conclusion:  github.String(conclusion),
		CompletedAt: &github.Timestamp{Time: done.UTC()},
		Output: &github.CheckRunOutput{
			Title:   github.String(title),
			Summary: github.String(summary),
		},
	}
	resp, err := rp.call(ctx, false, func() (*github.Response, error) {
		_, resp, err := rp.gh.Checks.CreateCheckRun(ctx, owner, repo, opts)
		return resp, err
	})
	if err != nil {
		return apiError(what, "checks: write", resp, err)
	}
	return nil
}

// upsertComment edits the sticky comment, or posts it when there is none.
func (rp *Reporter) upsertComment(ctx context.Context, owner, repo string, r prcheck.Result) error {
	where := fmt.Sprintf("pull request %s/%s#%d", owner, repo, r.Number)
	if r.Number <= 0 {
		return fmt.Errorf("prreport: commenting on %s: no pull request number", where)
	}
	id, err := rp.findComment(ctx, owner, repo, r.Number)
	if err != nil {
		return err
	}
	body := &github.IssueComment{Body: github.String(Markdown(r))}
	if id != 0 {
		what := fmt.Sprintf("editing comment %d on %s", id, where)
		resp, err := rp.call(ctx, true, func() (*github.Response, error) {
			_, resp, err := rp.gh.Issues.EditComment(ctx, owner, repo, id, body)
			return resp, err
		})
		if err != nil {
			return apiError(what, "pull-requests: write", resp, err)
		}
		return nil
	}
	resp, err := rp.call(ctx, false, func() (*github.Response, error) {
		_, resp, err := rp.gh.Issues.CreateComment(ctx, owner, repo, r.Number, body)
		return resp, err
	})
	if err != nil {
		return apiError("commenting on "+where, "pull-requests: write", resp, err)
	}
	return nil
}

// findComment returns the id of the oldest sticky comment on the pull
// request, 0 if there is none.
func (rp *Reporter) findComment(ctx context.Context, owner, repo string, number int) (int64, error) {
	what := fmt.Sprintf("listing the comments of pull request %s/%s#%d", owner, repo, number)
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: perPage}}
	for page := 0; ; page++ {
		if page >= maxCommentPages {
			return 0, fmt.Errorf("prreport: %s: more than %d pages", what, maxCommentPages)
		}
		var list []*github.IssueComment
		resp, err := rp.call(ctx, true, func() (r *github.Response, err error) {
			list, r, err = rp.gh.Issues.ListComments(ctx, owner, repo, number, opts)
			return r, err
		})
		if err != nil {
			return 0, apiError(what, "pull-requests: write", resp, err)
		}
		for _, c := range list {
			if rp.sticky(c) {
				return c.GetID(), nil
			}
		}
		if resp.NextPage == 0 {
			return 0, nil
		}
		opts.Page = resp.NextPage
	}
}

// sticky says whether c is the comment a run edits: it starts with the
// marker and is by the token's account (see [Reporter.Login]).
func (rp *Reporter) sticky(c *github.IssueComment) bool {
	if !strings.HasPrefix(strings.TrimLeft(c.GetBody(), " \r\n"), Marker) || c.GetID() == 0 {
		return false
	}
	u := c.GetUser()
	if rp.Login != "" {
		return strings.EqualFold(u.GetLogin(), rp.Login)
	}
	return u.GetType() == "Bot"
}

// call runs one go-github call, retrying what may succeed if repeated:
// rate limits (the request was not processed) always, and network
// errors and HTTP 5xx only when idempotent, since a create that failed
// that way may have been made (a second comment is worse than an
// error). A wait the server asks for is binding: when it is longer than
// the cap, call gives up rather than retrying early.
func (rp *Reporter) call(ctx context.Context, idempotent bool, fn func() (*github.Response, error)) (*github.Response, error) {
	var resp *github.Response
	err := rp.retry.Do(ctx, func() (httpretry.Outcome, error) {
		var err error
		resp, err = fn()
		if err == nil {
			return httpretry.Outcome{}, nil
		}
		var hr *http.Response
		if resp != nil {
			hr = resp.Response
		}
		o := httpretry.Classify(ctx, hr, err)
		if !idempotent && !o.RateLimited {
			o.Retryable = false
		}
		// Hard: a server's wait past the cap ends the retries, as for
		// GitHub's primary rate limit.
		o.Hard = true
		return o, err
	})
	return resp, err
}

// apiError names what failed, its HTTP status and the permission the
// token needs for it.
func apiError(what, permission string, resp *github.Response, err error) error {
	status := "no response"
	if code := statusOf(resp); code != 0 {
		status = fmt.Sprintf("HTTP %d", code)
	}
	hint := "the token needs " + permission
	switch statusOf(resp) {
	case http.StatusForbidden, http.StatusNotFound:
		hint += "; a pull_request workflow for a fork gets a read-only token"
	}
	return fmt.Errorf("prreport: %s: %s (%s): %w", what, status, hint, err)
}

func statusOf(resp *github.Response) int {
	if resp == nil || resp.Response == nil {
		return 0
	}
	return resp.StatusCode
}
