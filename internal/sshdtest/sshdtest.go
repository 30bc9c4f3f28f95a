// Package sshdtest runs a real OpenSSH sshd on 127.0.0.1 for tests: it
// trusts one user CA, reads a KRL as RevokedKeys, and accepts nothing but
// certificates. Tests use it to prove that the certificates jit-policy
// issues log in, and stop logging in once revoked.
package sshdtest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jit-policy/jit-policy/internal/testproc"
)

// Server is a running sshd.
type Server struct {
	// Addr is host:port on 127.0.0.1.
	Addr string
	log  *bytes.Buffer
}

// Require skips the test, or fails it when CI=true, unless sshd can run:
// the binary is installed and the process is root (sshd's privilege
// separation needs it).
func Require(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("sshd")
	if err != nil {
		for _, p := range []string{"/usr/sbin/sshd", "/usr/local/sbin/sshd"} {
			if _, serr := os.Stat(p); serr == nil {
				path, err = p, nil
				break
			}
		}
	}
	switch {
	case err != nil:
		missing(t, "sshd is not installed: apt-get install -y openssh-server")
	case os.Geteuid() != 0:
		missing(t, "sshd needs root to run its privilege separation")
	}
	return path
}

// RequireUser skips (or fails under CI) unless the local account exists:
// sshd logs in only accounts it can find.
func RequireUser(t testing.TB, name string) {
	t.Helper()
	if _, err := user.Lookup(name); err != nil {
		missing(t, fmt.Sprintf("local user %q is missing: useradd -M -s /bin/sh %s (.ci/run does this)", name, name))
	}
}

func missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s", why)
	}
	t.Skipf("%s; run .ci/run to install it", why)
}

// Start runs sshd trusting the CA public key caPub (authorized_keys
// format) and reading revoked keys from krlPath, which must exist (sshd
// refuses every key when it cannot read it). The server stops at the end of
// the test.
func Start(t testing.TB, caPub []byte, krlPath string) *Server {
	t.Helper()
	sshd := Require(t)
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatalf("creating /run/sshd: %v", err)
	}
	dir := t.TempDir()
	hostKey := filepath.Join(dir, "host_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen host key: %v: %s", err, out)
	}
	caFile := filepath.Join(dir, "user_ca.pub")
	if err := os.WriteFile(caFile, caPub, 0o644); err != nil {
		t.Fatal(err)
	}
	port, err := testproc.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Join([]string{
		fmt.Sprintf("Port %d", port),
		"ListenAddress 127.0.0.1",
		"HostKey " + hostKey,
		"PidFile " + filepath.Join(dir, "sshd.pid"),
		"TrustedUserCAKeys " + caFile,
		"RevokedKeys " + krlPath,
		"AuthorizedKeysFile none",
		"AuthorizedPrincipalsFile none",
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"UsePAM no",
		"StrictModes no",
		"PermitRootLogin no",
		"LogLevel VERBOSE",
		"",
	}, "\n")
	cfgFile := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(sshd, "-t", "-f", cfgFile).CombinedOutput(); err != nil {
		t.Fatalf("sshd -t: %v: %s", err, out)
	}
	s := &Server{Addr: fmt.Sprintf("127.0.0.1:%d", port), log: &bytes.Buffer{}}
	cmd := exec.Command(sshd, "-D", "-e", "-f", cfgFile)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting sshd: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("sshd log:\n%s", s.log.String())
		}
	})
	waitListening(t, s.Addr)
	return s
}

// Login authenticates as user with the certificate cert for the private key
// signer; it returns nil when sshd accepted the certificate.
func (s *Server) Login(user string, signer ssh.Signer, cert *ssh.Certificate) error {
	certSigner, err := ssh.NewCertSigner(cert, signer)
	if err != nil {
		return fmt.Errorf("pairing certificate and key: %w", err)
	}
	cfg := &ssh.ClientConfig{
		User:            user,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(certSigner)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), // a throwaway test server
		Timeout:         5 * time.Second,
	}
	client, err := ssh.Dial("tcp", s.Addr, cfg)
	if err != nil {
		return err
	}
	return client.Close()
}

func waitListening(t testing.TB, addr string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("sshd did not listen on %s within 5s", addr)
}
