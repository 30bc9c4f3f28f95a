package event_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jit-policy/jit-policy/action/event"
	"github.com/jit-policy/jit-policy/action/event/eventtest"
)

const helloHead = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"

func TestParseRealPayloads(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		want       event.Event
	}{
		{event.PullRequest, eventtest.PullRequestOpened, event.Event{Name: "pull_request", Action: "opened",
			Owner: "Codertocat", Repo: "Hello-World", Number: 2, HeadSHA: helloHead, BaseRef: "master",
			DefaultBranch: "master", Sender: "Codertocat"}},
		{event.PullRequest, eventtest.PullRequestClosed, event.Event{Name: "pull_request", Action: "closed",
			Owner: "Codertocat", Repo: "Hello-World", Number: 2, HeadSHA: helloHead, BaseRef: "master",
			DefaultBranch: "master", Closed: true, Sender: "Codertocat"}},
		{event.PullRequest, eventtest.PullRequestSynchronize, event.Event{Name: "pull_request", Action: "synchronize",
			Owner: "Codertocat", Repo: "Hello-World", Number: 2, HeadSHA: helloHead, BaseRef: "master",
			DefaultBranch: "master", Sender: "Codertocat"}},
		{event.PullRequestTarget, eventtest.PullRequestOpened, event.Event{Name: "pull_request_target", Action: "opened",
			Owner: "Codertocat", Repo: "Hello-World", Number: 2, HeadSHA: helloHead, BaseRef: "master",
			DefaultBranch: "master", Sender: "Codertocat"}},
		{event.PullRequestReview, eventtest.PullRequestReviewSubmitted, event.Event{Name: "pull_request_review", Action: "submitted",
			Owner: "Codertocat", Repo: "Hello-World", Number: 2, HeadSHA: helloHead, BaseRef: "master",
			DefaultBranch: "master", Sender: "Codertocat"}},
	} {
		t.Run(tc.name+"/"+tc.file, func(t *testing.T) {
			got, err := event.Parse(tc.name, eventtest.Load(t, tc.file))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got != tc.want {
				t.Fatalf("Parse:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestWorkflowRunOtherRepository: the real example lists a pull request of
// Codertocat/Hello-World in a run of octo-org/octo-repo; taking it would
// act on another repository's number.
func TestWorkflowRunOtherRepository(t *testing.T) {
	_, err := event.Parse(event.WorkflowRun, eventtest.Load(t, eventtest.WorkflowRunCompleted))
	if err == nil || !strings.Contains(err.Error(), "none of them of octo-org/octo-repo") {
		t.Fatalf("Parse: error %v, want a refusal naming octo-org/octo-repo", err)
	}
}

func TestWorkflowRunSameRepository(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(eventtest.Load(t, eventtest.WorkflowRunCompleted), &doc); err != nil {
		t.Fatal(err)
	}
	// Make the listed pull request one of the run's repository.
	run := doc["workflow_run"].(map[string]any)
	pr := run["pull_requests"].([]any)[0].(map[string]any)
	pr["base"].(map[string]any)["repo"].(map[string]any)["id"] = 300029405
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := event.Parse(event.WorkflowRun, data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := event.Event{Name: "workflow_run", Action: "completed", Owner: "octo-org", Repo: "octo-repo", Number: 2,
		HeadSHA: helloHead, BaseRef: "master", DefaultBranch: "master", Sender: "Codertocat",
		RunEvent: "repository_dispatch", RunConclusion: "success"}
	if got != want {
		t.Fatalf("Parse:\n got %+v\nwant %+v", got, want)
	}
}

func TestWorkflowRunWithoutPullRequest(t *testing.T) {
	_, err := event.Parse(event.WorkflowRun, eventtest.Load(t, eventtest.WorkflowRunCompletedNoPR))
	if err == nil || !strings.Contains(err.Error(), "lists no pull request") {
		t.Fatalf("Parse: error %v, want a refusal for a run without a pull request", err)
	}
}

func TestParseErrors(t *testing.T) {
	opened := eventtest.Load(t, eventtest.PullRequestOpened)
	for _, tc := range []struct {
		desc, name string
		data       []byte
		want       string
	}{
		{"no name", "", opened, "GITHUB_EVENT_NAME"},
		{"push", "push", opened, `"push" is not a pull-request event`},
		{"too big", event.PullRequest, bytes.Repeat([]byte(" "), event.MaxPayloadBytes+1), "larger than"},
		{"null", event.PullRequest, []byte("null"), "not a JSON object"},
		{"array", event.PullRequest, []byte("[{}]"), "not a JSON object"},
		{"empty", event.PullRequest, nil, "not a JSON object"},
		{"two objects", event.PullRequest, append(append([]byte{}, opened...), opened...), "more than one JSON value"},
		{"truncated", event.PullRequest, opened[:len(opened)/2], "decoding the pull_request payload"},
		{"no repository", event.PullRequest, []byte(`{"action":"opened","number":1,"pull_request":{"number":1}}`), "names no repository"},
		{"no pull request", event.PullRequest, []byte(`{"action":"opened","repository":{"name":"r","owner":{"login":"o"}}}`), "has no pull_request"},
		{"no number", event.PullRequest, []byte(`{"action":"opened","pull_request":{},"repository":{"name":"r","owner":{"login":"o"}}}`), "no pull request number"},
		{"two numbers", event.PullRequest, []byte(`{"number":1,"pull_request":{"number":2},"repository":{"name":"r","owner":{"login":"o"}}}`), "#1 and #2"},
		{"path owner", event.PullRequest, []byte(`{"number":1,"pull_request":{"number":1},"repository":{"name":"r","owner":{"login":"../x"}}}`), "not a valid owner/name"},
		{"dot repo", event.PullRequest, []byte(`{"number":1,"pull_request":{"number":1},"repository":{"name":"..","owner":{"login":"o"}}}`), "not a valid owner/name"},
		{"full name mismatch", event.PullRequest, []byte(`{"number":1,"pull_request":{"number":1},"repository":{"full_name":"a/b","name":"r","owner":{"login":"o"}}}`), "disagrees"},
		{"bad sha", event.PullRequest, []byte(`{"number":1,"pull_request":{"number":1,"head":{"sha":"main"}},"repository":{"name":"r","owner":{"login":"o"}}}`), "not a commit id"},
		{"wrong type", event.PullRequest, []byte(`{"number":"1"}`), "decoding the pull_request payload"},
		{"run without run", event.WorkflowRun, []byte(`{"action":"completed","repository":{"name":"r","owner":{"login":"o"}}}`), "has no workflow_run"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			_, err := event.Parse(tc.name, tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse: error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestReadFile(t *testing.T) {
	got, err := event.ReadFile(event.PullRequest, eventtest.Path(eventtest.PullRequestOpened))
	if err != nil || got.Number != 2 {
		t.Fatalf("ReadFile: %+v, %v", got, err)
	}
	if _, err := event.ReadFile(event.PullRequest, filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Fatalf("ReadFile of a missing file: no error")
	}
	big := filepath.Join(t.TempDir(), "big.json")
	if err := os.WriteFile(big, bytes.Repeat([]byte(" "), event.MaxPayloadBytes+10), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := event.ReadFile(event.PullRequest, big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("ReadFile of a too big file: error %v", err)
	}
}

func FuzzParse(f *testing.F) {
	names := []string{event.PullRequest, event.PullRequestTarget, event.PullRequestReview, event.WorkflowRun}
	for _, file := range []string{eventtest.PullRequestOpened, eventtest.PullRequestClosed, eventtest.PullRequestReviewSubmitted,
		eventtest.WorkflowRunCompleted, eventtest.WorkflowRunCompletedNoPR} {
		data, err := os.ReadFile(eventtest.Path(file))
		if err != nil {
			f.Fatal(err)
		}
		for i := range names {
			f.Add(uint8(i), data)
		}
	}
	f.Add(uint8(0), []byte(`{"number":1,"pull_request":{"number":1},"repository":{"name":"r","owner":{"login":"o"}}}`))
	f.Add(uint8(3), []byte(`{"workflow_run":{"pull_requests":[{"number":3,"base":{"repo":{"id":7}}}]},"repository":{"id":7,"name":"r","owner":{"login":"o"}}}`))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		name := names[int(which)%len(names)]
		ev, err := event.Parse(name, data)
		if err != nil {
			return
		}
		if ev.Name != name || ev.Number <= 0 || !event.ValidOwner(ev.Owner) || !event.ValidRepo(ev.Repo) ||
			(ev.HeadSHA != "" && !event.ValidSHA(ev.HeadSHA)) {
			t.Fatalf("Parse accepted %q as %+v", data, ev)
		}
	})
}
