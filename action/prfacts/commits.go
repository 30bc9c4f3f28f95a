// Who authored or committed a pull request's commits.

package prfacts

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v60/github"
)

// webFlow is the committer GitHub records for commits made in its web
// interface: not a person.
const webFlow = "web-flow"

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
