// Package prfacts fetches the facts of a pull-request access request from
// GitHub's REST API (DESIGN.md, "Pull request"): the pull request, its
// changed files, reviews, commits and the team memberships of its author
// and reviewers, plus the files and SSH keys the flow reads. It applies
// the built-in rules that hold whatever the policy says: no requests from
// forks, drafts or stale pull requests, no approval by the author or by
// anyone who wrote or pushed a commit of the pull request, only the latest
// stance of each reviewer, and current only on the head commit.
package prfacts

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/jit-policy/jit-policy/action/event"
	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/internal/httpretry"
)

// MaxFileBytes bounds a file read with [Client.File].
const MaxFileBytes = 64 << 10

// Page bounds: GitHub lists at most 3000 files and 250 commits of a pull
// request; reviews and keys are bounded generously.
const (
	perPage         = 100
	maxFilePages    = 30
	maxCommitPages  = 3
	maxReviewPages  = 30
	maxKeyPages     = 5
	defaultAttempts = 5
	defaultBackoff  = time.Second
	defaultMaxWait  = time.Minute
)

// ErrMembershipUnreadable is wrapped by the error of [Client.Facts] when
// the token cannot read a configured team's membership (the default
// GITHUB_TOKEN cannot): membership is then unknown, never "not a member".
var ErrMembershipUnreadable = errors.New("the token lacks members:read (use a GitHub App token)")

// Client asks GitHub's REST API through go-github, retrying rate limits.
type Client struct {
	gh    *github.Client
	retry httpretry.Policy
}

// Token picks the API token from the environment through getenv (such as
// os.Getenv): GITHUB_TOKEN, else GH_TOKEN.
func Token(getenv func(string) string) string {
	if t := getenv("GITHUB_TOKEN"); t != "" {
		return t
	}
	return getenv("GH_TOKEN")
}

// New returns a Client for the REST API at cfg.APIURL (default
// https://api.github.com/) authenticated with token. hc is the HTTP
// client to use; nil means one with a 30 s timeout.
func New(cfg config.PullRequests, token string, hc *http.Client) (*Client, error) {
	if token == "" {
		return nil, errors.New("prfacts: no GitHub token: set GITHUB_TOKEN or GH_TOKEN")
	}
	api := cfg.APIURL
	if api == "" {
		api = config.DefaultGitHubAPI
	}
	base, err := httpretry.BaseURL(api)
	if err != nil {
		return nil, fmt.Errorf("prfacts: GitHub API URL: %w", err)
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	gh := github.NewClient(hc).WithAuthToken(token)
	gh.BaseURL = base
	return &Client{gh: gh, retry: httpretry.Policy{Attempts: defaultAttempts, Backoff: defaultBackoff, MaxWait: defaultMaxWait}}, nil
}

// GitHub returns the underlying go-github client (same base URL and
// token), for writing the report.
func (c *Client) GitHub() *github.Client { return c.gh }

// File returns the content of the file at path in owner/repo at commit
// sha, refusing directories, symbolic links, submodules and files larger
// than [MaxFileBytes].
func (c *Client) File(ctx context.Context, owner, repo, filePath, sha string) ([]byte, error) {
	if err := checkRepo(owner, repo); err != nil {
		return nil, err
	}
	if !event.ValidSHA(sha) {
		return nil, fmt.Errorf("prfacts: %q is not a commit id", sha)
	}
	if filePath == "" || strings.HasPrefix(filePath, "/") || path.Clean(filePath) != filePath ||
		strings.Contains(filePath, "..") || strings.ContainsAny(filePath, "\x00\\") {
		return nil, fmt.Errorf("prfacts: %q is not a clean relative file path", filePath)
	}
	what := fmt.Sprintf("file %s at %s in %s/%s", filePath, short(sha), owner, repo)
	var (
		file *github.RepositoryContent
		dir  []*github.RepositoryContent
	)
	resp, err := c.call(ctx, func() (r *github.Response, err error) {
		file, dir, r, err = c.gh.Repositories.GetContents(ctx, owner, repo, filePath, &github.RepositoryContentGetOptions{Ref: sha})
		return r, err
	})
	if err != nil {
		return nil, apiError(what, resp, err)
	}
	if file == nil || dir != nil {
		return nil, fmt.Errorf("prfacts: %s is a directory, not a file", what)
	}
	if t := file.GetType(); t != "file" {
		return nil, fmt.Errorf("prfacts: %s is a %s, not a regular file", what, t)
	}
	if file.GetSize() > MaxFileBytes {
		return nil, fmt.Errorf("prfacts: %s has %d bytes, more than the %d allowed", what, file.GetSize(), MaxFileBytes)
	}
	if enc := file.GetEncoding(); enc != "base64" {
		return nil, fmt.Errorf("prfacts: %s: unexpected content encoding %q", what, enc)
	}
	if file.Content == nil {
		return nil, fmt.Errorf("prfacts: %s: no content", what)
	}
	if len(*file.Content) > 2*MaxFileBytes {
		return nil, fmt.Errorf("prfacts: %s has more than %d bytes", what, MaxFileBytes)
	}
	data, err := base64.StdEncoding.DecodeString(*file.Content)
	if err != nil {
		return nil, fmt.Errorf("prfacts: %s: decoding its base64 content: %w", what, err)
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("prfacts: %s has %d bytes, more than the %d allowed", what, len(data), MaxFileBytes)
	}
	return data, nil
}

// SSHKeys returns the public SSH keys of the GitHub account login, as
// authorized_keys lines ("ssh-ed25519 AAAA…").
func (c *Client) SSHKeys(ctx context.Context, login string) ([]string, error) {
	if !event.ValidOwner(login) {
		return nil, fmt.Errorf("prfacts: %q is not a GitHub login", login)
	}
	what := "SSH keys of " + login
	var keys []string
	opts := &github.ListOptions{PerPage: perPage}
	for page := 0; ; page++ {
		if page >= maxKeyPages {
			return nil, fmt.Errorf("prfacts: %s: more than %d pages", what, maxKeyPages)
		}
		var list []*github.Key
		resp, err := c.call(ctx, func() (r *github.Response, err error) {
			list, r, err = c.gh.Users.ListKeys(ctx, login, opts)
			return r, err
		})
		if err != nil {
			return nil, apiError(what, resp, err)
		}
		for _, k := range list {
			if s := strings.TrimSpace(k.GetKey()); s != "" {
				keys = append(keys, s)
			}
		}
		if resp.NextPage == 0 {
			return keys, nil
		}
		opts.Page = resp.NextPage
	}
}

// call runs one go-github call with retries.
func (c *Client) call(ctx context.Context, fn func() (*github.Response, error)) (*github.Response, error) {
	return c.retry.GitHub(ctx, httpretry.Classify, fn)
}

// apiError names the object and the HTTP status of a failed call.
func apiError(what string, resp *github.Response, err error) error {
	var rl *github.RateLimitError
	if errors.As(err, &rl) {
		return fmt.Errorf("prfacts: %s: GitHub's API rate limit is exhausted until %s: %w", what, rl.Rate.Reset.Time.UTC().Format(time.RFC3339), err)
	}
	status := "no response"
	if code := statusOf(resp); code != 0 {
		status = fmt.Sprintf("HTTP %d", code)
	}
	return fmt.Errorf("prfacts: %s: %s: %w", what, status, err)
}

func statusOf(resp *github.Response) int {
	if resp == nil || resp.Response == nil {
		return 0
	}
	return resp.StatusCode
}

// checkRepo refuses owner and repository names unsafe in an API path.
func checkRepo(owner, repo string) error {
	if !event.ValidOwner(owner) || !event.ValidRepo(repo) {
		return fmt.Errorf("prfacts: %q/%q is not a valid repository", owner, repo)
	}
	return nil
}

// short is the abbreviated commit id.
func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
