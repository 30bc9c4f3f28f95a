package action

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jit-policy/jit-policy/action/ghcmd"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/oidctest"
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

// thisRun is the run the runner names in the post step's environment:
// the run of the test tokens (oidctest's default claims).
func thisRun() map[string]string {
	return map[string]string{envRepository: "org/app", envRunID: "987654321", envRunAttempt: "1"}
}

// TestPostRevokesOnlyItsOwnLeases runs two jobs of one run; each post step
// revokes its own lease and leaves the other's alone.
func TestPostRevokesOnlyItsOwnLeases(t *testing.T) {
	needTool(t, "ssh-keygen")
	e := newTestEnv(t)
	a, b := e.newJob(t, "a"), e.newJob(t, "b")
	for _, j := range []*job{a, b} {
		maps.Copy(j.env, thisRun())
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

// TestPostRefusesLeasesOfOtherRuns issues a lease, then runs the post
// step in runs the runner names otherwise: only the lease's own run
// revokes it; the others refuse it, naming the lease and both runs, and
// leave it active.
func TestPostRefusesLeasesOfOtherRuns(t *testing.T) {
	e := newTestEnv(t)
	tests := []struct {
		name string
		run  map[string]string // on top of thisRun(); "" unsets
		code int
		want string
	}{
		{name: "this run", code: ExitPostOK, want: ": revoked"},
		{name: "other repository", run: map[string]string{envRepository: "org/other"}, code: ExitPostUnrevoked,
			want: " not revoked: it belongs to org/app run 987654321 attempt 1, not to this run, org/other run 987654321 attempt 1: the post step revokes only its own run's leases"},
		{name: "other run", run: map[string]string{envRunID: "111"}, code: ExitPostUnrevoked,
			want: " not revoked: it belongs to org/app run 987654321 attempt 1, not to this run, org/app run 111 attempt 1"},
		{name: "other attempt", run: map[string]string{envRunAttempt: "2"}, code: ExitPostUnrevoked,
			want: " not revoked: it belongs to org/app run 987654321 attempt 1, not to this run, org/app run 987654321 attempt 2"},
		{name: "no run attempt", run: map[string]string{envRunAttempt: ""}, code: ExitPostUnrevoked,
			want: " not revoked: GITHUB_REPOSITORY, GITHUB_RUN_ID and GITHUB_RUN_ATTEMPT are not all set"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := e.newJob(t, "run"+string(rune('a'+i)))
			if code := j.run(); code != ExitOK {
				t.Fatalf("run: exit %d\n%s", code, j.stdout.String())
			}
			id := j.parse(j.output)["lease-id"]
			maps.Copy(j.env, thisRun())
			maps.Copy(j.env, tc.run)
			code := j.post()
			out := j.stdout.String()
			prefix := "jit-policy: lease " + id
			if tc.code != ExitPostOK {
				prefix = "::error::lease " + id
			}
			if code != tc.code || !strings.Contains(out, prefix+tc.want) {
				t.Fatalf("post: exit %d, want %d\n%s\nwant %q", code, tc.code, out, prefix+tc.want)
			}
			want := lease.Revoked
			if tc.code != ExitPostOK {
				want = lease.Active
			}
			if l := e.lease(t, id); l.State != want {
				t.Fatalf("lease %s: %s after the post step, want %s", id, l.State, want)
			}
		})
	}
}

// TestPostLeakedState gives the post step, as the runner does, the job's
// environment (here with STATE_* values a later step set through
// GITHUB_ENV) overridden by the state the main step saved: whatever the
// main step's outcome, no injected value reaches the post step. The
// injected state names another job's lease and a broker.
func TestPostLeakedState(t *testing.T) {
	e := newTestEnv(t)
	victim := e.newJob(t, "victim")
	if code := victim.run(); code != ExitOK {
		t.Fatalf("victim run: exit %d\n%s", code, victim.stdout.String())
	}
	victimID := victim.parse(victim.output)["lease-id"]
	var brokerHits atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		brokerHits.Add(1)
		http.Error(w, "no", http.StatusTeapot)
	}))
	t.Cleanup(evil.Close)
	denied := filepath.Join(e.dir, "denied-token")
	mustWrite(t, denied, e.oidc.Mint(t, oidctest.MintOptions{Claims: map[string]any{"ref": "refs/heads/dev"}}))
	tests := []struct {
		name    string
		inputs  map[string]string
		runCode int
		code    int
		want    string
	}{
		{name: "issued", runCode: ExitOK, code: ExitPostOK, want: ": revoked"},
		{name: "denied", inputs: map[string]string{InputTokenFile: denied}, runCode: ExitDenied, code: ExitPostOK, want: "jit-policy: no lease to revoke"},
		{name: "bad inputs", inputs: map[string]string{InputRole: ""}, runCode: ExitError, code: ExitPostOK, want: "jit-policy: no lease to revoke"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := e.newJob(t, "leak"+string(rune('a'+i)))
			for k, v := range tc.inputs {
				j.env[InputEnv(k)] = v
			}
			if code := j.run(); code != tc.runCode {
				t.Fatalf("run: exit %d, want %d\n%s", code, tc.runCode, j.stdout.String())
			}
			maps.Copy(j.env, thisRun())
			for k, v := range map[string]string{StateLeaseIDs: victimID, StateBroker: evil.URL, StateAudience: "evil", StateAgentPID: "12345", StateConfig: e.config} {
				j.env[StateEnv(k)] = v
			}
			if code := j.post(); code != tc.code || !strings.Contains(j.stdout.String(), tc.want) {
				t.Fatalf("post: exit %d, want %d\n%s\nwant %q", code, tc.code, j.stdout.String(), tc.want)
			}
			if n := brokerHits.Load(); n != 0 {
				t.Fatalf("the injected broker got %d requests", n)
			}
			if l := e.lease(t, victimID); l.State != lease.Active {
				t.Fatalf("the other job's lease is %s, want active", l.State)
			}
		})
	}
}

// TestPostReadsOnlyBlankedState runs the post step through each of its
// paths and checks that every STATE_* variable it reads is one Run
// writes blank first (postStates): a state Run did not clear could come
// from GITHUB_ENV.
func TestPostReadsOnlyBlankedState(t *testing.T) {
	tests := []struct {
		name  string
		state map[string]string
	}{
		{name: "nothing", state: map[string]string{}},
		{name: "local", state: map[string]string{StateLeaseIDs: "abc", StateConfig: filepath.Join(t.TempDir(), "nope.yaml")}},
		{name: "local, default config", state: map[string]string{StateLeaseIDs: "abc"}},
		{name: "broker", state: map[string]string{StateLeaseIDs: "abc", StateBroker: "https://127.0.0.1:1", StateAudience: "aud"}},
		{name: "agent", state: map[string]string{StateAgentSocket: "relative"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"RUNNER_TEMP": t.TempDir(), InputEnv(InputConfig): filepath.Join(t.TempDir(), "nope.yaml")}
			for k, v := range tc.state {
				env[StateEnv(k)] = v
			}
			var read []string
			getenv := func(k string) string {
				if name, ok := strings.CutPrefix(k, "STATE_"); ok {
					read = append(read, name)
				}
				return env[k]
			}
			var out strings.Builder
			Post(t.Context(), PostParams{Getenv: getenv, Stdout: &out, Stderr: &out})
			for _, name := range read {
				if !slices.Contains(postStates(), name) {
					t.Errorf("the post step reads state %s, which Run does not clear", name)
				}
			}
		})
	}
}

// TestPostLeaseBeingRevokedElsewhere: a lease another process is revoking
// (a sweep's fresh claim) is reported with a warning, not as this step's
// failure, as through a broker.
func TestPostLeaseBeingRevokedElsewhere(t *testing.T) {
	needTool(t, "ssh-keygen")
	e := newTestEnv(t)
	j := e.newJob(t, "a")
	maps.Copy(j.env, thisRun())
	if code := j.run(); code != ExitOK {
		t.Fatalf("run: exit %d\n%s", code, j.stdout.String())
	}
	id := j.parse(j.output)["lease-id"]
	e.claim(t, id)
	if code := j.post(); code != ExitPostOK {
		t.Fatalf("post: exit %d, want %d\n%s", code, ExitPostOK, j.stdout.String())
	}
	if out := j.stdout.String(); !strings.Contains(out, "::warning::lease "+id+": being revoked by another process") {
		t.Errorf("post step output lacks the warning:\n%s", out)
	}
	if l := e.lease(t, id); l.State != lease.Revoking {
		t.Errorf("lease: %s, want still revoking (the other process's claim)", l.State)
	}
}
