// Set-up and inspection of the fake's state.

package githubtest

import (
	"slices"
	"time"
)

// SetPR adds or replaces a pull request.
func (s *Server) SetPR(pr PR) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pr.CreatedAt.IsZero() {
		pr.CreatedAt = s.now().Add(-time.Hour)
	}
	s.prs[prKey{pr.Owner, pr.Repo, pr.Number}] = pr
}

// SetFiles sets the changed files of a pull request.
func (s *Server) SetFiles(owner, repo string, number int, files []File) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[prKey{owner, repo, number}] = slices.Clone(files)
}

// SetReviews sets the reviews of a pull request, in submission order.
func (s *Server) SetReviews(owner, repo string, number int, reviews []Review) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := slices.Clone(reviews)
	for i := range rs {
		if rs[i].ID == 0 {
			rs[i].ID = s.id()
		}
		if rs[i].SubmittedAt.IsZero() {
			rs[i].SubmittedAt = s.now()
		}
	}
	s.reviews[prKey{owner, repo, number}] = rs
}

// SetCommits sets the commits of a pull request, oldest first.
func (s *Server) SetCommits(owner, repo string, number int, commits []Commit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commits[prKey{owner, repo, number}] = slices.Clone(commits)
}

// SetContent sets the content of the file at path in owner/repo at ref
// (as given in the request's ref parameter; "" for requests without one).
func (s *Server) SetContent(owner, repo, path, ref string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.contents[contentKey{owner, repo, path, ref}] = slices.Clone(data)
}

// SetTeamMembers creates the team org/slug, if needed, and sets its
// active members.
func (s *Server) SetTeamMembers(org, slug string, logins ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := org + "/" + slug
	tm := s.teams[k]
	if tm == nil {
		tm = &team{id: s.id()}
		s.teams[k] = tm
	}
	tm.members = slices.Clone(logins)
}

// ForbidTeams makes every team endpoint answer 403 "Resource not
// accessible by integration", as for the default GITHUB_TOKEN.
func (s *Server) ForbidTeams() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forbid = true
}

// SetUserKeys creates the user login, if needed, and sets its public SSH
// keys (authorized_keys lines). Keys of users never set answer 404.
func (s *Server) SetUserKeys(login string, keys ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[login] = append([]string{}, keys...)
}

// AddComment adds a comment by login to issue or pull request number, as
// if made earlier, and returns its id.
func (s *Server) AddComment(owner, repo string, number int, login, body string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	c := &Comment{ID: s.id(), Body: body, User: login, CreatedAt: now, UpdatedAt: now}
	k := prKey{owner, repo, number}
	s.comments[k] = append(s.comments[k], c)
	return c.ID
}

// CheckRuns returns the check runs created so far, in creation order.
func (s *Server) CheckRuns() []CheckRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]CheckRun, len(s.checkRuns))
	for i, c := range s.checkRuns {
		out[i] = *c
	}
	return out
}

// Comments returns the comments on issue or pull request number, oldest
// first, after edits.
func (s *Server) Comments(owner, repo string, number int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Comment
	for _, c := range s.comments[prKey{owner, repo, number}] {
		out = append(out, *c)
	}
	return out
}

// Statuses returns the commit statuses created so far, in order.
func (s *Server) Statuses() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.statuses)
}

// Requests returns every request so far as "METHOD /path?query", the path
// relative to the API root (such as "GET /repos/acme/widgets/pulls/42").
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Unhandled returns the requests to endpoints the fake does not answer
// (answered 404), in the form of [Server.Requests].
func (s *Server) Unhandled() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.unhandled)
}
