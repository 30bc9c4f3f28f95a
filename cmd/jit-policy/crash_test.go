package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/oidctest"
)

// TestCrashWhileSigningIsSwept: the process is killed (SIGKILL) while
// signing hangs on a KMS endpoint that never answers. A certificate is
// signed in memory before its lease is recorded (in one write with spending
// the token) and released only after that write, so a process that dies
// while signing has released nothing and recorded nothing; the next sweep
// leaves no unrevoked lease.
func TestCrashWhileSigningIsSwept(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	kms, conns := hangingServer(t)
	e := newPipelineEnv(t, "awskms:///alias/jit-hang")
	_, pub := e.userKey(t, "id_ed25519")
	tokenFile := filepath.Join(e.dir, "token")
	mustWrite(t, tokenFile, e.oidc.Mint(t, oidctest.MintOptions{}))

	cmd := exec.Command(bin, "issue", "--config", e.config, "--issuer", "ssh", "--role", "deploy", "--public-key", pub, "--token", tokenFile)
	cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL_KMS=http://"+kms, "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_EC2_METADATA_DISABLED=true")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for conns.Load() == 0 {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("signing never reached the KMS\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if ls := e.allLeases(t); len(ls) != 0 {
		t.Fatalf("a lease was recorded before its certificate was signed: %+v", ls)
	}
	if err := cmd.Process.Signal(os.Kill); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	var sweepOut bytes.Buffer
	if code := runSweep(context.Background(), sweepParams{config: e.config, grace: 0, out: &sweepOut, err: os.Stderr}); code != 0 {
		t.Fatalf("sweep: exit %d\n%s", code, sweepOut.String())
	}
	for _, l := range e.allLeases(t) {
		if l.State != lease.Revoked || l.RevokedBy != lease.BySweep {
			t.Errorf("lease %s is %s (by %q) after the sweep, want revoked by sweep", l.ID, l.State, l.RevokedBy)
		}
	}
}

// hangingServer accepts connections on 127.0.0.1 and never answers.
func hangingServer(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	var held []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			held = append(held, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		for _, c := range held {
			c.Close()
		}
	})
	return l.Addr().String(), &n
}

// buildBinary builds jit-policy once per test run.
func buildBinary(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "jit-policy")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
