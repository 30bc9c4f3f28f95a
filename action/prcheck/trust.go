package prcheck

import (
	"fmt"
	"strings"

	"github.com/jit-policy/jit-policy/action/event"
)

// TrustedToIssue says whether a job may issue for ev: it must run a
// workflow of the default branch, from an event whose workflow file is
// the default branch's (pull_request_target or workflow_run), and its
// verified OIDC token (claims) must say so: job_workflow_ref and
// workflow_ref pinned to refs/heads/<default branch> of ev's repository,
// ref that branch, event_name one of those events.
// A pull_request or pull_request_review workflow runs the pull request's
// own copy of the workflow file, so it may never issue.
func TrustedToIssue(ev event.Event, claims map[string]any) error {
	switch ev.Name {
	case event.PullRequestTarget, event.WorkflowRun:
	default:
		return fmt.Errorf("issuing runs only from pull_request_target or workflow_run workflows of the default branch; a %s workflow runs the pull request's own copy of its workflow file", ev.Name)
	}
	if ev.DefaultBranch == "" {
		return fmt.Errorf("the event names no default branch: cannot tell whether this workflow is the default branch's")
	}
	str := func(k string) string { s, _ := claims[k].(string); return s }
	repo := ev.Owner + "/" + ev.Repo
	if !strings.EqualFold(str("repository"), repo) {
		return fmt.Errorf("the job's token is for repository %q, not %q", str("repository"), repo)
	}
	// Both the workflow that runs (job_workflow_ref: a reusable workflow
	// when one is called) and the workflow that started the run
	// (workflow_ref) must be the default branch's, and so must the ref the
	// run checks out; a caller on another branch could otherwise call the
	// default branch's reusable workflow with its own files.
	defaultRef := "refs/heads/" + ev.DefaultBranch
	for _, claim := range []string{"job_workflow_ref", "workflow_ref"} {
		ref := str(claim)
		wf, at, ok := strings.Cut(ref, "@")
		if !ok || at != defaultRef || !strings.HasPrefix(strings.ToLower(wf), strings.ToLower(repo)+"/.github/workflows/") {
			return fmt.Errorf("the job's %s %q is not a workflow of %s's default branch (%s): issuing needs one", claim, ref, repo, defaultRef)
		}
	}
	if ref := str("ref"); ref != defaultRef {
		return fmt.Errorf("the job runs on ref %q, not the default branch (%s): issuing needs it", ref, defaultRef)
	}
	if name := str("event_name"); name != event.PullRequestTarget && name != event.WorkflowRun {
		return fmt.Errorf("the job's token says it runs for a %q event; issuing runs only from pull_request_target or workflow_run", name)
	}
	return nil
}
