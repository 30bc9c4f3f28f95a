// Package eventtest gives other packages' tests the real GitHub event
// payloads kept in action/event/testdata (see its README.md for where they
// come from). It is for tests only: it finds the files through this
// source file's location.
package eventtest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// The example payloads, by file name, with the event name to parse them
// under.
const (
	// PullRequestOpened is a pull_request "opened" payload: PR #2 of
	// Codertocat/Hello-World, head ec26c3e57ca3a959ca5aad62de7213c562f8c821.
	PullRequestOpened = "pull_request.opened.json"
	// PullRequestClosed is a pull_request "closed" payload, not merged.
	PullRequestClosed = "pull_request.closed.json"
	// PullRequestSynchronize is a pull_request "synchronize" payload.
	PullRequestSynchronize = "pull_request.synchronize.json"
	// PullRequestReviewSubmitted is a pull_request_review "submitted"
	// payload.
	PullRequestReviewSubmitted = "pull_request_review.submitted.json"
	// WorkflowRunCompleted is a workflow_run "completed" payload whose
	// only pull_requests entry belongs to another repository.
	WorkflowRunCompleted = "workflow_run.completed.json"
	// WorkflowRunCompletedNoPR is a workflow_run "completed" payload with
	// no pull_requests entry.
	WorkflowRunCompletedNoPR = "workflow_run.completed.no-pr.json"
)

// Dir is the absolute path of action/event/testdata.
func Dir() string {
	_, here, _, ok := runtime.Caller(0)
	if !ok {
		panic("eventtest: cannot locate the source directory")
	}
	return filepath.Join(filepath.Dir(here), "..", "testdata")
}

// Path is the absolute path of the example payload file name.
func Path(name string) string { return filepath.Join(Dir(), name) }

// Load reads the example payload file name, failing t when it cannot.
func Load(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(Path(name))
	if err != nil {
		t.Fatalf("eventtest: %v", err)
	}
	return data
}
