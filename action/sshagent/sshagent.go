// Package sshagent starts an OpenSSH ssh-agent for a CI job, loads a key
// with its certificate into it, and stops it again. Keys are added through
// the agent protocol (golang.org/x/crypto/ssh/agent), never through a
// command line or a file other than the one the caller wrote.
package sshagent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// Agent is a running ssh-agent: its socket (SSH_AUTH_SOCK) and process
// id (SSH_AGENT_PID).
type Agent struct {
	Sock string
	PID  int
}

// startTimeout bounds `ssh-agent -s`, which forks the agent and exits.
const startTimeout = 10 * time.Second

// systemAgents are the places Start runs ssh-agent from, first found
// first. PATH is never searched: an earlier step of the job can put a
// folder in front of it (GITHUB_PATH), and the agent receives the private
// key.
func systemAgents() []string {
	return []string{"/usr/bin/ssh-agent", "/bin/ssh-agent", "/usr/local/bin/ssh-agent"}
}

// findAgent returns the first of paths that is an executable regular file.
func findAgent(paths []string) (string, error) {
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("ssh-agent: none of %s exists (PATH is not searched); install the OpenSSH client", strings.Join(paths, ", "))
}

// Start runs `ssh-agent -s` (bin, an absolute path; "" for the first of
// systemAgents that exists) and returns the agent it started, which
// outlives this process until Stop. Not on Windows, whose ssh-agent is a
// system service.
func Start(ctx context.Context, bin string) (Agent, error) {
	if runtime.GOOS == "windows" {
		return Agent{}, errors.New("ssh-agent: not supported on Windows runners")
	}
	if bin == "" {
		var err error
		if bin, err = findAgent(systemAgents()); err != nil {
			return Agent{}, err
		}
	} else if !filepath.IsAbs(bin) {
		return Agent{}, fmt.Errorf("ssh-agent: %q is not an absolute path", bin)
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-s")
	cmd.WaitDelay = time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return Agent{}, fmt.Errorf("ssh-agent -s: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	a, err := ParseOutput(string(out))
	if err != nil {
		return Agent{}, err
	}
	return a, nil
}

var (
	sockRE = regexp.MustCompile(`(?m)^SSH_AUTH_SOCK=([^;\n]+);`)
	pidRE  = regexp.MustCompile(`(?m)^SSH_AGENT_PID=([0-9]+);`)
)

// ParseOutput reads the Bourne shell lines of `ssh-agent -s`:
// "SSH_AUTH_SOCK=PATH; export SSH_AUTH_SOCK;" and "SSH_AGENT_PID=N; …".
func ParseOutput(out string) (Agent, error) {
	s, p := sockRE.FindStringSubmatch(out), pidRE.FindStringSubmatch(out)
	if s == nil || p == nil {
		return Agent{}, errors.New("ssh-agent -s: no SSH_AUTH_SOCK and SSH_AGENT_PID in its output")
	}
	pid, err := strconv.Atoi(p[1])
	if err != nil || pid <= 1 {
		return Agent{}, fmt.Errorf("ssh-agent -s: bad pid %q", p[1])
	}
	if !filepath.IsAbs(s[1]) {
		return Agent{}, fmt.Errorf("ssh-agent -s: socket %q is not an absolute path", s[1])
	}
	return Agent{Sock: s[1], PID: pid}, nil
}

// Add loads the private key (PEM, unencrypted) and its certificate (one
// authorized_keys line) into the agent at sock. The agent forgets them at
// expires, when the certificate is no longer valid anyway.
func Add(sock string, privatePEM []byte, certLine string, expires, now time.Time) error {
	key, err := ssh.ParseRawPrivateKey(privatePEM)
	if err != nil {
		return fmt.Errorf("ssh-agent: the private key: %w", err)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(certLine))
	if err != nil {
		return fmt.Errorf("ssh-agent: the certificate: %w", err)
	}
	cert, ok := pub.(*ssh.Certificate)
	if !ok {
		return errors.New("ssh-agent: the certificate is a plain key")
	}
	life := expires.Sub(now)
	if life < time.Second {
		return errors.New("ssh-agent: the certificate has already expired")
	}
	conn, err := net.Dial("unix", sock)
	if err != nil {
		return fmt.Errorf("ssh-agent: %w", err)
	}
	defer conn.Close()
	err = agent.NewClient(conn).Add(agent.AddedKey{
		PrivateKey: key, Certificate: cert, Comment: cert.KeyId,
		LifetimeSecs: uint32(min(life/time.Second, 1<<31)),
	})
	if err != nil {
		return fmt.Errorf("ssh-agent: adding the key: %w", err)
	}
	return nil
}

// Stop removes every key from the agent at sock (when it still answers)
// and ends process pid with SIGTERM. Where /proc exists it first checks
// that pid is an ssh-agent, so a stale or forged pid never ends another
// process. An agent that is already gone is not an error.
func Stop(sock string, pid int) error {
	var errs []error
	if sock != "" {
		if conn, err := net.Dial("unix", sock); err == nil {
			if err := agent.NewClient(conn).RemoveAll(); err != nil {
				errs = append(errs, fmt.Errorf("ssh-agent: removing keys: %w", err))
			}
			conn.Close()
		}
	}
	if pid > 1 {
		if err := kill(pid); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
