package action

import (
	"bytes"
	"context"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/jit-policy/jit-policy/action/ghcmd"
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

// job is one job's step: its environment (inputs, the runner's files and
// token endpoint) and what the step printed.
type job struct {
	t                                           *testing.T
	e                                           *testEnv
	env                                         oidctest.Env
	output, state, envFile, summary, runnerTemp string
	stdout, stderr                              bytes.Buffer
}

// newJob returns a job with inputs role deploy, generate-key and the
// env's config, and fresh runner files.
func (e *testEnv) newJob(t *testing.T, name string) *job {
	t.Helper()
	d := filepath.Join(e.dir, "jobs", name)
	j := &job{t: t, e: e, env: e.oidc.RunnerEnv(), runnerTemp: filepath.Join(d, "tmp")}
	if err := os.MkdirAll(j.runnerTemp, 0o700); err != nil {
		t.Fatal(err)
	}
	j.output, j.state, j.envFile, j.summary = filepath.Join(d, "output"), filepath.Join(d, "state"), filepath.Join(d, "env"), filepath.Join(d, "summary")
	for _, f := range []string{j.output, j.state, j.envFile, j.summary} {
		mustWrite(t, f, "")
	}
	for k, v := range map[string]string{
		ghcmd.EnvOutput: j.output, ghcmd.EnvState: j.state, ghcmd.EnvEnv: j.envFile, ghcmd.EnvSummary: j.summary,
		"RUNNER_TEMP": j.runnerTemp, "GITHUB_ACTIONS": "true",
		InputEnv(InputRole): "deploy", InputEnv(InputGenerateKey): "true", InputEnv(InputConfig): e.config,
	} {
		j.env[k] = v
	}
	return j
}

// run runs the main step and returns its exit code.
func (j *job) run() int {
	j.t.Helper()
	j.stdout.Reset()
	j.stderr.Reset()
	return Run(context.Background(), RunParams{Getenv: j.env.Get, Stdout: &j.stdout, Stderr: &j.stderr, HTTPClient: j.e.oidc.Client()})
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

// parse reads one of the job's runner files.
func (j *job) parse(path string) map[string]string {
	j.t.Helper()
	m, err := ghcmd.Parse(mustRead(j.t, path))
	if err != nil {
		j.t.Fatalf("%s: %v", filepath.Base(path), err)
	}
	return m
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

// pemEncode encodes a PEM block.
func pemEncode(b *pem.Block) []byte { return pem.EncodeToMemory(b) }
