package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/engine"
)

func TestRunEval(t *testing.T) {
	examplePolicy := filepath.Join("..", "..", "examples", "policies")
	inputs := filepath.Join("..", "..", "examples", "inputs")
	tests := []struct {
		name        string
		policy      string
		input       string
		stdin       string
		explain     bool
		wantCode    int
		wantAllowed bool
		wantDeny    string // substring of one deny reason
		wantStderr  string
	}{
		{name: "allowed", policy: examplePolicy, input: filepath.Join(inputs, "pipeline-ssh-allow.json"), wantCode: 0, wantAllowed: true},
		{name: "denied", policy: examplePolicy, input: filepath.Join(inputs, "pipeline-ssh-deny.json"), wantCode: 1, wantDeny: "ref refs/heads/feature is not refs/heads/main"},
		{name: "stdin", policy: examplePolicy, input: "-", stdin: mustRead(t, filepath.Join(inputs, "pr-postgres-allow.json")), wantCode: 0, wantAllowed: true},
		{name: "malformed input denies with exit 2", policy: examplePolicy, input: "-", stdin: `{"version": 1}`, wantCode: 2, wantDeny: "decoding input"},
		{name: "compile error denies with exit 2", policy: "testdata/tests/syntax", input: filepath.Join(inputs, "pipeline-ssh-allow.json"), wantCode: 2, wantDeny: "policy.rego:5: rego_parse_error"},
		{name: "explain names the failing line", policy: examplePolicy, input: filepath.Join(inputs, "pipeline-ssh-deny.json"), explain: true, wantCode: 1,
			wantDeny: "is not prod", wantStderr: "policy.rego:16: count(deny) == 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			p := evalParams{policy: []string{tc.policy}, input: tc.input, explain: tc.explain, audit: "stderr",
				timeout: time.Second, in: strings.NewReader(tc.stdin), out: &out, err: &errOut}
			code := runEval(context.Background(), p)
			if code != tc.wantCode {
				t.Fatalf("exit code = %d, want %d\n%s\n%s", code, tc.wantCode, out.String(), errOut.String())
			}
			var d engine.Decision
			if err := json.Unmarshal(out.Bytes(), &d); err != nil {
				t.Fatalf("stdout is not a decision: %v\n%s", err, out.String())
			}
			if d.ID == "" || d.Allowed != tc.wantAllowed {
				t.Errorf("decision = %+v, want allowed=%v with an id", d, tc.wantAllowed)
			}
			if tc.wantDeny != "" && !strings.Contains(strings.Join(d.Deny, "\n"), tc.wantDeny) {
				t.Errorf("deny = %q, want a reason containing %q", d.Deny, tc.wantDeny)
			}
			if tc.wantStderr != "" && !strings.Contains(errOut.String(), tc.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.wantStderr, errOut.String())
			}
			if !strings.Contains(errOut.String(), `"decision_id":"`+d.ID+`"`) {
				t.Errorf("the audit log on stderr lacks decision %s:\n%s", d.ID, errOut.String())
			}
		})
	}
}

func mustRead(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRunDemo(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := runDemo(context.Background(), demoParams{out: &out, err: &errOut}); code != 0 {
		t.Fatalf("demo exit code = %d\n%s\n%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"PASS: ", "allowed: pipeline ssh/deploy", "denied: pull_request postgres/orders-readonly", "4 decisions written", "Key ID: \"jit/", "revoked ", "REVOKED"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestRunUsage runs the cobra wiring end to end once per command.
func TestRunUsage(t *testing.T) {
	tests := []struct {
		args []string
		want int
	}{
		{[]string{"test", "testdata/tests/pass"}, 0},
		{[]string{"test", "testdata/tests/fail"}, 2},
		{[]string{"eval", "--policy", "testdata/tests/pass"}, 2}, // --input missing
		{[]string{"nope"}, 2},
	}
	for _, tc := range tests {
		var out, errOut bytes.Buffer
		if got := run(context.Background(), tc.args, streams{in: strings.NewReader(""), out: &out, err: &errOut}); got != tc.want {
			t.Errorf("jit-policy %s: exit %d, want %d\n%s", strings.Join(tc.args, " "), got, tc.want, errOut.String())
		}
	}
}
