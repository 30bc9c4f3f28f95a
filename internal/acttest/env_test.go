package acttest

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/lease/sqlitestore"
	"github.com/jit-policy/jit-policy/internal/oidctest"
)

// actEnv is what the workflows run against: a copy of the repository as a
// git repo with the test's workflows, a jit-policy binary, a file CA, a
// config and policy outside the repo (so act's copies never hold them),
// and the OIDC issuer whose runner endpoint hands out the job tokens.
type actEnv struct {
	act    string // the act binary
	root   string // this module's root
	dir    string // the test's temporary folder
	repo   string // the git repo act runs in
	bin    string // jit-policy, built once
	config string // jit-policy.yaml (absolute)
	leases string // the SQLite lease store
	krl    string // the KRL the config publishes
	oidc   *oidctest.Issuer
}

// policy allows ssh/deploy to repository 123456789 on main (the
// oidctest defaults) and denies role break-glass with two reasons.
const policy = `package jit

import data.jit.lib

allow if {
	input.kind == "pipeline"
	input.request.issuer == "ssh"
	input.request.role == "deploy"
	lib.repository_is("123456789")
	input.token.ref == "refs/heads/main"
}

deny contains "break-glass is only for incidents" if input.request.role == "break-glass"

deny contains "break-glass needs environment incident" if {
	input.request.role == "break-glass"
	input.token.environment != "incident"
}

grant := {"max_ttl_seconds": 600, "principals": ["deploy"]}
`

// newActEnv prepares everything; it skips (fails under CI=true) when a
// tool the workflows need is missing.
func newActEnv(t *testing.T) *actEnv {
	t.Helper()
	e := newActRepo(t, "ssh-agent", "ssh-add")
	e.oidc = oidctest.NewIssuer(t)
	run(t, e.dir, e.bin, "ca", "init", "--kind", "ssh", "--out", filepath.Join(e.dir, "ca"))
	e.leases, e.krl = filepath.Join(e.dir, "leases.db"), filepath.Join(e.dir, "revoked.krl")
	write(t, filepath.Join(e.dir, "policies", "policy.rego"), policy)
	e.config = filepath.Join(e.dir, "jit-policy.yaml")
	write(t, e.config, fmt.Sprintf(`version: jit-policy/v1
policy: ./policies
audit: file://%s
oidc:
  - issuer: %s
    audience: jit-policy
leases: file://%s
krl: file://%s
issuers:
  ssh:
    ca_key: file://%s
    max_ttl: 1h
    roles:
      deploy: {principals: [deploy], max_ttl: 15m}
      break-glass: {principals: [root], max_ttl: 5m}
`, filepath.Join(e.dir, "audit.jsonl"), e.oidc.URL(), e.leases, e.krl, filepath.Join(e.dir, "ca", "ssh-ca")))
	run(t, e.dir, e.bin, "krl", "--config", e.config)
	return e
}

// newActRepo prepares what every workflow run needs: act, the tools
// (git, node, go, ssh-keygen and those named), a jit-policy binary built
// once, and the test repo. It has no CA, config, lease store or issuer;
// the caller adds them. It skips (fails under CI=true) when a tool is
// missing.
func newActRepo(t *testing.T, tools ...string) *actEnv {
	t.Helper()
	e := &actEnv{act: need(t, "act"), dir: t.TempDir()}
	for _, tool := range append([]string{"git", "node", "go", "ssh-keygen"}, tools...) {
		need(t, tool)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	e.root = root
	e.bin = filepath.Join(e.dir, "bin", "jit-policy")
	run(t, root, "go", "build", "-o", e.bin, "./cmd/jit-policy")
	e.repo = filepath.Join(e.dir, "repo")
	e.copyRepo(t)
	return e
}

// need returns the path of tool: on PATH, or act in GOPATH/bin. When it is
// missing the test skips, or fails under CI=true.
func need(t *testing.T, tool string) string {
	t.Helper()
	if p, err := exec.LookPath(tool); err == nil {
		return p
	}
	if tool == "act" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			p := filepath.Join(strings.TrimSpace(string(out)), "bin", "act")
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	msg := fmt.Sprintf("%s is not installed", tool)
	if tool == "act" {
		msg += " (go install github.com/nektos/act@v0.2.89)"
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s, and CI=true: the action's acceptance test must run", msg)
	}
	t.Skipf("%s: skipping the action's acceptance test", msg)
	return ""
}

// copyRepo copies the module's files (tracked and untracked, not ignored)
// into a fresh git repo with the test's workflows in .github/workflows,
// and commits them on main with origin github.com/org/app, the repository
// of the oidctest tokens. The action (`uses: ./`) and, for the go build
// fallback, the whole module come along.
func (e *actEnv) copyRepo(t *testing.T) {
	t.Helper()
	files := run(t, e.root, "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	for _, name := range strings.Split(strings.TrimRight(files, "\x00"), "\x00") {
		info, err := os.Lstat(filepath.Join(e.root, name))
		if err != nil || !info.Mode().IsRegular() || info.Size() > 1<<20 {
			continue // deleted, a link, or a stray build output
		}
		if strings.HasPrefix(name, ".github/") {
			continue
		}
		copyFile(t, filepath.Join(e.root, name), filepath.Join(e.repo, name), info.Mode())
	}
	wfs, err := filepath.Glob(filepath.Join("testdata", "workflows", "*.yml"))
	if err != nil || len(wfs) == 0 {
		t.Fatalf("no workflows in testdata/workflows: %v", err)
	}
	for _, wf := range wfs {
		copyFile(t, wf, filepath.Join(e.repo, ".github", "workflows", filepath.Base(wf)), 0o644)
	}
	run(t, e.repo, "git", "init", "-q", "-b", "main")
	run(t, e.repo, "git", "remote", "add", "origin", "https://github.com/org/app.git")
	run(t, e.repo, "git", "add", "-A")
	run(t, e.repo, "git", "-c", "user.name=acttest", "-c", "user.email=acttest@example.com", "commit", "-q", "-m", "acttest")
}

// copyFile copies src to dst with mode.
func copyFile(t *testing.T, src, dst string, mode fs.FileMode) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, mode.Perm()); err != nil {
		t.Fatal(err)
	}
}

// write writes body to path, making its folder.
func write(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

// run runs a command in dir and returns its standard output; it fails the
// test on a non-zero exit.
func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String()
}

// allLeases lists every lease in the store, keyed by id.
func (e *actEnv) allLeases(t *testing.T) map[string]lease.Lease {
	t.Helper()
	st, err := sqlitestore.Open(context.Background(), e.leases)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ls, err := st.List(context.Background(), lease.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	m := make(map[string]lease.Lease, len(ls))
	for _, l := range ls {
		m[l.ID] = l
	}
	return m
}

// revokedInKRL reports whether ssh-keygen -Q finds the certificate file
// revoked by the config's KRL.
func (e *actEnv) revokedInKRL(t *testing.T, certFile string) bool {
	t.Helper()
	out, err := exec.Command("ssh-keygen", "-Q", "-f", e.krl, certFile).CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("ssh-keygen -Q: %v", err)
	}
	if code > 1 {
		t.Fatalf("ssh-keygen -Q -f %s %s: exit %d: %s", e.krl, certFile, code, out)
	}
	return code == 1 && strings.Contains(string(out), "REVOKED")
}
