// Team memberships of the requester and approvers.

package prfacts

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/jit-policy/jit-policy/action/event"
)

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
	return fmt.Errorf("prfacts: cannot read membership of %s: %w (HTTP %d%s: %w)", team, ErrMembershipUnreadable, code, hint, err)
}
