package prcheck

import (
	"strings"
	"testing"

	"github.com/jit-policy/jit-policy/action/event"
)

func TestTrustedToIssue(t *testing.T) {
	ev := event.Event{Name: event.PullRequestTarget, Owner: "acme", Repo: "infra", Number: 7, DefaultBranch: "main"}
	good := map[string]any{"repository": "acme/infra", "ref": "refs/heads/main", "event_name": "pull_request_target",
		"job_workflow_ref": "acme/infra/.github/workflows/access-request.yml@refs/heads/main",
		"workflow_ref":     "acme/infra/.github/workflows/access-request.yml@refs/heads/main"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range good {
			m[kk] = vv
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	if err := TrustedToIssue(ev, good); err != nil {
		t.Fatalf("default-branch workflow refused: %v", err)
	}
	run := ev
	run.Name = event.WorkflowRun
	if err := TrustedToIssue(run, good); err != nil {
		t.Fatalf("workflow_run refused: %v", err)
	}
	tests := []struct {
		name   string
		ev     func(event.Event) event.Event
		claims map[string]any
		want   string
	}{
		{"PR merge ref", nil, with("job_workflow_ref", "acme/infra/.github/workflows/access-request.yml@refs/pull/7/merge"), "not a workflow of acme/infra's default branch"},
		{"other branch", nil, with("job_workflow_ref", "acme/infra/.github/workflows/a.yml@refs/heads/feature"), "not a workflow"},
		{"branch named like main", nil, with("job_workflow_ref", "acme/infra/.github/workflows/a.yml@refs/heads/main-evil"), "not a workflow"},
		{"another repository's workflow", nil, with("job_workflow_ref", "evil/infra/.github/workflows/a.yml@refs/heads/main"), "not a workflow"},
		{"token of another repository", nil, with("repository", "evil/infra"), "not \"acme/infra\""},
		{"no workflow ref", nil, with("job_workflow_ref", nil), "not a workflow"},
		{"caller on another branch calls the default branch's reusable workflow", nil, with("workflow_ref", "acme/infra/.github/workflows/evil.yml@refs/heads/evil"), "workflow_ref"},
		{"run on another ref", nil, with("ref", "refs/heads/evil"), "not the default branch"},
		{"token of a pull_request run", nil, with("event_name", "pull_request"), "pull_request_target or workflow_run"},
		{"pull_request event", func(e event.Event) event.Event { e.Name = event.PullRequest; return e }, good, "runs the pull request's own copy"},
		{"pull_request_review event", func(e event.Event) event.Event { e.Name = event.PullRequestReview; return e }, good, "runs the pull request's own copy"},
		{"no default branch", func(e event.Event) event.Event { e.DefaultBranch = ""; return e }, good, "names no default branch"},
	}
	for _, tt := range tests {
		e := ev
		if tt.ev != nil {
			e = tt.ev(e)
		}
		err := TrustedToIssue(e, tt.claims)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}
