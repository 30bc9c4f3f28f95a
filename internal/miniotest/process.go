// Running and stopping the minio binary: finding it, starting it on free
// ports, waiting until it is ready, and keeping its output.

package miniotest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/testproc"
)

// run starts minio and waits until it is ready. On success it returns the
// function that stops it; on failure the process is gone.
func (s *Server) run(bin string, env []string, data, certsDir, addr, consoleAddr string) (stop func(), err error) {
	cmd := exec.Command(bin, "server", data, "--address", addr, "--console-address", consoleAddr,
		"--certs-dir", certsDir)
	cmd.Env = env
	cmd.Dir = filepath.Dir(data)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	// A process group of its own, so cleanup can kill whatever minio
	// starts; and SIGKILL when the thread that started it exits. That
	// goroutine's thread stays locked until minio has exited, so only the
	// test process's death ends it early.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	exited, err := testproc.StartTied(cmd)
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	pid := cmd.Process.Pid
	stop = func() {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-exited
	}

	deadline := time.Now().Add(startTimeout)
	for {
		rerr := s.ready()
		if rerr == nil {
			return stop, nil
		}
		select {
		case <-exited:
			return nil, fmt.Errorf("minio server exited at start (%v)", cmd.ProcessState)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("minio server not ready on %s within %v: %w", s.Endpoint, startTimeout, rerr)
		}
	}
}

// ready returns nil once the server is ready: GET /minio/health/ready
// answers 200, and so does the admin API's list-canned-policies, which
// needs IAM to be initialized (the health check does not wait for that,
// and STS and policy requests fail with "Server not initialized" until
// then).
func (s *Server) ready() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.Endpoint+"/minio/health/ready", nil)
	if err != nil {
		return err
	}
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /minio/health/ready: %s", resp.Status)
	}
	code, body, err := s.admin(ctx, http.MethodGet, "list-canned-policies", nil)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("GET /minio/admin/v3/list-canned-policies: %d: %s", code, body)
	}
	return nil
}

// Require returns the path of the minio binary. When there is none it
// skips the test, or fails it when CI=true.
func Require(t testing.TB) string {
	t.Helper()
	p, err := findMinio()
	if err != nil {
		msg := fmt.Sprintf("miniotest: %v; install it with `%s`", err, InstallCommand)
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s [CI=true: this test may not be skipped]", msg)
		}
		t.Skip(msg)
	}
	return p
}

// findMinio looks on PATH, then in GOBIN, $(go env GOPATH)/bin and
// ~/go/bin.
func findMinio() (string, error) {
	if p, err := exec.LookPath("minio"); err == nil {
		return p, nil
	}
	var dirs []string
	if d := os.Getenv("GOBIN"); d != "" {
		dirs = append(dirs, d)
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil && strings.TrimSpace(string(out)) != "" {
		dirs = append(dirs, filepath.Join(filepath.SplitList(strings.TrimSpace(string(out)))[0], "bin"))
	}
	if h, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(h, "go", "bin"))
	}
	var uniq []string
	for _, d := range dirs {
		if !slices.Contains(uniq, d) {
			uniq = append(uniq, d)
		}
	}
	for _, d := range uniq {
		p := filepath.Join(d, "minio")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("minio not found on PATH nor in %s", strings.Join(uniq, ", "))
}

// tail returns the last n bytes of b's output at most.
func tail(b *testproc.Buffer, n int) string {
	s := b.String()
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}
