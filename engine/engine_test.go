package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/engine"
)

var frozenNow = time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC)

func pipelineInput() engine.Input {
	return engine.Input{
		Version: engine.Version,
		Kind:    engine.KindPipeline,
		Now:     frozenNow,
		Request: engine.Request{Issuer: "ssh", Role: "deploy", TTLSeconds: 900, Principals: []string{"deploy"}},
		Token:   map[string]any{"iss": "https://token.actions.githubusercontent.com", "repository_id": "42", "ref": "refs/heads/main"},
	}
}

// policyDir writes src as policy.rego into a fresh folder.
func policyDir(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "policy.rego"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name       string
		policy     string
		input      func(*engine.Input)
		timeout    time.Duration
		wantAllow  bool
		wantDeny   []string
		wantErr    string // substring of the error and of the first deny reason
		wantMaxTTL int64
	}{
		{
			name:      "allow",
			policy:    "package jit\nallow if input.token.repository_id == \"42\"\n",
			wantAllow: true, wantDeny: []string{},
		},
		{
			name:     "deny reason overrides allow",
			policy:   "package jit\nallow := true\ndeny contains \"b: second\"\ndeny contains \"a: first\"\n",
			wantDeny: []string{"a: first", "b: second"},
		},
		{
			name:     "allow undefined",
			policy:   "package jit\nallow if input.token.repository_id == \"7\"\n",
			wantDeny: []string{engine.ReasonNotAllowed},
		},
		{
			name:     "no jit package",
			policy:   "package other\nallow := true\n",
			wantDeny: []string{engine.ReasonNotAllowed},
		},
		{
			name:    "conflicting values",
			policy:  "package jit\nallow if true\nallow := false if input.kind == \"pipeline\"\n",
			wantErr: "produced conflicting values",
		},
		{
			name:    "builtin error is strict",
			policy:  "package jit\nallow if to_number(input.token.ref) > 0\n",
			wantErr: "to_number",
		},
		{
			name:    "evaluation timeout",
			policy:  "package jit\nallow if count([x | some x in numbers.range(1, 100000000); x > 0]) > 0\n",
			timeout: 20 * time.Millisecond,
			wantErr: "did not finish within 20ms",
		},
		{
			name:    "malformed input",
			policy:  "package jit\nallow := true\n",
			input:   func(in *engine.Input) { in.Version = "v0"; in.Request.Role = "" },
			wantErr: "input does not fit the schema",
		},
		{
			name:    "pipeline input without token",
			policy:  "package jit\nallow := true\n",
			input:   func(in *engine.Input) { in.Token = nil },
			wantErr: "needs verified token claims",
		},
		{
			name:    "allow is not a boolean",
			policy:  "package jit\nallow := \"yes\"\n",
			wantErr: "data.jit.allow must be a boolean, got string",
		},
		{
			name:    "deny is not a set of strings",
			policy:  "package jit\nallow := true\ndeny contains 1\n",
			wantErr: "data.jit.deny must be a set of strings",
		},
		{
			name:    "grant with a misspelt cap",
			policy:  "package jit\nallow := true\ngrant := {\"max_ttl\": 60}\n",
			wantErr: `unknown field "max_ttl"`,
		},
		{
			name:       "grant caps",
			policy:     "package jit\nallow := true\ngrant := {\"max_ttl_seconds\": 600, \"principals\": [\"deploy\"]}\n",
			wantAllow:  true,
			wantDeny:   []string{},
			wantMaxTTL: 600,
		},
		{
			name:      "time is frozen to input.now",
			policy:    "package jit\nallow if time.now_ns() == time.parse_rfc3339_ns(input.now)\n",
			wantAllow: true, wantDeny: []string{},
		},
		{
			name:      "library is available",
			policy:    "package jit\nimport data.jit.lib\nallow if lib.matches(\"4[0-9]\", input.token.repository_id)\n",
			wantAllow: true, wantDeny: []string{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			eng, err := engine.Load(ctx, []string{policyDir(t, tc.policy)}, engine.Options{Timeout: tc.timeout})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			in := pipelineInput()
			if tc.input != nil {
				tc.input(&in)
			}
			d, err := eng.Decide(ctx, in)
			if d.ID == "" {
				t.Error("decision has no id")
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				if d.Allowed || len(d.Deny) == 0 || !strings.Contains(d.Deny[0], tc.wantErr) {
					t.Errorf("decision = %+v, want a denial whose reason contains %q", d, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decide: %v", err)
			}
			if d.Allowed != tc.wantAllow {
				t.Errorf("Allowed = %v, want %v (deny %q)", d.Allowed, tc.wantAllow, d.Deny)
			}
			if strings.Join(d.Deny, "|") != strings.Join(tc.wantDeny, "|") {
				t.Errorf("Deny = %q, want %q", d.Deny, tc.wantDeny)
			}
			if tc.wantMaxTTL != 0 && (d.Grant == nil || d.Grant.MaxTTLSeconds == nil || *d.Grant.MaxTTLSeconds != tc.wantMaxTTL) {
				t.Errorf("Grant = %+v, want max_ttl_seconds %d", d.Grant, tc.wantMaxTTL)
			}
		})
	}
}

func TestLoadRefuses(t *testing.T) {
	tests := []struct {
		name    string
		policy  string
		wantErr string
	}{
		{"http.send", "package jit\nallow if http.send({\"method\": \"GET\", \"url\": \"http://x\"}).status_code == 200\n", "undefined function http.send"},
		{"opa.runtime", "package jit\nallow if opa.runtime().env.HOME\n", "undefined function opa.runtime"},
		{"rand.intn", "package jit\nallow if rand.intn(\"x\", 2) == 1\n", "undefined function rand.intn"},
		{"net.lookup_ip_addr", "package jit\nallow if net.lookup_ip_addr(\"example.com\")\n", "undefined function net.lookup_ip_addr"},
		{"syntax error", "package jit\nallow if {\n", "policy.rego:3: rego_parse_error"},
		{"strict: unused variable", "package jit\nallow if { x := 1; true }\n", "assigned var x unused"},
		{"reserved package", "package jit_policy_decision\nx := 1\n", "reserved for jit-policy"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := engine.Load(context.Background(), []string{policyDir(t, tc.policy)}, engine.Options{})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Load err = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestTestFilesNeverDecide(t *testing.T) {
	dir := policyDir(t, "package jit\nallow if input.token.repository_id == \"7\"\n")
	// A test file that would allow everything if it were part of the decision.
	if err := os.WriteFile(filepath.Join(dir, "policy_test.rego"), []byte("package jit\nallow := true\ntest_x if true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	eng, err := engine.Load(context.Background(), []string{dir}, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := eng.Decide(context.Background(), pipelineInput())
	if err != nil || d.Allowed {
		t.Fatalf("Decide = %+v, %v; want a denial: test files are not policy", d, err)
	}
}

func TestDataOnlyFromDataFiles(t *testing.T) {
	dir := policyDir(t, "package jit\nallow if data.repos[_] == input.token.repository_id\ndeny contains \"request file became data\" if data.requests\n")
	files := map[string]string{
		"data.yaml":               "repos: [\"42\"]\n",
		"requests/alice.yaml":     "version: jit-policy/v1\nrequester: alice\n",
		".github/workflows/x.yml": "on: [push]\njobs: {}\n",
		"jit-policy.yaml":         "version: jit-policy/v1\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	eng, err := engine.Load(context.Background(), []string{dir}, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := eng.Decide(context.Background(), pipelineInput())
	if err != nil || !d.Allowed {
		t.Fatalf("Decide = %+v, %v; want allowed from data.yaml only", d, err)
	}
}
