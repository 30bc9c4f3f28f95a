// Package jobstate answers the sweep's question "is the CI job (or pull
// request) that holds a lease over?" by asking the CI provider's API:
// GitHub (check runs, workflow run attempts, pull requests) through
// go-github, and GitLab (jobs, merge requests) through its REST API.
//
// A job counts as ended when the provider reports it finished (completed,
// failed, cancelled, skipped…), or when the provider no longer knows it
// (HTTP 404) and the lease was issued longer ago than the longest a job may
// run there plus UnknownMargin. A pull request counts as ended when it was
// closed without merge; a merged one does not (the merge is the record and
// its leases expire on their own). Leases carrying neither job nor pull
// request information never count as ended: the sweep revokes them at
// expiry.
//
// Tokens: on GitHub, read access to checks, actions and pull requests
// (fine-grained: Checks, Actions and Pull requests read; classic: repo);
// on GitLab, read_api. Both providers answer 404 for what the token may
// not see, so a token without access makes every job look unknown and
// counts it as ended once past the maximum job time: revoking early, the
// safe direction.
//
// Requests that fail with a network error, HTTP 429 or 5xx (and GitHub's
// rate-limit 403s) are retried with exponential backoff, honouring a capped
// Retry-After; other 4xx answers are not retried. Errors name the provider,
// the repository and job, and the HTTP status; they never contain a token.
package jobstate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jit-policy/jit-policy/internal/httpretry"
	"github.com/jit-policy/jit-policy/internal/lease"
)

// Verdict is what a Checker learned about a lease's job or pull request.
type Verdict struct {
	// Ended: the job or PR is over, so the lease may be revoked now.
	Ended bool
	// Reason is human-readable, e.g. "check run 123 completed (success)",
	// "job 456 canceled", "unknown for 7h, past GitHub's 6h job limit",
	// "PR #42 closed without merge". It is set for both outcomes.
	Reason string
}

// Providers, as recorded in lease.Job.Provider. An empty provider means
// GitHub, the provider of the leases recorded before the field existed.
const (
	ProviderGitHub = "github"
	ProviderGitLab = "gitlab"
)

// Defaults for Config.
const (
	DefaultGitHubAPI = "https://api.github.com/"
	DefaultGitLabAPI = "https://gitlab.com/api/v4/"

	// DefaultGitHubMaxJobTime is GitHub-hosted runners' job execution
	// limit (6 hours). Jobs on self-hosted runners may run up to 5 days:
	// set Config.GitHubMaxJobTime to 120h when they hold leases.
	DefaultGitHubMaxJobTime = 6 * time.Hour

	// DefaultGitLabMaxJobTime: GitLab has no instance-wide hard cap by
	// default. A project's job timeout defaults to 60 minutes and may be
	// raised (a job's `timeout:` or the project setting), runners may
	// set a maximum_timeout, and GitLab.com's hosted runners stop every
	// job after 3 hours. 24 hours covers all of those with room; set
	// Config.GitLabMaxJobTime to your longest job timeout if it is longer.
	DefaultGitLabMaxJobTime = 24 * time.Hour

	// UnknownMargin is added to the maximum job time before a job the
	// provider no longer knows counts as ended, for queueing of the post
	// step, clock skew between hosts and the provider's own slack in
	// enforcing its limit.
	UnknownMargin = time.Hour

	// DefaultAttempts, DefaultBackoff and DefaultMaxRetryAfter shape the
	// retries: attempt n (from 0) waits DefaultBackoff·2^n, or the
	// server's Retry-After when longer, capped at DefaultMaxRetryAfter.
	DefaultAttempts      = 3
	DefaultBackoff       = 200 * time.Millisecond
	DefaultMaxRetryAfter = 10 * time.Second

	// MaxResponseBytes caps every response body read from a provider.
	MaxResponseBytes = 1 << 20
)

// Config configures New. Zero fields take the defaults above.
type Config struct {
	// GitHubAPI is the REST API base URL, as is: https://api.github.com/
	// or, for GitHub Enterprise Server, https://HOST/api/v3/.
	GitHubAPI   string
	GitHubToken string // may be empty for public repositories
	// GitHubMaxJobTime is the longest a GitHub job may run: 6h on
	// GitHub-hosted runners (the default), up to 5 days (120h) on
	// self-hosted runners.
	GitHubMaxJobTime time.Duration

	GitLabAPI   string // e.g. https://gitlab.com/api/v4/
	GitLabToken string
	// GitLabTokenHeader is the header that carries GitLabToken:
	// "PRIVATE-TOKEN" (personal, group or project access token; the
	// default) or "JOB-TOKEN" (a CI_JOB_TOKEN).
	GitLabTokenHeader string
	// GitLabMaxJobTime is the longest a GitLab job may run; default 24h
	// (see DefaultGitLabMaxJobTime).
	GitLabMaxJobTime time.Duration

	HTTPClient *http.Client // nil: a client with a 30s timeout
	// Now is the clock of the "unknown past the maximum job time" rule;
	// nil means time.Now.
	Now func() time.Time

	// Retries; zero values take DefaultAttempts, DefaultBackoff and
	// DefaultMaxRetryAfter.
	Attempts      int
	Backoff       time.Duration
	MaxRetryAfter time.Duration
}

// Checker says whether the CI job or pull request holding a lease has
// ended, asking GitHub's or GitLab's API. It is safe for concurrent use.
type Checker struct {
	github *githubProvider
	gitlab *gitlabProvider
	now    func() time.Time
	retry  httpretry.Policy
	tokens []string // redacted from every error
}

// New returns a Checker for cfg.
func New(cfg Config) (*Checker, error) {
	c := &Checker{now: cfg.Now, retry: httpretry.Policy{
		Attempts: cfg.Attempts, Backoff: cfg.Backoff, MaxWait: cfg.MaxRetryAfter,
	}}
	if c.now == nil {
		c.now = time.Now
	}
	if c.retry.Attempts <= 0 {
		c.retry.Attempts = DefaultAttempts
	}
	if c.retry.Backoff <= 0 {
		c.retry.Backoff = DefaultBackoff
	}
	if c.retry.MaxWait <= 0 {
		c.retry.MaxWait = DefaultMaxRetryAfter
	}
	for _, t := range []string{cfg.GitHubToken, cfg.GitLabToken} {
		if t != "" {
			c.tokens = append(c.tokens, t)
		}
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	if cfg.HTTPClient != nil {
		copied := *cfg.HTTPClient
		hc = &copied
	}
	hc.Transport = cappedTransport{base: hc.Transport}
	hc.CheckRedirect = sameHost(hc.CheckRedirect)

	var err error
	if c.github, err = newGitHub(cfg, hc); err != nil {
		return nil, err
	}
	if c.gitlab, err = newGitLab(cfg, hc); err != nil {
		return nil, err
	}
	return c, nil
}

// Ended says whether the job or pull request holding l has ended. The job
// is asked about first; when it has not ended (or could not be asked) and
// the lease belongs to a pull request, the pull request is asked about
// too. An error is returned only when neither answer says ended and one of
// them failed; the Verdict is then zero (not ended).
func (c *Checker) Ended(ctx context.Context, l lease.Lease) (Verdict, error) {
	v, err := c.ended(ctx, l)
	if err != nil {
		return Verdict{}, redact(err, c.tokens)
	}
	return v, nil
}

func (c *Checker) ended(ctx context.Context, l lease.Lease) (Verdict, error) {
	hasJob := l.Job.JobID != "" || l.Job.RunID != ""
	if !hasJob && l.PR <= 0 {
		return Verdict{Reason: "no job or pull request to ask about"}, nil
	}
	var p provider
	switch l.Job.Provider {
	case "", ProviderGitHub:
		p = c.github
	case ProviderGitLab:
		p = c.gitlab
	default:
		return Verdict{}, fmt.Errorf("lease %s: unknown CI provider %q", l.ID, l.Job.Provider)
	}
	var (
		v       Verdict
		errs    []error
		reasons []string
	)
	if hasJob {
		jv, err := p.job(ctx, c, l)
		if err == nil && jv.Ended {
			return jv, nil
		}
		v, reasons, errs = jv, append(reasons, jv.Reason), append(errs, err)
	}
	if l.PR > 0 {
		pv, err := p.pullRequest(ctx, c, l)
		if err == nil && pv.Ended {
			return pv, nil
		}
		reasons, errs = append(reasons, pv.Reason), append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return Verdict{}, err
	}
	v.Reason = strings.Join(reasons, "; ")
	return v, nil
}

// provider is one CI provider's API.
type provider interface {
	job(ctx context.Context, c *Checker, l lease.Lease) (Verdict, error)
	pullRequest(ctx context.Context, c *Checker, l lease.Lease) (Verdict, error)
}

// unknown applies the rule for a job the provider does not know: ended
// only when the lease was issued longer ago than maxJob + UnknownMargin.
func (c *Checker) unknown(l lease.Lease, what, providerName string, maxJob time.Duration) Verdict {
	if l.IssuedAt.IsZero() {
		return Verdict{Reason: what + " unknown, and the lease has no issue time"}
	}
	age := c.now().Sub(l.IssuedAt)
	if age > maxJob+UnknownMargin {
		return Verdict{Ended: true, Reason: fmt.Sprintf("%s unknown for %s, past %s's %s job limit",
			what, human(age), providerName, human(maxJob))}
	}
	return Verdict{Reason: fmt.Sprintf("%s unknown for %s, not past %s's %s job limit + %s margin",
		what, human(age), providerName, human(maxJob), human(UnknownMargin))}
}

// classify is [httpretry.Classify], except that a response body past
// MaxResponseBytes (errTooLarge) is not retried: it would be as large
// again.
func classify(ctx context.Context, resp *http.Response, err error) httpretry.Outcome {
	if errors.Is(err, errTooLarge) {
		return httpretry.Outcome{}
	}
	return httpretry.Classify(ctx, resp, err)
}

// human formats d to the minute: "7h", "6h30m", "45m".
func human(d time.Duration) string {
	d = d.Truncate(time.Minute)
	if d < time.Minute {
		return "under a minute"
	}
	s := strings.TrimSuffix(d.String(), "0s") // "7h0m", "6h30m", "45m"
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
