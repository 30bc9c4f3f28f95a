package sshagent

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

func TestParseOutput(t *testing.T) {
	tests := []struct {
		name, out string
		want      Agent
		wantErr   bool
	}{
		{name: "openssh", out: "SSH_AUTH_SOCK=/tmp/ssh-XXXX/agent.12; export SSH_AUTH_SOCK;\nSSH_AGENT_PID=13; export SSH_AGENT_PID;\necho Agent pid 13;\n", want: Agent{Sock: "/tmp/ssh-XXXX/agent.12", PID: 13}},
		{name: "no pid", out: "SSH_AUTH_SOCK=/tmp/s; export SSH_AUTH_SOCK;\n", wantErr: true},
		{name: "relative socket", out: "SSH_AUTH_SOCK=s; export SSH_AUTH_SOCK;\nSSH_AGENT_PID=13;\n", wantErr: true},
		{name: "pid 1", out: "SSH_AUTH_SOCK=/s; export SSH_AUTH_SOCK;\nSSH_AGENT_PID=1;\n", wantErr: true},
		{name: "csh", out: "setenv SSH_AUTH_SOCK /s;\nsetenv SSH_AGENT_PID 13;\n", wantErr: true},
	}
	for _, tc := range tests {
		got, err := ParseOutput(tc.out)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("%s: got %+v, %v; want %+v, error %v", tc.name, got, err, tc.want, tc.wantErr)
		}
	}
}

// certified returns a fresh key (PEM) and a certificate for it valid
// until expires.
func certified(t *testing.T, expires time.Time) ([]byte, *ssh.Certificate) {
	t.Helper()
	_, caKey, _ := ed25519.GenerateKey(rand.Reader)
	_, userKey, _ := ed25519.GenerateKey(rand.Reader)
	ca, err := ssh.NewSignerFromKey(caKey)
	if err != nil {
		t.Fatal(err)
	}
	user, err := ssh.NewSignerFromKey(userKey)
	if err != nil {
		t.Fatal(err)
	}
	cert := &ssh.Certificate{Key: user.PublicKey(), Serial: 7, CertType: ssh.UserCert, KeyId: "jit/test",
		ValidPrincipals: []string{"nobody"}, ValidBefore: uint64(expires.Unix())}
	if err := cert.SignCert(rand.Reader, ca); err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(userKey, "")
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(block), cert
}

func TestStartAddStop(t *testing.T) {
	if _, err := findAgent(systemAgents()); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	a, err := Start(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = Stop(a.Sock, a.PID) })
	now := time.Now()
	key, cert := certified(t, now.Add(10*time.Minute))
	line := string(ssh.MarshalAuthorizedKey(cert))
	if err := Add(a.Sock, key, line, now.Add(-time.Second), now); err == nil {
		t.Errorf("Add of an expired certificate: no error")
	}
	if err := Add(a.Sock, key, line, now.Add(10*time.Minute), now); err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("unix", a.Sock)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := agent.NewClient(conn).List()
	conn.Close()
	if err != nil || len(keys) != 1 || keys[0].Format != cert.Type() || keys[0].Comment != "jit/test" {
		t.Fatalf("agent holds %v, %v; want the certificate", keys, err)
	}
	if err := Stop(a.Sock, a.PID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(a.Sock); os.IsNotExist(err) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := os.Stat(a.Sock); !os.IsNotExist(err) {
		t.Errorf("the agent's socket is still there after Stop: %v", err)
	}
	if err := Stop(a.Sock, a.PID); err != nil {
		t.Errorf("Stop of a stopped agent: %v", err)
	}
}

func TestStartFails(t *testing.T) {
	if _, err := Start(t.Context(), "/nonexistent/ssh-agent"); err == nil {
		t.Errorf("no error")
	}
	if _, err := Start(t.Context(), "ssh-agent"); err == nil || !strings.Contains(err.Error(), "not an absolute path") {
		t.Errorf("a program name to look up on PATH: %v; want a refusal", err)
	}
}

// TestFindAgentIgnoresPATH: ssh-agent comes from the fixed list, never from
// PATH, and only an executable regular file counts.
func TestFindAgentIgnoresPATH(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "ssh-agent")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	if got, err := findAgent(systemAgents()); err == nil && got == fake {
		t.Errorf("findAgent used %s from PATH", got)
	}
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	if got, err := findAgent([]string{missing, dir, plain, fake}); err != nil || got != fake {
		t.Errorf("findAgent: %q, %v; want %s", got, err, fake)
	}
	_, err := findAgent([]string{missing, plain})
	if err == nil || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), plain) {
		t.Errorf("findAgent with none usable: %v; want an error naming both", err)
	}
}

func TestAddRefusesBadInput(t *testing.T) {
	now := time.Now()
	key, cert := certified(t, now.Add(time.Hour))
	line := string(ssh.MarshalAuthorizedKey(cert))
	plain := string(ssh.MarshalAuthorizedKey(cert.Key))
	for name, tc := range map[string]struct{ key, cert string }{
		"bad key":     {"not a key", line},
		"bad cert":    {string(key), "ssh-ed25519 !!!"},
		"not a cert":  {string(key), plain},
		"unreachable": {string(key), line},
	} {
		if err := Add("/nonexistent/sock", []byte(tc.key), tc.cert, now.Add(time.Hour), now); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
