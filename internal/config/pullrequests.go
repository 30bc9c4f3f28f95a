package config

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// PullRequests configures `jit-policy check`, the pull-request access
// request flow (DESIGN.md, "Pull request"). Optional: without it check uses
// the defaults below.
type PullRequests struct {
	// Requests is the folder of request files in the repository (default
	// "requests"); only files the PR adds or changes under it are read.
	Requests string `yaml:"requests"`
	// Teams are the "org/team-slug" teams whose membership check fetches
	// for the requester and every approver (input.requester.teams,
	// input.approvals[].teams). The API cannot list a user's teams with a
	// repository token, so only these are asked.
	Teams []string `yaml:"teams"`
	// MaxPendingAge refuses requests whose pull request is older than this
	// (default 168h): an old approval is not a fresh decision.
	MaxPendingAge Duration `yaml:"max_pending_age"`
	// APIURL is the REST API base (default https://api.github.com/; GitHub
	// Enterprise: https://HOST/api/v3/). The token comes from GITHUB_TOKEN
	// or GH_TOKEN.
	APIURL string `yaml:"api_url"`
}

// Pull-request defaults.
const (
	DefaultRequestsDir   = "requests"
	DefaultMaxPendingAge = 168 * time.Hour
	DefaultGitHubAPI     = "https://api.github.com/"
)

var teamRe = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9_.-]{1,100}$`)

// withDefaults fills the unset fields.
func (p PullRequests) withDefaults() PullRequests {
	if p.Requests == "" {
		p.Requests = DefaultRequestsDir
	}
	if p.MaxPendingAge.Duration == 0 {
		p.MaxPendingAge.Duration = DefaultMaxPendingAge
	}
	if p.APIURL == "" {
		p.APIURL = DefaultGitHubAPI
	}
	return p
}

func (v *validator) pullRequests(p *PullRequests) {
	if p == nil {
		return
	}
	if p.Requests != "" && (strings.HasPrefix(p.Requests, "/") || strings.Contains(p.Requests, "..")) {
		v.Fail("pull_requests.requests", "must be a folder inside the repository, such as requests")
	}
	for i, t := range p.Teams {
		if !teamRe.MatchString(t) {
			v.Fail(fmt.Sprintf("pull_requests.teams[%d]", i), `must be "org/team-slug"`)
		}
	}
	if p.MaxPendingAge.Duration < 0 {
		v.Fail("pull_requests.max_pending_age", "must be positive")
	}
	if p.APIURL != "" {
		v.endpoint("pull_requests.api_url", p.APIURL)
	}
}
