package acttest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// actRun is one run of act: its log (stdout and stderr, as a user sees
// them), its exit error, and $JIT_OUT, where the workflow's steps leave
// files for the test.
type actRun struct {
	log  string
	err  error
	out  string
	took time.Duration
}

// actArgs is the act command line for a workflow of the test repo:
//
//	act push -W .github/workflows/WF -P ubuntu-latest=-self-hosted --env-file F
//	    --action-cache-path D --no-cache-server --concurrent-jobs 4
//
// -self-hosted runs the jobs on this machine (no Docker), --env-file passes
// the runner's token variables and the test's paths, --action-cache-path
// keeps act's job folders (workspace, RUNNER_TEMP, file commands) in the
// test's temporary folder, and four concurrent jobs let parallel.yml's jobs
// overlap.
func actArgs(workflow, envFile, cacheDir string) []string {
	return []string{"push", "-W", filepath.Join(".github", "workflows", workflow),
		"-P", "ubuntu-latest=-self-hosted", "--env-file", envFile,
		"--action-cache-path", cacheDir, "--no-cache-server", "--concurrent-jobs", "4"}
}

// runAct runs one workflow of the test repo under act and returns what
// happened; a non-zero exit is in actRun.err, for the caller to judge.
func (e *actEnv) runAct(t *testing.T, workflow string) *actRun {
	t.Helper()
	vars := e.oidc.RunnerEnv()
	vars["JIT_BIN"], vars["JIT_CONFIG"] = e.bin, e.config
	return e.runActEnv(t, workflow, vars)
}

// runActEnv runs a workflow under act with vars, and JIT_OUT, as the
// only variables of the env file (besides the host's environment, see
// hostEnv).
func (e *actEnv) runActEnv(t *testing.T, workflow string, vars map[string]string) *actRun {
	t.Helper()
	r := &actRun{out: t.TempDir()}
	envFile := filepath.Join(t.TempDir(), "act.env")
	vars["JIT_OUT"] = r.out
	var env strings.Builder
	for k, v := range vars {
		env.WriteString(k + "=" + v + "\n")
	}
	write(t, envFile, env.String())
	args := actArgs(workflow, envFile, filepath.Join(e.dir, "act-cache"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.act, args...)
	cmd.Dir = e.repo
	cmd.Env = hostEnv()
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	start := time.Now()
	r.err = cmd.Run()
	r.took = time.Since(start)
	r.log = buf.String()
	t.Logf("act %s: %v in %s", strings.Join(args, " "), r.err, r.took.Round(time.Millisecond))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("act log of %s:\n%s", workflow, r.log)
		}
	})
	return r
}

// hostEnv is this process's environment without what a CI system running
// this test set for its own job (GITHUB_*, ACTIONS_*, RUNNER_*, INPUT_*,
// STATE_*) and without JIT_*: act passes the host's environment on to the
// jobs, and these must come from act and the env file only.
func hostEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		drop := false
		for _, p := range []string{"GITHUB_", "ACTIONS_", "RUNNER_", "INPUT_", "STATE_", "JIT_"} {
			drop = drop || strings.HasPrefix(kv, p)
		}
		if !drop {
			env = append(env, kv)
		}
	}
	return env
}

// jobLine is act's prefix of a job's log line: "[workflow/job] text".
var jobLine = regexp.MustCompile(`^\[[^\]]*/([^/\]]+)\] ?(.*)$`)

// step returns the log of one step of a job: from act's "⭐ Run TITLE"
// (TITLE is e.g. "Main jit-policy" or "Post jit-policy") up to the job's
// next "⭐ Run", with the unprefixed continuation lines of multi-line
// messages (such as a job summary). "" when the step never ran.
func (r *actRun) step(job, title string) string {
	var b strings.Builder
	cur, in := "", map[string]bool{} // the job of the last prefixed line; per job, whether in the step
	for line := range strings.Lines(r.log) {
		text := line
		if m := jobLine.FindStringSubmatch(strings.TrimRight(line, "\n")); m != nil {
			cur, text = m[1], m[2]+"\n"
			if _, run, ok := strings.Cut(text, "⭐ Run "); ok {
				in[cur] = strings.TrimSpace(run) == title
			}
		}
		if cur == job && in[cur] {
			b.WriteString(text)
		}
	}
	return b.String()
}

// summary returns the job summary a step wrote, as act logs it
// ("⚙  Summary - " and the Markdown).
func summary(stepLog string) string {
	_, s, _ := strings.Cut(stepLog, "Summary - ")
	return s
}

// readOut returns the trimmed contents of a file the workflow wrote to
// $JIT_OUT, failing the test when it is missing.
func (r *actRun) readOut(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(r.out, name))
	if err != nil {
		t.Fatalf("the workflow did not write %s: %v", name, err)
	}
	return strings.TrimSpace(string(data))
}

// exists reports whether the workflow wrote name to $JIT_OUT.
func (r *actRun) exists(name string) bool {
	_, err := os.Stat(filepath.Join(r.out, name))
	return err == nil
}
