package prfacts

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/jit-policy/jit-policy/action/event"
	"github.com/jit-policy/jit-policy/engine"
	"github.com/jit-policy/jit-policy/internal/config"
)

// ChangedFile is one file the pull request changes.
type ChangedFile struct {
	// Name is the file's path in the head commit.
	Name string
	// Status is GitHub's: "added", "removed", "modified", "renamed",
	// "copied", "changed" or "unchanged".
	Status string
	// SHA is the file's blob id in the head commit (empty when removed).
	SHA string
	// PreviousName is the path before a rename or copy.
	PreviousName string
}

// Facts are a pull request's facts as the policy sees them, after the
// built-in rules.
type Facts struct {
	// PR is input.pull_request. Files lists every changed path, including
	// the old path of a renamed file.
	PR engine.PullRequest
	// Changed lists the changed files with their status, so that the
	// caller can pick the added and modified request files.
	Changed []ChangedFile
	// Approvals is input.approvals: the latest stance (APPROVED or
	// CHANGES_REQUESTED) of each reviewer, sorted by login, without the
	// approvals the built-in rules drop.
	Approvals []engine.Approval
	// Requester is input.requester: the PR author and their teams among
	// the configured ones.
	Requester engine.Requester
	// ClosedUnmerged says the API shows the pull request closed without
	// merge (an event such as workflow_run does not say).
	ClosedUnmerged bool
	// Refusals are the built-in reasons to refuse whatever the policy
	// says, one sentence each; empty when there are none.
	Refusals []string
	// Dropped says which approvals were left out of Approvals, who and
	// why, for the report.
	Dropped []string
}

// Facts fetches the facts of the pull request ev names, in the repository
// ev names, as of now. Team memberships are asked for cfg.Teams only; an
// unreadable membership is an error wrapping [ErrMembershipUnreadable].
func (c *Client) Facts(ctx context.Context, ev event.Event, cfg config.PullRequests, now time.Time) (Facts, error) {
	owner, repo := ev.Owner, ev.Repo
	if err := checkRepo(owner, repo); err != nil {
		return Facts{}, err
	}
	if ev.Number <= 0 {
		return Facts{}, fmt.Errorf("prfacts: pull request number %d is not positive", ev.Number)
	}
	full := owner + "/" + repo
	what := fmt.Sprintf("PR #%d of %s", ev.Number, full)

	var pr *github.PullRequest
	resp, err := c.call(ctx, func() (r *github.Response, err error) {
		pr, r, err = c.gh.PullRequests.Get(ctx, owner, repo, ev.Number)
		return r, err
	})
	if err != nil {
		return Facts{}, apiError(what, resp, err)
	}
	if got := pr.GetBase().GetRepo().GetFullName(); !strings.EqualFold(got, full) {
		return Facts{}, fmt.Errorf("prfacts: %s: the API answered for base repository %q", what, got)
	}
	if pr.GetNumber() != ev.Number {
		return Facts{}, fmt.Errorf("prfacts: %s: the API answered for PR #%d", what, pr.GetNumber())
	}
	head := pr.GetHead().GetSHA()
	if !event.ValidSHA(head) {
		return Facts{}, fmt.Errorf("prfacts: %s: head sha %q is not a commit id", what, head)
	}
	author := pr.GetUser().GetLogin()
	if author == "" {
		return Facts{}, fmt.Errorf("prfacts: %s: no author", what)
	}

	var f Facts
	f.PR = engine.PullRequest{
		Number:            pr.GetNumber(),
		Author:            author,
		AuthorAssociation: pr.GetAuthorAssociation(),
		BaseRef:           pr.GetBase().GetRef(),
		HeadSHA:           head,
		Draft:             pr.GetDraft(),
		Merged:            pr.GetMerged() || pr.MergedAt != nil,
		Labels:            []string{},
		Files:             []string{},
	}
	for _, l := range pr.Labels {
		f.PR.Labels = append(f.PR.Labels, l.GetName())
	}

	// Built-in refusals from the pull request itself.
	headRepo := pr.GetHead().GetRepo()
	switch {
	case headRepo == nil:
		f.PR.FromFork = true
		f.refuse("The pull request's head repository is gone (a deleted fork), so its origin cannot be checked: requests from forks are refused.")
	case !strings.EqualFold(headRepo.GetFullName(), full) || headRepo.GetID() != pr.GetBase().GetRepo().GetID():
		f.PR.FromFork = true
		f.refuse(fmt.Sprintf("The pull request comes from the fork %s, not from a branch of %s: requests from forks are refused.", headRepo.GetFullName(), full))
	}
	if f.PR.Draft {
		f.refuse("The pull request is a draft: mark it ready for review to request access.")
	}
	if pr.GetState() == "closed" && !f.PR.Merged {
		f.ClosedUnmerged = true
		f.refuse("The pull request is closed without merge.")
	}
	maxAge := cfg.MaxPendingAge.Duration
	if maxAge <= 0 {
		maxAge = config.DefaultMaxPendingAge
	}
	if pr.CreatedAt == nil {
		return Facts{}, fmt.Errorf("prfacts: %s: no created_at", what)
	}
	if age := now.Sub(pr.CreatedAt.Time); age > maxAge {
		f.refuse(fmt.Sprintf("The pull request was opened %s ago, longer than the %s allowed (pull_requests.max_pending_age): open a new one.",
			age.Round(time.Minute), maxAge))
	}

	if err := c.files(ctx, &f, owner, repo, ev.Number, what, pr.GetChangedFiles()); err != nil {
		return Facts{}, err
	}
	pushers, err := c.pushers(ctx, &f, owner, repo, ev.Number, what, pr.GetCommits())
	if err != nil {
		return Facts{}, err
	}
	reviews, err := c.reviews(ctx, owner, repo, ev.Number, what)
	if err != nil {
		return Facts{}, err
	}
	f.Approvals, f.Dropped = stances(reviews, author, head, pushers)

	teams := newTeamChecker(c, cfg.Teams)
	if f.Requester.Teams, err = teams.of(ctx, author); err != nil {
		return Facts{}, err
	}
	f.Requester.Login = author
	for i := range f.Approvals {
		if f.Approvals[i].Teams, err = teams.of(ctx, f.Approvals[i].Login); err != nil {
			return Facts{}, err
		}
	}
	// The files, commits and reviews above were listed after the head was
	// read: if a push came in between they may belong to another commit.
	var again *github.PullRequest
	resp, err = c.call(ctx, func() (r *github.Response, err error) {
		again, r, err = c.gh.PullRequests.Get(ctx, owner, repo, ev.Number)
		return r, err
	})
	if err != nil {
		return Facts{}, apiError(what, resp, err)
	}
	if got := again.GetHead().GetSHA(); got != head {
		return Facts{}, fmt.Errorf("prfacts: %s: its head moved from %.12s to %.12s while it was read; the run for the new head decides it", what, head, got)
	}
	return f, nil
}

func (f *Facts) refuse(s string) { f.Refusals = append(f.Refusals, s) }

// files lists every changed file, all pages.
func (c *Client) files(ctx context.Context, f *Facts, owner, repo string, number int, what string, changed int) error {
	seen := map[string]bool{}
	add := func(name string) {
		if name != "" && !seen[name] {
			seen[name] = true
			f.PR.Files = append(f.PR.Files, name)
		}
	}
	opts := &github.ListOptions{PerPage: perPage}
	for page := 0; ; page++ {
		if page >= maxFilePages {
			return fmt.Errorf("prfacts: %s: more than %d pages of changed files", what, maxFilePages)
		}
		var list []*github.CommitFile
		resp, err := c.call(ctx, func() (r *github.Response, err error) {
			list, r, err = c.gh.PullRequests.ListFiles(ctx, owner, repo, number, opts)
			return r, err
		})
		if err != nil {
			return apiError("changed files of "+what, resp, err)
		}
		for _, cf := range list {
			f.Changed = append(f.Changed, ChangedFile{Name: cf.GetFilename(), Status: cf.GetStatus(),
				SHA: cf.GetSHA(), PreviousName: cf.GetPreviousFilename()})
			add(cf.GetFilename())
			add(cf.GetPreviousFilename())
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if changed > len(f.Changed) {
		f.refuse(fmt.Sprintf("The pull request changes %d files but the API lists only %d: split it into smaller pull requests.", changed, len(f.Changed)))
	}
	return nil
}
