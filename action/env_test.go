package action

import (
	"bytes"
	"context"
	"encoding/pem"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/jit-policy/jit-policy/action/ghcmd"
	"github.com/jit-policy/jit-policy/action/ghcmd/ghcmdtest"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/lease/sqlitestore"
	"github.com/jit-policy/jit-policy/internal/oidctest"
	"github.com/jit-policy/jit-policy/internal/pipelinetest"
)

// testPolicy allows role deploy to org/app's main branch in environment
// prod, with a reason per failed condition.
const testPolicy = `package jit

import data.jit.lib

allow if {
	input.kind == "pipeline"
	input.request.role == "deploy"
	lib.repository_is("123456789")
}

deny contains sprintf("ref %s is not refs/heads/main", [input.token.ref]) if input.token.ref != "refs/heads/main"

deny contains sprintf("environment %s is not prod", [input.token.environment]) if input.token.environment != "prod"

grant := {"max_ttl_seconds": 600, "principals": ["nobody", "daemon"]}
`

// testEnv is a repository with a policy, a config, a file CA and a real
// OIDC issuer whose runner token endpoint serves the jobs.
type testEnv struct {
	dir    string
	config string
	oidc   *oidctest.Issuer
	ca     ssh.PublicKey
	krl    string
	leases string
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	pe := pipelinetest.New(t, pipelinetest.Options{Policy: testPolicy})
	ca, _, _, _, err := ssh.ParseAuthorizedKey(pe.CAPub)
	if err != nil {
		t.Fatal(err)
	}
	return &testEnv{dir: pe.Dir, config: pe.Config, oidc: pe.OIDC, ca: ca, krl: pe.KRL, leases: pe.Leases}
}

// runnerStep is what the runner gives a job step: its environment (the
// token endpoint, the variables naming the runner's files, the inputs) and
// those files.
type runnerStep struct {
	t                                           *testing.T
	env                                         oidctest.Env
	output, state, envFile, summary, runnerTemp string
}

// newRunnerStep creates the runner's files, empty, and RUNNER_TEMP under
// dir, and adds to env (the token endpoint's) the variables naming them,
// GITHUB_ACTIONS and the inputs role deploy, generate-key and config.
func newRunnerStep(t *testing.T, dir string, env oidctest.Env, config string) runnerStep {
	t.Helper()
	s := runnerStep{t: t, env: env, runnerTemp: filepath.Join(dir, "tmp")}
	if err := os.MkdirAll(s.runnerTemp, 0o700); err != nil {
		t.Fatal(err)
	}
	s.output, s.state, s.envFile, s.summary = filepath.Join(dir, "output"), filepath.Join(dir, "state"), filepath.Join(dir, "env"), filepath.Join(dir, "summary")
	for _, f := range []string{s.output, s.state, s.envFile, s.summary} {
		mustWrite(t, f, "")
	}
	for k, v := range map[string]string{
		ghcmd.EnvOutput: s.output, ghcmd.EnvState: s.state, ghcmd.EnvEnv: s.envFile, ghcmd.EnvSummary: s.summary,
		"RUNNER_TEMP": s.runnerTemp, "GITHUB_ACTIONS": "true",
		InputEnv(InputRole): "deploy", InputEnv(InputGenerateKey): "true", InputEnv(InputConfig): config,
	} {
		s.env[k] = v
	}
	return s
}

// parse reads one of the step's runner files.
func (s *runnerStep) parse(path string) map[string]string {
	s.t.Helper()
	m, err := ghcmdtest.Parse(mustRead(s.t, path))
	if err != nil {
		s.t.Fatalf("%s: %v", filepath.Base(path), err)
	}
	return m
}

// job is one job's step: its environment (inputs, the runner's files and
// token endpoint) and what the step printed.
type job struct {
	runnerStep
	e              *testEnv
	stdout, stderr bytes.Buffer
}

// newJob returns a job with inputs role deploy, generate-key and the
// env's config, and fresh runner files.
func (e *testEnv) newJob(t *testing.T, name string) *job {
	t.Helper()
	return &job{runnerStep: newRunnerStep(t, filepath.Join(e.dir, "jobs", name), e.oidc.RunnerEnv(), e.config), e: e}
}

// run runs the main step and returns its exit code.
func (j *job) run() int {
	j.t.Helper()
	j.stdout.Reset()
	j.stderr.Reset()
	return Run(context.Background(), RunParams{Getenv: j.env.Get, Stdout: &j.stdout, Stderr: &j.stderr, HTTPClient: j.e.oidc.Client()})
}

// runRefused runs the main step with env on top of the job's
// environment, fails the test unless the step exits ExitError, and returns
// the token requests (GET /token) the runner's endpoint got during the
// run: a step that refuses its inputs asks for none.
func (j *job) runRefused(env map[string]string) []string {
	j.t.Helper()
	maps.Copy(j.env, env)
	before := len(j.e.oidc.Requests())
	if code := j.run(); code != ExitError {
		j.t.Fatalf("exit %d, want %d\n%s", code, ExitError, j.stdout.String())
	}
	var tokens []string
	for _, r := range j.e.oidc.Requests()[before:] {
		if strings.HasPrefix(r, "GET /token") {
			tokens = append(tokens, r)
		}
	}
	return tokens
}

// post runs the post step with the state the main step saved, as the
// runner passes it (STATE_<name>), and returns its exit code.
func (j *job) post() int {
	j.t.Helper()
	j.stdout.Reset()
	j.stderr.Reset()
	env := oidctest.Env{}
	for k, v := range j.env {
		env[k] = v
	}
	for k, v := range j.parse(j.state) {
		env[StateEnv(k)] = v
	}
	return Post(context.Background(), PostParams{Getenv: env.Get, Stdout: &j.stdout, Stderr: &j.stderr})
}

// cert parses the certificate output.
func (j *job) cert(outs map[string]string) *ssh.Certificate {
	j.t.Helper()
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(outs["certificate"]))
	if err != nil {
		j.t.Fatalf("certificate output: %v", err)
	}
	c, ok := pub.(*ssh.Certificate)
	if !ok {
		j.t.Fatalf("certificate output is a %T", pub)
	}
	return c
}

// lease returns one lease from the env's store.
func (e *testEnv) lease(t *testing.T, id string) lease.Lease {
	t.Helper()
	st, err := sqlitestore.Open(context.Background(), e.leases)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l, err := st.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("lease %s: %v", id, err)
	}
	return l
}

// claim claims lease id for revocation, as another process (a sweep)
// would, and leaves it claimed.
func (e *testEnv) claim(t *testing.T, id string) {
	t.Helper()
	st, err := sqlitestore.Open(context.Background(), e.leases)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Claim(context.Background(), id, 0); err != nil {
		t.Fatalf("claim %s: %v", id, err)
	}
}

func mustWrite(t testing.TB, path, body string) { pipelinetest.Write(t, path, body) }

func mustRead(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// lines splits output into lines.
func lines(s string) []string { return strings.Split(strings.TrimRight(s, "\n"), "\n") }

// leadingMasks reads a step's stdout: its lines, the index of the first
// line that is not an ::add-mask:: command (len(out) when there is none),
// and the values the ::add-mask:: lines before it mask.
func leadingMasks(stdout string) (out []string, firstOther int, masked map[string]bool) {
	out = lines(stdout)
	firstOther = slices.IndexFunc(out, func(l string) bool { return !strings.HasPrefix(l, "::add-mask::") })
	if firstOther < 0 {
		firstOther = len(out)
	}
	masked = map[string]bool{}
	for _, l := range out[:firstOther] {
		masked[strings.TrimPrefix(l, "::add-mask::")] = true
	}
	return out, firstOther, masked
}

// pemEncode encodes a PEM block.
func pemEncode(b *pem.Block) []byte { return pem.EncodeToMemory(b) }
