package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// Test_RequestFiles: `jit-policy test` validates the request files in
// folders named requests as it validates jit-policy.yaml: every error
// printed with file:line, exit code 1, no test run.
func Test_RequestFiles(t *testing.T) {
	code, out, errOut := runTestCmd(t, testCmd("testdata/requests-good"))
	if code != 0 || !strings.Contains(out, "PASS: 2/2") {
		t.Fatalf("valid request files: exit code = %d, want 0\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}

	code, out, errOut = runTestCmd(t, testCmd("testdata/requests-bad"))
	if code != 1 {
		t.Fatalf("invalid request files: exit code = %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if out != "" {
		t.Fatalf("invalid request files: tests ran anyway:\n%s", out)
	}
	dir := filepath.Join("testdata", "requests-bad", "requests")
	for _, want := range []string{
		filepath.Join(dir, "alice.yaml") + `:4: field "ttl" not valid here`,
		filepath.Join(dir, "bob.yml") + ":3: duration: is longer than 30 days",
		filepath.Join(dir, "bob.yml") + ":4: access[0].issuer: must be one of ssh, postgres, aws, x509",
		filepath.Join(dir, "bomb.yaml") + ":2: more than 16 aliases",
	} {
		if !strings.Contains(errOut, want) {
			t.Fatalf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, "ignored.yaml") {
		t.Fatalf("a YAML file outside a requests folder was validated:\n%s", errOut)
	}

	// A request file given directly is validated too.
	code, _, errOut = runTestCmd(t, testCmd("testdata/requests-good", filepath.Join(dir, "bob.yml")))
	if code != 1 || !strings.Contains(errOut, "bob.yml:3: duration:") {
		t.Fatalf("request file as PATH: exit code = %d, want 1\nstderr:\n%s", code, errOut)
	}
}

func Test_RequestFileNames(t *testing.T) {
	tests := []struct {
		root, path string
		want       bool
	}{
		{".", "requests/a.yaml", true},
		{".", "requests/a.yml", true},
		{".", "requests/sub/a.yaml", true},
		{".", "team/requests/a.yaml", true},
		{"requests", "requests/a.yaml", true},
		{"requests/a.yaml", "requests/a.yaml", true},
		{".", "requests/a.json", false},
		{".", "requests/data.yaml", false},
		{".", "a.yaml", false},
		{".", "requests.yaml", false},
		{".", ".github/requests/a.yaml", false},
		{".", "requests/.old/a.yaml", false},
		{"../x", "../x/requests/a.yaml", true},
	}
	for _, tt := range tests {
		if got := isRequestFile(tt.root, tt.path); got != tt.want {
			t.Fatalf("isRequestFile(%q, %q) = %v, want %v", tt.root, tt.path, got, tt.want)
		}
	}
}
