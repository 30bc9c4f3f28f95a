// Package event reads the GitHub Actions event payload (the file named by
// GITHUB_EVENT_PATH) of the workflows that run the pull-request flow
// (DESIGN.md, "Pull request"): pull_request, pull_request_target,
// pull_request_review and workflow_run. It keeps only what the flow needs
// to find the pull request; every fact that decides anything is fetched
// again from the API (package prfacts), never trusted from the payload.
package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/google/go-github/v60/github"
)

// MaxPayloadBytes bounds an event payload: GitHub caps webhook payloads at
// 25 MB.
const MaxPayloadBytes = 25 << 20

// The event names (GITHUB_EVENT_NAME) Parse understands.
const (
	PullRequest       = "pull_request"
	PullRequestTarget = "pull_request_target"
	PullRequestReview = "pull_request_review"
	WorkflowRun       = "workflow_run"
)

// Event is what the pull-request flow needs from an event payload.
type Event struct {
	// Name is the event name (GITHUB_EVENT_NAME), such as "pull_request".
	Name string
	// Action is the payload's action, such as "opened", "synchronize",
	// "closed", "submitted" or "completed".
	Action string
	// Owner and Repo name the repository the workflow runs in.
	Owner, Repo string
	// Number is the pull request's number.
	Number int
	// HeadSHA is the head commit the payload names for the pull request
	// (for workflow_run: the head of its pull_requests entry).
	HeadSHA string
	// BaseRef is the pull request's base branch, when the payload names it.
	BaseRef string
	// DefaultBranch is the repository's default branch.
	DefaultBranch string
	// Merged is true when the payload says the pull request was merged.
	Merged bool
	// Closed is true when the payload says the pull request is closed
	// (merged or not).
	Closed bool
	// Sender is the login of the account that triggered the event.
	Sender string
	// RunEvent and RunConclusion are, for workflow_run only, the event
	// that triggered the finished run and its conclusion.
	RunEvent, RunConclusion string
}

// FullName is "owner/repo".
func (e Event) FullName() string { return e.Owner + "/" + e.Repo }

var (
	ownerRe = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$`)
	repoRe  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
	shaRe   = regexp.MustCompile(`^(?:[0-9a-f]{40}|[0-9a-f]{64})$`)
)

// ValidOwner reports whether s can be a GitHub user or organisation login
// (no "[bot]" suffix): safe to put in an API path.
func ValidOwner(s string) bool { return ownerRe.MatchString(s) }

// ValidRepo reports whether s can be a GitHub repository name: safe to
// put in an API path.
func ValidRepo(s string) bool { return repoRe.MatchString(s) && s != "." && s != ".." }

// ValidSHA reports whether s is a full lower-case hex commit id (SHA-1 or
// SHA-256).
func ValidSHA(s string) bool { return shaRe.MatchString(s) }

// ReadFile reads and parses the payload at path (GITHUB_EVENT_PATH) of
// the event called name (GITHUB_EVENT_NAME).
func ReadFile(name, path string) (Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return Event{}, fmt.Errorf("event: reading the %s payload: %w", name, err)
	}
	defer f.Close()
	return Read(name, f)
}

// Read reads at most [MaxPayloadBytes] from r and parses them with
// [Parse].
func Read(name string, r io.Reader) (Event, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxPayloadBytes+1))
	if err != nil {
		return Event{}, fmt.Errorf("event: reading the %s payload: %w", name, err)
	}
	return Parse(name, data)
}

// Parse decodes the payload data of the event called name (the value of
// GITHUB_EVENT_NAME). data must be one JSON object of at most
// [MaxPayloadBytes]. The repository and the pull request must be named;
// for workflow_run the pull request is the first entry of
// workflow_run.pull_requests whose base is this repository (GitHub also
// lists pull requests of other repositories there), and a run with none is
// refused.
func Parse(name string, data []byte) (Event, error) {
	if len(data) > MaxPayloadBytes {
		return Event{}, fmt.Errorf("event: the %s payload is larger than %d bytes", printable(name), MaxPayloadBytes)
	}
	ev := Event{Name: name}
	var err error
	switch name {
	case PullRequest:
		var p github.PullRequestEvent
		if err = decode(name, data, &p); err == nil {
			err = ev.fromPR(p.GetAction(), p.Repo, p.Sender, p.PullRequest, p.GetNumber())
		}
	case PullRequestTarget:
		var p github.PullRequestTargetEvent
		if err = decode(name, data, &p); err == nil {
			err = ev.fromPR(p.GetAction(), p.Repo, p.Sender, p.PullRequest, p.GetNumber())
		}
	case PullRequestReview:
		var p github.PullRequestReviewEvent
		if err = decode(name, data, &p); err == nil {
			err = ev.fromPR(p.GetAction(), p.Repo, p.Sender, p.PullRequest, 0)
		}
	case WorkflowRun:
		var p github.WorkflowRunEvent
		if err = decode(name, data, &p); err == nil {
			err = ev.fromRun(p)
		}
	case "":
		return Event{}, errors.New("event: no event name: set GITHUB_EVENT_NAME")
	default:
		return Event{}, fmt.Errorf("event: %q is not a pull-request event: run on pull_request, pull_request_target, pull_request_review or workflow_run", printable(name))
	}
	if err != nil {
		return Event{}, err
	}
	return ev, nil
}

// decode reads exactly one JSON object into v.
func decode(name string, data []byte, v any) error {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return fmt.Errorf("event: the %s payload is not a JSON object", name)
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("event: decoding the %s payload: %w", name, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("event: the %s payload holds more than one JSON value", name)
	}
	return nil
}

// fromRepo fills the repository fields.
func (e *Event) fromRepo(repo *github.Repository, sender *github.User) error {
	if repo == nil {
		return fmt.Errorf("event: the %s payload names no repository", e.Name)
	}
	owner, name := repo.GetOwner().GetLogin(), repo.GetName()
	if full := repo.GetFullName(); full != "" {
		o, n, ok := strings.Cut(full, "/")
		if !ok {
			return fmt.Errorf("event: the %s payload's repository.full_name %q is not owner/name", e.Name, printable(full))
		}
		if owner == "" {
			owner = o
		}
		if name == "" {
			name = n
		}
		if !strings.EqualFold(o, owner) || !strings.EqualFold(n, name) {
			return fmt.Errorf("event: the %s payload's repository.full_name %q disagrees with its owner and name", e.Name, printable(full))
		}
	}
	if !ValidOwner(owner) || !ValidRepo(name) {
		return fmt.Errorf("event: the %s payload's repository %q/%q is not a valid owner/name", e.Name, printable(owner), printable(name))
	}
	e.Owner, e.Repo = owner, name
	e.DefaultBranch = repo.GetDefaultBranch()
	e.Sender = sender.GetLogin()
	return nil
}

// fromPR fills the event from a pull_request-shaped payload. number is
// the payload's top-level number, 0 when it has none.
func (e *Event) fromPR(action string, repo *github.Repository, sender *github.User, pr *github.PullRequest, number int) error {
	e.Action = action
	if err := e.fromRepo(repo, sender); err != nil {
		return err
	}
	if pr == nil {
		return fmt.Errorf("event: the %s payload has no pull_request", e.Name)
	}
	n := pr.GetNumber()
	if number != 0 && n != 0 && number != n {
		return fmt.Errorf("event: the %s payload names pull request #%d and #%d", e.Name, number, n)
	}
	if n == 0 {
		n = number
	}
	if n <= 0 {
		return fmt.Errorf("event: the %s payload names no pull request number", e.Name)
	}
	e.Number = n
	e.HeadSHA = pr.GetHead().GetSHA()
	if e.HeadSHA != "" && !ValidSHA(e.HeadSHA) {
		return fmt.Errorf("event: the %s payload's head sha %q is not a commit id", e.Name, printable(e.HeadSHA))
	}
	e.BaseRef = pr.GetBase().GetRef()
	e.Merged = pr.GetMerged() || pr.MergedAt != nil
	e.Closed = pr.GetState() == "closed" || e.Merged
	return nil
}

// fromRun fills the event from a workflow_run payload.
func (e *Event) fromRun(p github.WorkflowRunEvent) error {
	e.Action = p.GetAction()
	if err := e.fromRepo(p.Repo, p.Sender); err != nil {
		return err
	}
	run := p.WorkflowRun
	if run == nil {
		return errors.New("event: the workflow_run payload has no workflow_run")
	}
	e.RunEvent, e.RunConclusion = run.GetEvent(), run.GetConclusion()
	if len(run.PullRequests) == 0 {
		return fmt.Errorf("event: workflow run %d (%s) lists no pull request: GitHub leaves workflow_run.pull_requests empty for runs not triggered by a pull request of %s, including those from forks", run.GetID(), printable(e.RunEvent), e.FullName())
	}
	repoID := p.Repo.GetID()
	for _, pr := range run.PullRequests {
		if pr == nil || !sameRepo(pr.GetBase().GetRepo(), p.Repo) {
			continue
		}
		if pr.GetNumber() <= 0 {
			return errors.New("event: the workflow_run payload lists a pull request without a number")
		}
		e.Number = pr.GetNumber()
		e.HeadSHA = pr.GetHead().GetSHA()
		if e.HeadSHA != "" && !ValidSHA(e.HeadSHA) {
			return fmt.Errorf("event: the workflow_run payload's head sha %q is not a commit id", printable(e.HeadSHA))
		}
		e.BaseRef = pr.GetBase().GetRef()
		return nil
	}
	return fmt.Errorf("event: workflow run %d lists %d pull request(s), none of them of %s (repository id %d): refusing a pull request of another repository",
		run.GetID(), len(run.PullRequests), e.FullName(), repoID)
}

// sameRepo reports whether the base repository of a workflow_run
// pull_requests entry (which carries only id, url and name) is repo: by
// id when both have one, else by API URL.
func sameRepo(base, repo *github.Repository) bool {
	if base == nil || repo == nil {
		return false
	}
	if base.GetID() != 0 && repo.GetID() != 0 {
		return base.GetID() == repo.GetID()
	}
	return base.GetURL() != "" && strings.EqualFold(base.GetURL(), repo.GetURL())
}

// printable shortens s and replaces what is not printable ASCII, so that
// untrusted payload values can go into messages.
func printable(s string) string {
	const max = 100
	var b strings.Builder
	for i, r := range s {
		if i >= max {
			b.WriteString("…")
			break
		}
		if r < 0x20 || r > 0x7e {
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String()
}
