// Types of the fake's state: pull requests and what hangs off them, and
// the check runs, comments and statuses created through it.

package githubtest

import (
	"time"
)

// PR is a pull request in the fake. Zero fields get defaults: State
// "open" (or "closed" when Merged), AuthorAssociation "CONTRIBUTOR",
// BaseRef "main", HeadRef "feature", CreatedAt one hour before [Server.SetPR].
type PR struct {
	Owner, Repo       string
	Number            int
	Author            string
	AuthorAssociation string // OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR, NONE…
	HeadSHA, HeadRef  string
	BaseSHA, BaseRef  string
	Draft, Merged     bool
	State             string // open or closed
	FromFork          bool   // head repository is Author/Repo, a fork
	Labels            []string
	CreatedAt         time.Time
	Title, Body       string
}

// File is a changed file of a pull request. Status is one of added,
// removed, modified, renamed, copied, changed, unchanged; PreviousName is
// set for renamed files.
type File struct {
	Name, Status, PreviousName string
}

// Review is a pull request review. A zero ID is assigned; a zero
// SubmittedAt is the time of [Server.SetReviews].
type Review struct {
	ID          int64
	Login       string
	State       string // APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED
	CommitID    string
	SubmittedAt time.Time
	Body        string
}

// Commit is a commit of a pull request. An empty login answers null, as
// GitHub does for an e-mail address linked to no account.
type Commit struct {
	SHA, AuthorLogin, CommitterLogin string
	Message                          string
}

// CheckRun is a check run created through the fake, in its current state.
type CheckRun struct {
	ID                     int64
	Owner, Repo            string
	Name, HeadSHA          string
	Status, Conclusion     string
	Title, Summary, Text   string
	DetailsURL, ExternalID string
	StartedAt, CompletedAt time.Time
	Updates                int // PATCH requests applied
}

// Comment is an issue (pull request) comment in its current state.
type Comment struct {
	ID        int64
	Body      string
	User      string // login; BotLogin for comments made through the fake
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Status is a commit status created through the fake.
type Status struct {
	ID                                     int64
	Owner, Repo, SHA                       string
	State, Context, Description, TargetURL string
}

type prKey struct {
	owner, repo string
	number      int
}

type contentKey struct{ owner, repo, path, ref string }

type team struct {
	id      int64
	members []string
}
