// Reviews of a pull request and the stances (approvals) kept from them.

package prfacts

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/jit-policy/jit-policy/engine"
)

// Review states as the API reports them.
const (
	StateApproved         = "APPROVED"
	StateChangesRequested = "CHANGES_REQUESTED"
	StateCommented        = "COMMENTED"
	StateDismissed        = "DISMISSED"
)

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
