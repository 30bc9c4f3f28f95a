package acttest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
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

// stateEnv turns the main step's GITHUB_STATE lines into STATE_ variables
// as the runner does: a later line for a name replaces an earlier one.
func (s *shim) stateEnv(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(s.state)
	if err != nil {
		t.Fatal(err)
	}
	var env []string
	at := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		name, _, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if i, seen := at[name]; seen {
			env[i] = "STATE_" + line
			continue
		}
		at[name] = len(env)
		env = append(env, "STATE_"+line)
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
	// The failed main step saved a blank binary record, which overrides a
	// STATE_binary-* a later step could put in GITHUB_ENV.
	if state := s.stateEnv(t); !slices.Equal(state, []string{"STATE_binary-path=", "STATE_binary-sha256="}) {
		t.Errorf("failed main step's state: %q, want a blank binary record", state)
	}
	pinned := exec.Command(s.node, "-e", "process.exit(Object.keys(require(process.argv[1]).PINNED).length ? 1 : 0)", filepath.Join(s.dist, "binary.js"))
	if err := pinned.Run(); err != nil {
		return // releases are pinned: without the input the shim would download one
	}
	// No trusted Go either (the list of places is empty): the error says
	// what to do. A go planted first on PATH is never run.
	fake := filepath.Join(t.TempDir(), "go")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\ntouch \"$0.ran\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	script := `require(process.argv[1]).resolveBinary(process.env, {}, "x", []).then(
		(f) => console.log("FILE=" + f), (e) => { console.log("ERR=" + e.message); process.exit(1); })`
	cmd := exec.Command(s.node, "-e", script, filepath.Join(s.dist, "binary.js"))
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(fake)+":/usr/bin:/bin")
	raw, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(raw), "no trusted Go was found") {
		t.Errorf("no binary and no trusted Go: %v, output %q", err, raw)
	}
	if _, err := os.Stat(fake + ".ran"); err == nil {
		t.Error("the go on PATH was run")
	}
}

// TestShimDownloadVerifiesPinnedChecksum: a release binary is used only
// when its SHA-256 equals the one pinned for the version and platform.
func TestShimDownloadVerifiesPinnedChecksum(t *testing.T) {
	if (runtime.GOOS != "linux" && runtime.GOOS != "darwin") || (runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64") {
		t.Skipf("no release binaries for %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	s := newShim(t)
	body := "#!/bin/sh\necho release binary\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1.2.3/jit-policy_"+runtime.GOOS+"_"+runtime.GOARCH {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(body))
	}))
	defer srv.Close()
	sum := sha256.Sum256([]byte(body))
	plat := runtime.GOOS + "-" + runtime.GOARCH
	resolve := func(version, pinnedSum string) (int, string) {
		pinned, _ := json.Marshal(map[string]map[string]string{"v1.2.3": {plat: pinnedSum}})
		script := `require(process.argv[1]).resolveBinary(process.env, JSON.parse(process.argv[2]), process.argv[3]).then(
			(f) => console.log("FILE=" + f), (e) => { console.log("ERR=" + e.message); process.exit(1); })`
		cmd := exec.Command(s.node, "-e", script, filepath.Join(s.dist, "binary.js"), string(pinned), srv.URL)
		cmd.Env = []string{"RUNNER_TEMP=" + s.temp, "INPUT_VERSION=" + version}
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		} else if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}

	code, out := resolve("", hex.EncodeToString(sum[:])) // the newest pinned version
	file, ok := strings.CutPrefix(strings.TrimSpace(out), "FILE=")
	if code != 0 || !ok {
		t.Fatalf("pinned download: exit %d, %q", code, out)
	}
	if got, err := exec.Command(file).Output(); err != nil || string(got) != "release binary\n" {
		t.Errorf("the downloaded binary %s: %q, %v", file, got, err)
	}
	if filepath.Dir(filepath.Dir(file)) != s.temp {
		t.Errorf("downloaded to %s, outside RUNNER_TEMP", file)
	}
	code, out = resolve("v1.2.3", strings.Repeat("0", 64))
	if code != 1 || !strings.Contains(out, "does not match the pinned") {
		t.Errorf("wrong checksum: exit %d, %q; want a refusal", code, out)
	}
	code, out = resolve("v1.2.4", hex.EncodeToString(sum[:]))
	if code != 1 || !strings.Contains(out, "no checksums are pinned") {
		t.Errorf("unpinned version: exit %d, %q; want a refusal", code, out)
	}
}
