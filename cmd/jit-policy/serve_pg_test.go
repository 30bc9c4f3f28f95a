package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/brokerapi"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/oidctest"
	"github.com/jit-policy/jit-policy/internal/pgtest"
	"github.com/jit-policy/jit-policy/internal/testproc"
)

// brokerProcess is a `jit-policy serve` child process.
type brokerProcess struct {
	name     string
	cmd      *exec.Cmd
	addr     string
	out, err *testproc.Buffer
	exited   chan struct{} // closed once cmd.Wait returned
	waitErr  error
}

// startBrokerProcess runs `bin serve --config config --addr 127.0.0.1:0`
// with env added, and waits until it listens. The test's end kills it if
// it still runs.
func startBrokerProcess(t *testing.T, name, bin, config string, env ...string) *brokerProcess {
	t.Helper()
	b := &brokerProcess{name: name, out: &testproc.Buffer{}, err: &testproc.Buffer{}, exited: make(chan struct{})}
	b.cmd = exec.Command(bin, "serve", "--config", config, "--addr", "127.0.0.1:0", "--drain", "5s")
	b.cmd.Env = append(os.Environ(), env...)
	b.cmd.Stderr = b.err
	stdout, err := b.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			b.out.Write([]byte(line + "\n"))
			if a, ok := strings.CutPrefix(line, "jit-policy serve: listening on http://"); ok {
				addr <- a
			}
		}
		b.waitErr = b.cmd.Wait()
		close(b.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-b.exited:
		default:
			_ = b.cmd.Process.Kill()
			<-b.exited
		}
	})
	select {
	case b.addr = <-addr:
	case <-b.exited:
		t.Fatalf("broker %s exited before listening: %v\n%s%s", name, b.waitErr, b.out.String(), b.err.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("broker %s not listening after 60s\n%s%s", name, b.out.String(), b.err.String())
	}
	return b
}

func (b *brokerProcess) url() string { return "http://" + b.addr }

// terminate sends SIGTERM and returns the exit code.
func (b *brokerProcess) terminate(t *testing.T) int {
	t.Helper()
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("broker %s: SIGTERM: %v", b.name, err)
	}
	select {
	case <-b.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("broker %s still runs 30s after SIGTERM\n%s", b.name, b.err.String())
	}
	var ee *exec.ExitError
	switch {
	case b.waitErr == nil:
		return 0
	case errors.As(b.waitErr, &ee):
		return ee.ExitCode()
	default:
		t.Fatalf("broker %s: %v", b.name, b.waitErr)
		return -1
	}
}

// krlRevokes says whether ssh-keygen -Q finds certFile revoked by the KRL.
func krlRevokes(t *testing.T, krlData []byte, certFile string) bool {
	t.Helper()
	krlFile := filepath.Join(t.TempDir(), "served.krl")
	mustWrite(t, krlFile, string(krlData))
	out, err := exec.Command("ssh-keygen", "-Q", "-f", krlFile, certFile).CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil && strings.Contains(string(out), ": ok"):
		return false
	case errors.As(err, &ee) && ee.ExitCode() == 1 && strings.Contains(string(out), "REVOKED"):
		return true
	default:
		t.Fatalf("ssh-keygen -Q %s: %v %q", certFile, err, out)
		return false
	}
}

// listLeases runs `bin leases --state all --format json`.
func listLeases(t *testing.T, bin, config string, env ...string) map[string]lease.Lease {
	t.Helper()
	cmd := exec.Command(bin, "leases", "--config", config, "--state", "all", "--format", "json")
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("jit-policy leases: %v\n%s", err, stderr.String())
	}
	var ls []lease.Lease
	if err := json.Unmarshal(out, &ls); err != nil {
		t.Fatalf("jit-policy leases: %v\n%s", err, out)
	}
	m := map[string]lease.Lease{}
	for _, l := range ls {
		m[l.ID] = l
	}
	return m
}

// TestServeTwoBrokersSharedPostgres: two broker processes on one
// PostgreSQL lease store: leases issued through either are listed,
// revoked once, and in the KRL served by both; a token spent at one is
// refused at the other.
func TestServeTwoBrokersSharedPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs two brokers")
	}
	dsn := pgtest.NewDatabase(t)
	bin := buildBinary(t)
	e := newPipelineEnv(t, "")
	cfg := mustRead(t, e.config)
	if !strings.Contains(cfg, "leases: file://leases.db") {
		t.Fatalf("config has no file lease store:\n%s", cfg)
	}
	mustWrite(t, e.config, strings.Replace(cfg, "leases: file://leases.db", "leases: ${JIT_LEASES_DSN}", 1))
	env := "JIT_LEASES_DSN=" + dsn

	a := startBrokerProcess(t, "A", bin, e.config, env)
	b := startBrokerProcess(t, "B", bin, e.config, env)
	logs := func() string { return "broker A:\n" + a.err.String() + "broker B:\n" + b.err.String() }

	// Lease 1 through A; its token is spent for B too.
	_, pub1 := e.userKey(t, "id_a")
	token1 := e.oidc.Mint(t, oidctest.MintOptions{})
	code, out, errOut := e.brokerIssue(t, a.url(), token1, pub1)
	if code != exitOK {
		t.Fatalf("issue through A: exit %d\n%s\n%s", code, errOut, logs())
	}
	lease1 := strings.TrimSpace(out)
	_, pubReplay := e.userKey(t, "id_replay")
	if code, _, errOut := e.brokerIssue(t, b.url(), token1, pubReplay); code != exitError || !strings.Contains(errOut, "401") || !strings.Contains(errOut, "already used") {
		t.Fatalf("A's token replayed at B: exit %d %q, want %d and a 401 (already used)", code, errOut, exitError)
	}
	// Lease 2 through B.
	_, pub2 := e.userKey(t, "id_b")
	code, out, errOut = e.brokerIssue(t, b.url(), e.oidc.Mint(t, oidctest.MintOptions{}), pub2)
	if code != exitOK {
		t.Fatalf("issue through B: exit %d\n%s\n%s", code, errOut, logs())
	}
	lease2 := strings.TrimSpace(out)
	cert1, cert2 := strings.TrimSuffix(pub1, ".pub")+"-cert.pub", strings.TrimSuffix(pub2, ".pub")+"-cert.pub"

	ls := listLeases(t, bin, e.config, env)
	if len(ls) != 2 || ls[lease1].State != lease.Active || ls[lease2].State != lease.Active {
		t.Fatalf("leases %+v, want %s and %s active", ls, lease1, lease2)
	}
	// A builds (and caches) its KRL before the revocation through B.
	status, krlA := httpGet(t, nil, a.url()+brokerapi.PathKRL)
	if status != http.StatusOK || krlRevokes(t, krlA, cert1) || krlRevokes(t, krlA, cert2) {
		t.Fatalf("A's KRL before any revocation: %d, revokes a certificate", status)
	}

	// Revoke lease 1 through B, then again through A.
	if code, out := e.brokerRevoke(t, b.url(), lease1); code != exitOK || !strings.Contains(out, "revoked "+lease1) {
		t.Fatalf("revoke through B: exit %d\n%s\n%s", code, out, logs())
	}
	revoked := listLeases(t, bin, e.config, env)[lease1]
	if revoked.State != lease.Revoked || revoked.RevokedBy == "" || revoked.RevokedAt.IsZero() {
		t.Fatalf("lease 1 after revoke through B: %+v", revoked)
	}
	// A serves the revocation made through B once its cached list ages.
	deadline := time.Now().Add(15 * time.Second)
	for {
		status, krlA = httpGet(t, nil, a.url()+brokerapi.PathKRL)
		if status == http.StatusOK && krlRevokes(t, krlA, cert1) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("A's KRL does not revoke lease 1 (revoked through B) after 15s: %d", status)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if code, out := e.brokerRevoke(t, a.url(), lease1); code != exitOK || !strings.Contains(out, "skipped "+lease1+" (already revoked)") {
		t.Fatalf("second revoke through A: exit %d, want 0 and skipped\n%s\n%s", code, out, logs())
	}
	ls = listLeases(t, bin, e.config, env)
	if got := ls[lease1]; got.State != lease.Revoked || got.RevokedBy != revoked.RevokedBy || !got.RevokedAt.Equal(revoked.RevokedAt) {
		t.Fatalf("lease 1 after the second revoke: %s by %q at %v, want revoked by %q at %v (once)",
			got.State, got.RevokedBy, got.RevokedAt, revoked.RevokedBy, revoked.RevokedAt)
	}
	if ls[lease2].State != lease.Active {
		t.Fatalf("lease 2 is %s, want active", ls[lease2].State)
	}

	for _, br := range []*brokerProcess{a, b} {
		status, krl := httpGet(t, nil, br.url()+brokerapi.PathKRL)
		if status != http.StatusOK {
			t.Fatalf("broker %s KRL: %d %s", br.name, status, krl)
		}
		if !krlRevokes(t, krl, cert1) {
			t.Errorf("broker %s's KRL does not revoke lease 1 (%s)", br.name, lease1)
		}
		if krlRevokes(t, krl, cert2) {
			t.Errorf("broker %s's KRL revokes lease 2 (%s), which is active", br.name, lease2)
		}
	}

	for _, br := range []*brokerProcess{a, b} {
		if code := br.terminate(t); code != 0 {
			t.Errorf("broker %s: exit %d after SIGTERM, want 0\n%s", br.name, code, br.err.String())
		}
		if !strings.Contains(br.out.String(), "jit-policy serve: stopped") {
			t.Errorf("broker %s stdout lacks the stop message:\n%s", br.name, br.out.String())
		}
	}
}
