package acttest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jit-policy/jit-policy/internal/broker"
	"github.com/jit-policy/jit-policy/internal/brokerapi"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/lease/sqlitestore"
	"github.com/jit-policy/jit-policy/internal/pipelinetest"
	"github.com/jit-policy/jit-policy/internal/sshdtest"
	"github.com/jit-policy/jit-policy/internal/testproc"
)

// TestBrokerEndToEnd is `jit-policy serve` end to end: the broker runs as
// a child process with the CA key, policy and lease store in a folder of
// its own; a real sshd trusts the CA and reads the KRL, both fetched from
// the broker's HTTP endpoints; a workflow under act, whose job holds
// nothing but the runner's token variables, uses the action with broker:,
// logs in to the sshd with the certificate, and when the job ends the post
// step revokes the lease through the broker. Once the host fetches the
// broker's KRL again, the same certificate no longer logs in.
func TestBrokerEndToEnd(t *testing.T) {
	sshdtest.Require(t)
	sshdtest.RequireUser(t, "nobody")
	e := newActRepo(t, "ssh")
	pe := pipelinetest.New(t, pipelinetest.Options{Policy: pipelinetest.DeployPolicy})
	b := startBroker(t, e.bin, pe.Config)

	// The host: it trusts the CA the broker publishes and reads revocations
	// from a KRL file, which it refreshes from the broker (in production a
	// cron job or systemd timer does; here the test does it, see installKRL).
	caPub := b.get(t, brokerapi.PathSSHCA)
	served, _, _, _, err := ssh.ParseAuthorizedKey(caPub)
	if err != nil {
		t.Fatalf("the broker's CA %q: %v", caPub, err)
	}
	folder, _, _, _, err := ssh.ParseAuthorizedKey(pe.CAPub)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(served.Marshal(), folder.Marshal()) {
		t.Fatalf("the broker serves CA %q, the broker folder's CA is %q", caPub, pe.CAPub)
	}
	krl := filepath.Join(t.TempDir(), "revoked.krl")
	b.installKRL(t, krl)
	srv := sshdtest.Start(t, caPub, krl)
	_, port, err := net.SplitHostPort(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}

	// The job's environment: the runner's token variables, the binary, the
	// broker's URL and the sshd's port. Nothing names the broker's folder.
	vars := map[string]string(pe.OIDC.RunnerEnv())
	vars["JIT_BIN"], vars["JIT_BROKER"], vars["JIT_SSH_PORT"] = e.bin, b.url, port
	for k, v := range vars {
		if strings.Contains(v, pe.Dir) {
			t.Fatalf("the job's variable %s=%q points into the broker's folder", k, v)
		}
	}
	r := e.runActEnv(t, "broker.yml", vars)
	if r.err != nil {
		t.Errorf("act: %v", r.err)
	}

	// (a) The job logged in with the certificate the broker issued.
	login := r.step("deploy", "Main log in with the certificate")
	if !r.exists("logged-in") || !strings.Contains(login, "Success - Main log in with the certificate") {
		t.Fatalf("the job's ssh login did not succeed:\n%s", login)
	}
	sshLog := r.readOut(t, "ssh.log")
	if !strings.Contains(sshLog, "Authenticated to 127.0.0.1") {
		t.Errorf("the job's ssh log does not say it authenticated:\n%s", sshLog)
	}
	id := r.readOut(t, "lease-id")
	certFile, keyFile := filepath.Join(r.out, "id-cert.pub"), filepath.Join(r.out, "id")
	cert := parseCert(t, r.readOut(t, "id-cert.pub"))
	signer, err := ssh.ParsePrivateKey([]byte(r.readOut(t, "id") + "\n"))
	if err != nil {
		t.Fatalf("the job's private key: %v", err)
	}
	if !bytes.Equal(signer.PublicKey().Marshal(), cert.Key.Marshal()) {
		t.Errorf("the certificate is not for the job's generated key")
	}
	if !slices.Equal(cert.ValidPrincipals, []string{"nobody"}) || !strings.Contains(cert.KeyId, id) {
		t.Errorf("certificate: principals %v, key id %q; want [nobody] and lease %s", cert.ValidPrincipals, cert.KeyId, id)
	}
	if main := r.step("deploy", "Main jit-policy"); !strings.Contains(main, "lease "+id) || !strings.Contains(main, "(broker "+b.url+")") {
		t.Errorf("the main step does not report lease %s from broker %s:\n%s", id, b.url, main)
	}
	post := r.step("deploy", "Post jit-policy")
	if !strings.Contains(post, "Success - Post jit-policy") || !strings.Contains(post, "lease "+id+": revoked (broker "+b.url+")") {
		t.Errorf("the post step did not revoke lease %s through the broker:\n%s", id, post)
	}
	b.requireRequest(t, "issue", id)
	b.requireRequest(t, "revoke", id)

	// (c) With the KRL it fetched before the run, the host still accepts the
	// certificate; after fetching the broker's KRL again it refuses it.
	if code, out := sshLogin(t, srv.Addr, keyFile, certFile); code == 255 || !strings.Contains(out, "Authenticated to 127.0.0.1") {
		t.Fatalf("before the host refreshed its KRL the certificate did not log in: ssh exit %d\n%s", code, out)
	}
	b.installKRL(t, krl)
	if !revokedIn(t, krl, certFile) {
		t.Errorf("ssh-keygen -Q does not find the certificate in the KRL the broker serves")
	}
	if err := srv.Login("nobody", signer, cert); err == nil {
		t.Errorf("the revoked certificate still logs in (Go client)")
	}
	if code, out := sshLogin(t, srv.Addr, keyFile, certFile); code != 255 || !strings.Contains(out, "Permission denied") {
		t.Errorf("the revoked certificate: ssh exit %d, want 255 and Permission denied\n%s", code, out)
	}

	// (d) The job held no CA key, broker config, lease store or secret.
	checkJobHoldsNoSecrets(t, r, pe)

	// (b) The broker revoked the lease, at the post step's request; the
	// store is read once the broker has stopped.
	b.stop(t)
	st, err := sqlitestore.Open(context.Background(), pe.Leases)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l, err := st.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("lease %s in the broker's store: %v", id, err)
	}
	if l.State != lease.Revoked || l.RevokedBy != broker.RevokedBy {
		t.Errorf("lease %s: state %s, revoked by %q; want revoked by %q", id, l.State, l.RevokedBy, broker.RevokedBy)
	}
	if l.Credential.Serial != cert.Serial || l.Job.RunID == "" {
		t.Errorf("lease %s: serial %d (certificate %d), job %+v", id, l.Credential.Serial, cert.Serial, l.Job)
	}
}

// checkJobHoldsNoSecrets: no file of the job's workspace or RUNNER_TEMP
// (the workflow's copies, taken before the post step) holds the CA private
// key or the broker's config or names the broker's folder, none is named
// like the CA key or the lease store, the workspace has no jit-policy.yaml,
// and the job's environment names neither the broker's folder nor any
// credential but the runner's token request variables.
func checkJobHoldsNoSecrets(t *testing.T, r *actRun, pe *pipelinetest.Env) {
	t.Helper()
	caKey, err := os.ReadFile(filepath.Join(pe.Dir, "ca", "ssh-ca"))
	if err != nil {
		t.Fatal(err)
	}
	markers := secretMarkers(t, caKey)
	holdsCAKey := func(data []byte) bool {
		flat := []byte(strings.NewReplacer("\n", "", "\r", "").Replace(string(data)))
		return slices.ContainsFunc(markers, func(m []byte) bool { return bytes.Contains(data, m) || bytes.Contains(flat, m) })
	}
	if !holdsCAKey(caKey) {
		t.Fatalf("the check does not find the CA key in its own file")
	}
	config, err := os.ReadFile(pe.Config)
	if err != nil {
		t.Fatal(err)
	}
	workspace := filepath.Join(r.out, "workspace") // the workflow's copy
	if _, err := os.Stat(filepath.Join(workspace, "jit-policy.yaml")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the job's workspace has a jit-policy.yaml (%v)", err)
	}
	files := 0
	for _, dir := range []string{workspace, filepath.Join(r.out, "runner-temp")} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			files++
			if name := d.Name(); name == "ssh-ca" || strings.HasPrefix(name, filepath.Base(pe.Leases)) {
				t.Errorf("the job has %s", path)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if holdsCAKey(data) || bytes.Contains(data, config) || bytes.Contains(data, []byte(pe.Dir)) {
				t.Errorf("%s holds the CA private key or the broker's config, or names the broker's folder", path)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("walking the job's %s: %v", dir, err)
		}
	}
	if files == 0 {
		t.Fatalf("the copies of the job's workspace and RUNNER_TEMP hold no files")
	}

	env := r.readOut(t, "env")
	if strings.Contains(env, pe.Dir) || holdsCAKey([]byte(env)) {
		t.Errorf("the job's environment names the broker's folder %s or holds the CA key:\n%s", pe.Dir, env)
	}
	// Of the variables act and the env file gave the job (those of the
	// host, which act passes on, are the host's own), the only ones named
	// like a credential are the runner's token request variables.
	host := hostEnv()
	secretish := regexp.MustCompile(`(?i)token|secret|passw|key|credential|dsn|config`)
	allowed := []string{"ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL"}
	for line := range strings.Lines(env) {
		name, _, ok := strings.Cut(line, "=")
		if ok && secretish.MatchString(name) && !slices.Contains(allowed, name) && !slices.Contains(host, strings.TrimSuffix(line, "\n")) {
			t.Errorf("the job's environment has %s; want only %v", name, allowed)
		}
	}
	for _, name := range allowed {
		if !strings.Contains(env, name+"=") {
			t.Errorf("the job's environment lacks %s", name)
		}
	}
}

// secretMarkers returns what a copy of the ed25519 private key in pemData
// would contain, however it is encoded: its 32-byte seed raw, in hex, and
// in standard and URL base64 at each of the three byte alignments (only
// whole 3-byte groups, so that the encoding does not depend on the bytes
// around it). Search the data with and without line breaks.
func secretMarkers(t *testing.T, pemData []byte) [][]byte {
	t.Helper()
	raw, err := ssh.ParseRawPrivateKey(pemData)
	if err != nil {
		t.Fatalf("the CA key: %v", err)
	}
	var seed []byte
	switch k := raw.(type) {
	case ed25519.PrivateKey:
		seed = k.Seed()
	case *ed25519.PrivateKey:
		seed = k.Seed()
	default:
		t.Fatalf("the CA key is a %T, not ed25519", raw)
	}
	markers := [][]byte{seed, []byte(hex.EncodeToString(seed))}
	for j := range 3 {
		group := seed[j : j+(len(seed)-j)/3*3]
		markers = append(markers, []byte(base64.StdEncoding.EncodeToString(group)), []byte(base64.URLEncoding.EncodeToString(group)))
	}
	return markers
}

// sshLogin runs OpenSSH's ssh as nobody with the key and certificate and
// returns its exit code and verbose log. nobody's shell is nologin, so a
// login that sshd accepted exits 1; 255 is ssh's own failure.
func sshLogin(t *testing.T, addr, key, cert string) (int, string) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ssh", "-v", "-F", "none", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
		"-o", "IdentityAgent=none", "-i", key, "-o", "CertificateFile="+cert,
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-p", port, "nobody@"+host, "true")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), string(out)
	case err != nil:
		t.Fatalf("ssh: %v\n%s", err, out)
	}
	return 0, string(out)
}

// revokedIn reports whether ssh-keygen -Q finds certFile revoked by krl.
func revokedIn(t *testing.T, krl, certFile string) bool {
	t.Helper()
	out, err := exec.Command("ssh-keygen", "-Q", "-f", krl, certFile).CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee) && ee.ExitCode() == 1:
		return strings.Contains(string(out), "REVOKED")
	case err != nil:
		t.Fatalf("ssh-keygen -Q -f %s %s: %v: %s", krl, certFile, err, out)
	}
	return false
}

// brokerProc is `jit-policy serve` running as a child process.
type brokerProc struct {
	url    string
	cmd    *exec.Cmd
	stdout *testproc.Buffer
	stderr *testproc.Buffer // the JSON request log
	exited chan struct{}    // closed when the process has exited
	err    error            // cmd.Wait's result, once exited is closed
}

// listening is serve's line once it accepts connections.
var listening = regexp.MustCompile(`(?m)^jit-policy serve: listening on (http://127\.0\.0\.1:[0-9]+)\n`)

// startBroker runs bin serve --config config on a free loopback port in
// the config's folder, waits for the listening line, and stops the process
// at the end of the test if stop did not.
func startBroker(t *testing.T, bin, config string) *brokerProc {
	t.Helper()
	b := &brokerProc{stdout: &testproc.Buffer{}, stderr: &testproc.Buffer{}, exited: make(chan struct{})}
	b.cmd = exec.Command(bin, "serve", "--config", config, "--addr", "127.0.0.1:0", "--drain", "10s")
	b.cmd.Dir = filepath.Dir(config)
	b.cmd.Env = hostEnv()
	b.cmd.Stdout, b.cmd.Stderr = b.stdout, b.stderr
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("starting jit-policy serve: %v", err)
	}
	go func() {
		b.err = b.cmd.Wait()
		close(b.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-b.exited:
		default:
			_ = b.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-b.exited:
			case <-time.After(15 * time.Second):
				_ = b.cmd.Process.Kill()
				<-b.exited
			}
		}
		if t.Failed() {
			t.Logf("jit-policy serve stdout:\n%s\nstderr:\n%s", b.stdout.String(), b.stderr.String())
		}
	})
	deadline := time.After(30 * time.Second)
	for b.url == "" {
		if m := listening.FindStringSubmatch(b.stdout.String()); m != nil {
			b.url = m[1]
			break
		}
		select {
		case <-b.exited:
			t.Fatalf("jit-policy serve exited before listening: %v\n%s%s", b.err, b.stdout.String(), b.stderr.String())
		case <-deadline:
			t.Fatalf("jit-policy serve did not print its listening line within 30s:\n%s%s", b.stdout.String(), b.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return b
}

// get fetches path from the broker and returns the body of a 200 answer.
func (b *brokerProc) get(t *testing.T, path string) []byte {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(b.url + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s, %v: %s", path, resp.Status, err, body)
	}
	return body
}

// installKRL does what a host's cron job or systemd timer does: fetch the
// KRL from the broker (GET /v1/ssh/revoked.krl) and replace sshd's
// RevokedKeys file with it atomically. sshd reads the file on every
// authentication, so it needs no reload.
func (b *brokerProc) installKRL(t *testing.T, dst string) {
	t.Helper()
	data := b.get(t, brokerapi.PathKRL)
	tmp := dst + ".new"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
}

// requireRequest fails the test unless the broker's request log has a
// successful request on route that names lease id.
func (b *brokerProc) requireRequest(t *testing.T, route, id string) {
	t.Helper()
	for line := range strings.Lines(b.stderr.String()) {
		var rec struct {
			Msg      string   `json:"msg"`
			Route    string   `json:"route"`
			Status   int      `json:"status"`
			LeaseID  string   `json:"lease_id"`
			LeaseIDs []string `json:"lease_ids"`
		}
		if json.Unmarshal([]byte(line), &rec) != nil || rec.Msg != "request" || rec.Route != route || rec.Status != http.StatusOK {
			continue
		}
		if rec.LeaseID == id || slices.Contains(rec.LeaseIDs, id) {
			return
		}
	}
	t.Errorf("the broker logged no successful %s request for lease %s:\n%s", route, id, b.stderr.String())
}

// stop sends SIGTERM and requires a clean exit (0, "stopped") within 15s.
func (b *brokerProc) stop(t *testing.T) {
	t.Helper()
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM to jit-policy serve: %v", err)
	}
	select {
	case <-b.exited:
	case <-time.After(15 * time.Second):
		t.Fatalf("jit-policy serve did not stop within 15s of SIGTERM")
	}
	if b.err != nil || !strings.Contains(b.stdout.String(), "jit-policy serve: stopped") {
		t.Errorf("jit-policy serve after SIGTERM: %v, stdout:\n%s", b.err, b.stdout.String())
	}
}
