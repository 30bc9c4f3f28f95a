package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func testCmd(paths ...string) testParams {
	return testParams{paths: paths, format: "pretty", timeout: 5 * time.Second}
}

func runTestCmd(t *testing.T, p testParams) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	p.out, p.err = &out, &errOut
	code := runTest(context.Background(), p)
	return code, out.String(), errOut.String()
}

func TestRunTest(t *testing.T) {
	tests := []struct {
		name     string
		params   testParams
		wantCode int
		wantOut  []string
		wantErr  []string
	}{
		{"pass", testCmd("testdata/tests/pass"), 0, []string{"PASS: 2/2"}, nil},
		{"a failing test exits 2 and is named", testCmd("testdata/tests/fail"), 2,
			[]string{"data.jit_test.test_admin_is_allowed: FAIL", "PASS: 1/2", "FAIL: 1/2"}, nil},
		{"a syntax error exits 1 with file:row", testCmd("testdata/tests/syntax"), 1,
			nil, []string{"testdata/tests/syntax/policy.rego:5: rego_parse_error"}},
		{"--run filters", func() testParams { p := testCmd("testdata/tests/fail"); p.run = "allow_deploy"; return p }(), 0,
			[]string{"PASS: 1/1"}, nil},
		{"-v lists every test", func() testParams { p := testCmd("testdata/tests/pass"); p.verbose = true; return p }(), 0,
			[]string{"data.jit_test.test_allow_deploy: PASS", "data.jit_test.test_deny_other: PASS"}, nil},
		{"full coverage meets the threshold", func() testParams { p := testCmd("testdata/tests/pass"); p.threshold = 100.0; return p }(), 0,
			[]string{`"coverage": 100`}, nil},
		{"missing folder exits 1", testCmd("testdata/tests/nope"), 1, nil, []string{"no such file"}},
		{"bad --run exits 1", func() testParams { p := testCmd("testdata/tests/pass"); p.run = "("; return p }(), 1, nil, []string{"--run"}},
		{"no test files exits 1", testCmd("testdata/tests/pass/policy.rego"), 1,
			nil, []string{"no tests ran: no *_test.rego files under testdata/tests/pass/policy.rego"}},
		{"--run matching nothing exits 1", func() testParams { p := testCmd("testdata/tests/fail"); p.run = "nomatch"; return p }(), 1,
			nil, []string{`no tests ran: no test matches --run "nomatch"`}},
		{"--run matching nothing exits 1 with json", func() testParams {
			p := testCmd("testdata/tests/pass")
			p.run, p.format = "nomatch", "json"
			return p
		}(), 1, nil, []string{`no test matches --run "nomatch"`}},
		{"--run matching nothing exits 1 with coverage", func() testParams {
			p := testCmd("testdata/tests/pass")
			p.run, p.coverage = "nomatch", true
			return p
		}(), 1, nil, []string{`no test matches --run "nomatch"`}},
		{"library tests", testCmd("../../policies"), 0, []string{"PASS: "}, nil},
		{"example policy", testCmd("../../examples/policies"), 0, []string{"PASS: "}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runTestCmd(t, tc.params)
			if code != tc.wantCode {
				t.Fatalf("exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantCode, out, errOut)
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
}

// TestRunTestCoverageThreshold: coverage under --threshold exits 2.
func TestRunTestCoverageThreshold(t *testing.T) {
	p := testCmd("testdata/tests/fail")
	p.run = "allow_deploy"
	p.threshold = 100
	if code, out, errOut := runTestCmd(t, p); code != 2 {
		t.Fatalf("exit code = %d, want 2\n%s\n%s", code, out, errOut)
	}
}

// TestRunTestJSONMatchesOPA compares --format json with the output of
// `opa test --format json` (v1.22.3) on the same folder, durations zeroed.
func TestRunTestJSONMatchesOPA(t *testing.T) {
	p := testCmd("testdata/tests/fail")
	p.format = "json"
	code, out, errOut := runTestCmd(t, p)
	if code != 2 {
		t.Fatalf("exit code = %d, want 2: %s", code, errOut)
	}
	got := normalizeTestJSON(t, []byte(out))
	want, err := os.ReadFile("testdata/tests/fail.opa-json.golden")
	if err != nil {
		t.Fatal(err)
	}
	if got != normalizeTestJSON(t, want) {
		t.Fatalf("--format json =\n%s\nwant (opa test --format json)\n%s", got, want)
	}
}

func normalizeTestJSON(t *testing.T, data []byte) string {
	t.Helper()
	var results []map[string]any
	if err := json.Unmarshal(data, &results); err != nil {
		t.Fatalf("output is not a JSON array: %v\n%s", err, data)
	}
	for _, r := range results {
		r["duration"] = 0
	}
	// The runner's order is not fixed (opa test's neither): compare by name.
	slices.SortFunc(results, func(a, b map[string]any) int { return strings.Compare(a["name"].(string), b["name"].(string)) })
	b, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRunTestIgnoresOtherYAML: request files, workflows and a config beside
// the policies change nothing (they are never data).
func TestRunTestIgnoresOtherYAML(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("testdata/tests/fail")); err != nil {
		t.Fatal(err)
	}
	extra := map[string]string{
		"requests/alice.yaml":           "version: jit-policy/v1\nrequester: alice\nduration: 2h\naccess: [{issuer: ssh, role: deploy}]\n",
		".github/workflows/access.yaml": "on: pull_request_target\njobs:\n  check: {runs-on: ubuntu-latest, steps: []}\n",
		"notes.json":                    `{"allow": true}`,
	}
	writeTree(t, dir, extra)
	plain, with := testCmd("testdata/tests/fail"), testCmd(dir)
	plain.format, with.format = "json", "json"
	codeA, outA, _ := runTestCmd(t, plain)
	codeB, outB, errB := runTestCmd(t, with)
	if codeA != codeB {
		t.Fatalf("exit code %d with other YAML, %d without: %s", codeB, codeA, errB)
	}
	a, b := summarize(t, outA), summarize(t, outB)
	if a != b {
		t.Fatalf("results differ with other YAML present:\n%s\nvs\n%s", b, a)
	}
}

// summarize lists each test's name and outcome.
func summarize(t *testing.T, out string) string {
	t.Helper()
	var results []struct {
		Package string `json:"package"`
		Name    string `json:"name"`
		Fail    bool   `json:"fail"`
	}
	if err := json.Unmarshal([]byte(out), &results); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	var lines []string
	for _, r := range results {
		var b strings.Builder
		b.WriteString(r.Package + "." + r.Name)
		if r.Fail {
			b.WriteString(" FAIL")
		}
		lines = append(lines, b.String())
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
