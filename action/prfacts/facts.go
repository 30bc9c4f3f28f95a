package prfacts

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/jit-policy/jit-policy/action/event"
	"github.com/jit-policy/jit-policy/engine"
	"github.com/jit-policy/jit-policy/internal/config"
)

// Review states as the API reports them.
const (
	StateApproved         = "APPROVED"
	StateChangesRequested = "CHANGES_REQUESTED"
	StateCommented        = "COMMENTED"
	StateDismissed        = "DISMISSED"
)

// webFlow is the committer GitHub records for commits made in its web
// interface: not a person.
const webFlow = "web-flow"

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

// pusher is why a login counts as having pushed to the pull request.
type pusher struct {
	login, why string
}

// pushers lists who authored or committed the pull request's commits, by
// lower-case login, all pages; GitHub's web-flow committer is skipped.
func (c *Client) pushers(ctx context.Context, f *Facts, owner, repo string, number int, what string, count int) (map[string]pusher, error) {
	who := map[string]pusher{}
	note := func(u *github.User, role, sha string) {
		login := u.GetLogin()
		if login == "" || strings.EqualFold(login, webFlow) {
			return
		}
		if _, ok := who[strings.ToLower(login)]; !ok {
			who[strings.ToLower(login)] = pusher{login: login, why: fmt.Sprintf("%s commit %s of this pull request", role, short(sha))}
		}
	}
	var unlinked []string
	listed := 0
	opts := &github.ListOptions{PerPage: perPage}
	for page := 0; ; page++ {
		if page >= maxCommitPages {
			break // GitHub lists at most 250 commits; see the count check below
		}
		var list []*github.RepositoryCommit
		resp, err := c.call(ctx, func() (r *github.Response, err error) {
			list, r, err = c.gh.PullRequests.ListCommits(ctx, owner, repo, number, opts)
			return r, err
		})
		if err != nil {
			return nil, apiError("commits of "+what, resp, err)
		}
		for _, rc := range list {
			listed++
			sha := rc.GetSHA()
			note(rc.GetAuthor(), "authored", sha)
			note(rc.GetCommitter(), "committed", sha)
			if rc.GetAuthor().GetLogin() == "" || rc.GetCommitter().GetLogin() == "" {
				unlinked = append(unlinked, short(sha))
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	if count > listed {
		f.refuse(fmt.Sprintf("The pull request has %d commits but the API lists only %d, so who pushed them cannot be checked: squash or split it.", count, listed))
	}
	if len(unlinked) > 0 {
		f.refuse(fmt.Sprintf("Commit(s) %s have an author or committer that is no GitHub account, so who wrote them cannot be checked against the reviewers: use an e-mail address linked to your GitHub account.",
			strings.Join(unlinked, ", ")))
	}
	return who, nil
}

// reviews lists the pull request's reviews, all pages.
func (c *Client) reviews(ctx context.Context, owner, repo string, number int, what string) ([]*github.PullRequestReview, error) {
	var all []*github.PullRequestReview
	opts := &github.ListOptions{PerPage: perPage}
	for page := 0; ; page++ {
		if page >= maxReviewPages {
			return nil, fmt.Errorf("prfacts: %s: more than %d pages of reviews", what, maxReviewPages)
		}
		var list []*github.PullRequestReview
		resp, err := c.call(ctx, func() (r *github.Response, err error) {
			list, r, err = c.gh.PullRequests.ListReviews(ctx, owner, repo, number, opts)
			return r, err
		})
		if err != nil {
			return nil, apiError("reviews of "+what, resp, err)
		}
		all = append(all, list...)
		if resp.NextPage == 0 {
			return all, nil
		}
		opts.Page = resp.NextPage
	}
}

// stances keeps the latest stance of each reviewer (APPROVED or
// CHANGES_REQUESTED; COMMENTED and PENDING change nothing; DISMISSED
// removes it), marks it current when given on head, and drops the
// approvals of the author, of anyone who authored or committed a commit,
// and of older commits (so every approval left is current, whatever the
// policy reads), saying why in dropped.
func stances(reviews []*github.PullRequestReview, author, head string, pushers map[string]pusher) (approvals []engine.Approval, dropped []string) {
	ordered := make([]*github.PullRequestReview, 0, len(reviews))
	for _, r := range reviews {
		if r != nil && r.GetUser().GetLogin() != "" {
			ordered = append(ordered, r)
		}
	}
	// The API lists reviews in order; sort by submission time to be sure.
	sort.SliceStable(ordered, func(i, j int) bool {
		return ordered[i].GetSubmittedAt().Time.Before(ordered[j].GetSubmittedAt().Time)
	})
	latest := map[string]*github.PullRequestReview{}
	for _, r := range ordered {
		key := strings.ToLower(r.GetUser().GetLogin())
		switch r.GetState() {
		case StateApproved, StateChangesRequested:
			latest[key] = r
		case StateDismissed:
			delete(latest, key)
		}
	}
	for key, r := range latest {
		login := r.GetUser().GetLogin()
		if r.GetState() == StateApproved {
			if strings.EqualFold(login, author) {
				dropped = append(dropped, fmt.Sprintf("%s: the pull request's author; an author's own approval never counts.", login))
				continue
			}
			if p, ok := pushers[key]; ok {
				dropped = append(dropped, fmt.Sprintf("%s: %s; an approval by someone who wrote or pushed a commit of the pull request does not count.", login, p.why))
				continue
			}
			if r.GetCommitID() != head {
				// Whatever the policy says: an approval of an older
				// commit did not see what is asked now.
				dropped = append(dropped, fmt.Sprintf("%s: approved an older commit (%.12s), not the head commit; approve again.", login, r.GetCommitID()))
				continue
			}
		}
		approvals = append(approvals, engine.Approval{
			Login:       login,
			Teams:       []string{},
			CommitID:    r.GetCommitID(),
			Current:     r.GetCommitID() == head,
			State:       r.GetState(),
			SubmittedAt: r.GetSubmittedAt().Time.UTC(),
		})
	}
	sort.Slice(approvals, func(i, j int) bool { return strings.ToLower(approvals[i].Login) < strings.ToLower(approvals[j].Login) })
	sort.Strings(dropped)
	return approvals, dropped
}

// teamChecker asks the configured teams' memberships, once per team and
// login.
type teamChecker struct {
	c        *Client
	teams    []string
	readable map[string]bool
	cache    map[string][]string
}

func newTeamChecker(c *Client, teams []string) *teamChecker {
	return &teamChecker{c: c, teams: teams, readable: map[string]bool{}, cache: map[string][]string{}}
}

// of returns the configured teams ("org/slug") login is an active member
// of. GitHub accounts of apps ("name[bot]") are in no team.
func (t *teamChecker) of(ctx context.Context, login string) ([]string, error) {
	key := strings.ToLower(login)
	if got, ok := t.cache[key]; ok {
		return got, nil
	}
	member := []string{}
	if strings.HasSuffix(login, "[bot]") {
		t.cache[key] = member
		return member, nil
	}
	if !event.ValidOwner(login) {
		return nil, fmt.Errorf("prfacts: %q is not a GitHub login", login)
	}
	for _, team := range t.teams {
		org, slug, ok := strings.Cut(team, "/")
		if !ok || !event.ValidOwner(org) || !event.ValidRepo(slug) {
			return nil, fmt.Errorf("prfacts: team %q is not org/team-slug", team)
		}
		if err := t.check(ctx, team, org, slug); err != nil {
			return nil, err
		}
		var m *github.Membership
		resp, err := t.c.call(ctx, func() (r *github.Response, err error) {
			m, r, err = t.c.gh.Teams.GetTeamMembershipBySlug(ctx, org, slug, login)
			return r, err
		})
		switch code := statusOf(resp); {
		case err == nil:
			if m.GetState() == "active" {
				member = append(member, team)
			}
		case code == http.StatusNotFound:
			// Not a member (the team itself was readable).
		case code == http.StatusForbidden || code == http.StatusUnauthorized:
			return nil, unreadable(team, code, err)
		default:
			return nil, apiError(fmt.Sprintf("membership of %s in %s", login, team), resp, err)
		}
	}
	t.cache[key] = member
	return member, nil
}

// check makes sure the team itself is visible: with a token that cannot
// read the organisation's teams (the default GITHUB_TOKEN) every
// membership answers 404, which must not read as "not a member".
func (t *teamChecker) check(ctx context.Context, team, org, slug string) error {
	if t.readable[team] {
		return nil
	}
	resp, err := t.c.call(ctx, func() (r *github.Response, err error) {
		_, r, err = t.c.gh.Teams.GetTeamBySlug(ctx, org, slug)
		return r, err
	})
	switch code := statusOf(resp); {
	case err == nil:
		t.readable[team] = true
		return nil
	case code == http.StatusNotFound || code == http.StatusForbidden || code == http.StatusUnauthorized:
		return unreadable(team, code, err)
	default:
		return apiError("team "+team, resp, err)
	}
}

// unreadable is the error of a membership the token cannot read.
func unreadable(team string, code int, err error) error {
	hint := ""
	if code == http.StatusNotFound {
		hint = " (or the team does not exist)"
	}
	return fmt.Errorf("prfacts: cannot read membership of %s: %w (HTTP %d%s: %v)", team, ErrMembershipUnreadable, code, hint, err)
}
