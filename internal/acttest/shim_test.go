package acttest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// shim runs the action's dist/ scripts with node, as the runner would, in
// an environment of its own.
type shim struct {
	node, dist string
	temp       string // RUNNER_TEMP
	state      string // the main step's GITHUB_STATE file
}

func newShim(t *testing.T) *shim {
	t.Helper()
	dist, err := filepath.Abs(filepath.Join("..", "..", "dist"))
	if err != nil {
		t.Fatal(err)
	}
	s := &shim{node: need(t, "node"), dist: dist, temp: t.TempDir()}
	s.state = filepath.Join(t.TempDir(), "state")
	write(t, s.state, "")
	return s
}

// fakeBinary writes a jit-policy stand-in that prints its arguments and
// exits with code.
func fakeBinary(t *testing.T, path, code string) string {
	t.Helper()
	write(t, path, "#!/bin/sh\necho \"fake ran $*\"\nexit "+code+"\n")
	if err := os.Chmod(path, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// run runs dist/SCRIPT with env (and only env, plus RUNNER_TEMP and
// GITHUB_STATE) and returns its exit code and output.
func (s *shim) run(t *testing.T, script string, env ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(s.node, filepath.Join(s.dist, script))
	cmd.Env = append([]string{"RUNNER_TEMP=" + s.temp, "GITHUB_STATE=" + s.state, "PATH=/nonexistent"}, env...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("node %s: %v", script, err)
	}
	return code, string(out)
}

// stateEnv turns the main step's GITHUB_STATE lines into STATE_ variables.
func (s *shim) stateEnv(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(s.state)
	if err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line != "" {
			env = append(env, "STATE_"+line)
		}
	}
	return env
}

// TestShimBinaryInputAndPost: the binary input runs with the step's
// arguments, its exit code passes through, and the post step runs the
// recorded binary only while it is unchanged.
func TestShimBinaryInputAndPost(t *testing.T) {
	s := newShim(t)
	bin := fakeBinary(t, filepath.Join(t.TempDir(), "jit-policy"), "3")
	code, out := s.run(t, "main.js", "INPUT_BINARY="+bin)
	if code != 3 || !strings.Contains(out, "fake ran action run") {
		t.Errorf("main: exit %d, output %q; want 3 and the fake's output", code, out)
	}
	state := s.stateEnv(t)
	if len(state) != 2 || state[0] != "STATE_binary-path="+bin {
		t.Fatalf("main step's state: %q", state)
	}
	code, out = s.run(t, "post.js", append(state, "INPUT_BINARY="+bin)...)
	if code != 3 || !strings.Contains(out, "fake ran action post") {
		t.Errorf("post: exit %d, output %q", code, out)
	}
	fakeBinary(t, bin, "0") // swapped after the main step
	code, out = s.run(t, "post.js", append(state, "INPUT_BINARY="+bin)...)
	if code != 1 || strings.Contains(out, "fake ran") || !strings.Contains(out, "::error::") {
		t.Errorf("post with a changed binary: exit %d, output %q; want a refusal", code, out)
	}
}

// TestShimPostTrustsOnlyWhatMainRecorded: a recorded path that is neither
// the binary input nor in a folder the shim made is refused; no record at
// all means nothing was issued.
func TestShimPostTrustsOnlyWhatMainRecorded(t *testing.T) {
	s := newShim(t)
	other := fakeBinary(t, filepath.Join(t.TempDir(), "jit-policy"), "0")
	code, out := s.run(t, "main.js", "INPUT_BINARY="+other)
	if code != 0 {
		t.Fatalf("main: exit %d: %s", code, out)
	}
	code, out = s.run(t, "post.js", s.stateEnv(t)...) // the input is gone
	if code != 1 || strings.Contains(out, "fake ran") {
		t.Errorf("post with a foreign path: exit %d, output %q; want a refusal", code, out)
	}
	inTemp := fakeBinary(t, filepath.Join(s.temp, "jit-policy-action-x", "jit-policy"), "0")
	code, out = s.run(t, "post.js", "STATE_binary-path="+inTemp)
	if code != 1 || strings.Contains(out, "fake ran") {
		t.Errorf("post with a path but no checksum: exit %d, output %q; want a refusal", code, out)
	}
	code, out = s.run(t, "post.js")
	if code != 0 || !strings.Contains(out, "nothing to revoke") {
		t.Errorf("post without a record: exit %d, output %q", code, out)
	}
}

// TestShimNoBinary: an unpinned version is refused, and (while no release
// is pinned) without go the step fails saying what to do.
func TestShimNoBinary(t *testing.T) {
	s := newShim(t)
	code, out := s.run(t, "main.js", "INPUT_VERSION=v9.9.9")
	if code != 1 || !strings.Contains(out, "::error::") || !strings.Contains(out, "no checksums are pinned") {
		t.Errorf("unpinned version: exit %d, output %q", code, out)
	}
	pinned := exec.Command(s.node, "-e", "process.exit(Object.keys(require(process.argv[1]).PINNED).length ? 1 : 0)", filepath.Join(s.dist, "binary.js"))
	if err := pinned.Run(); err != nil {
		return // releases are pinned: without the input the shim would download one
	}
	code, out = s.run(t, "main.js")
	if code != 1 || !strings.Contains(out, "go is not on PATH") {
		t.Errorf("no binary: exit %d, output %q", code, out)
	}
	if data, _ := os.ReadFile(s.state); len(data) != 0 {
		t.Errorf("a failed main step recorded state %q", data)
	}
}
