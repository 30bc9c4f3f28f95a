package action

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jit-policy/jit-policy/action/ghcmd"
	"github.com/jit-policy/jit-policy/internal/lease"
)

// needTool skips a test when a program is missing, except in CI, where it
// fails.
func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed: %v", name, err)
		}
		t.Skipf("%s is not installed", name)
	}
}

// krlRevokes asks ssh-keygen -Q whether the KRL revokes the certificate
// file.
func krlRevokes(t *testing.T, krlPath, certPath string) bool {
	t.Helper()
	out, err := exec.Command("ssh-keygen", "-Q", "-f", krlPath, certPath).CombinedOutput()
	if err == nil {
		return false
	}
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 && strings.Contains(string(out), "REVOKED") {
		return true
	}
	t.Fatalf("ssh-keygen -Q: %v: %s", err, out)
	return false
}

// TestPostRevokesOnlyItsOwnLeases runs two jobs of one run; each post step
// revokes its own lease and leaves the other's alone.
func TestPostRevokesOnlyItsOwnLeases(t *testing.T) {
	needTool(t, "ssh-keygen")
	e := newTestEnv(t)
	a, b := e.newJob(t, "a"), e.newJob(t, "b")
	for _, j := range []*job{a, b} {
		if code := j.run(); code != ExitOK {
			t.Fatalf("run: exit %d\n%s", code, j.stdout.String())
		}
	}
	outA, outB := a.parse(a.output), b.parse(b.output)
	idA, idB := outA["lease-id"], outB["lease-id"]
	// Keep copies of the certificates: the post step deletes the lease files.
	certA, certB := filepath.Join(e.dir, "a-cert.pub"), filepath.Join(e.dir, "b-cert.pub")
	mustWrite(t, certA, outA["certificate"]+"\n")
	mustWrite(t, certB, outB["certificate"]+"\n")

	if code := a.post(); code != ExitPostOK {
		t.Fatalf("post a: exit %d\n%s", code, a.stdout.String())
	}
	if l := e.lease(t, idA); l.State != lease.Revoked || l.RevokedBy != lease.ByPostStep {
		t.Errorf("lease a: %s by %q, want revoked by %s", l.State, l.RevokedBy, lease.ByPostStep)
	}
	if l := e.lease(t, idB); l.State != lease.Active {
		t.Errorf("lease b: %s after a's post step, want active", l.State)
	}
	if !krlRevokes(t, e.krl, certA) || krlRevokes(t, e.krl, certB) {
		t.Errorf("KRL after a's post step: want a revoked, b not")
	}
	if _, err := os.Stat(filepath.Dir(outA["certificate-path"])); !os.IsNotExist(err) {
		t.Errorf("lease a's files are still there: %v", err)
	}
	if _, err := os.Stat(outB["private-key-path"]); err != nil {
		t.Errorf("lease b's key is gone: %v", err)
	}
	sum := mustRead(t, a.summary)
	if !strings.Contains(sum, "| Lease | Issuer | Role | Result |") || !strings.Contains(sum, "| "+idA+" | ssh | deploy | revoked |") || strings.Contains(sum, idB) {
		t.Errorf("summary:\n%s", sum)
	}

	if code := b.post(); code != ExitPostOK {
		t.Fatalf("post b: exit %d\n%s", code, b.stdout.String())
	}
	if !krlRevokes(t, e.krl, certA) || !krlRevokes(t, e.krl, certB) {
		t.Errorf("KRL after both post steps: want both revoked")
	}
	// A post step that runs again finds its lease already revoked.
	if code := a.post(); code != ExitPostOK || !strings.Contains(a.stdout.String(), "already revoked (post-step)") {
		t.Errorf("second post a: exit %d\n%s", code, a.stdout.String())
	}
}

func TestPostStates(t *testing.T) {
	e := newTestEnv(t)
	tests := []struct {
		name  string
		state map[string]string
		code  int
		want  string
	}{
		{name: "nothing to do", state: map[string]string{}, code: ExitPostOK, want: "jit-policy: no lease to revoke"},
		{name: "blank", state: map[string]string{StateLeaseIDs: " , "}, code: ExitPostOK, want: "jit-policy: no lease to revoke"},
		{name: "unknown lease", state: map[string]string{StateLeaseIDs: "0123456789abcdef0123456789abcdef", StateConfig: e.config}, code: ExitPostUnrevoked, want: "::error::lease 0123456789abcdef0123456789abcdef not revoked: "},
		{name: "tampered ids", state: map[string]string{StateLeaseIDs: "../../etc"}, code: ExitPostUnreadable, want: "::error::state lease-ids: lease id #1: holds a character"},
		{name: "missing config", state: map[string]string{StateLeaseIDs: "abc", StateConfig: filepath.Join(e.dir, "nope.yaml")}, code: ExitPostUnreadable, want: "::error::lease abc was not revoked: open config"},
		{name: "bad agent pid", state: map[string]string{StateAgentPID: "1"}, code: ExitPostOK, want: "::warning::state ssh-agent-pid is not a process id"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := e.newJob(t, "post"+string(rune('a'+i)))
			env := map[string]string{ghcmd.EnvSummary: j.summary, "RUNNER_TEMP": j.runnerTemp}
			for k, v := range tc.state {
				env[StateEnv(k)] = v
			}
			var out strings.Builder
			code := Post(t.Context(), PostParams{Getenv: func(k string) string { return env[k] }, Stdout: &out, Stderr: &out})
			if code != tc.code || !strings.Contains(out.String(), tc.want) {
				t.Errorf("exit %d, want %d; output:\n%s\nwant %q", code, tc.code, out.String(), tc.want)
			}
		})
	}
}
