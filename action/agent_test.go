//go:build !windows

package action

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/jit-policy/jit-policy/action/sshagent"
)

// TestRunSSHAgent starts the agent with a generated key and with a key
// file, checks that it holds the certificate and that SSH_AUTH_SOCK
// reaches GITHUB_ENV (and nothing else without export-env), and that the
// post step stops it.
func TestRunSSHAgent(t *testing.T) {
	needTool(t, "ssh-agent")
	e := newTestEnv(t)
	_, pubPath := userKey(t, e.dir, "agent_key")
	tests := []struct {
		name   string
		inputs map[string]string
	}{
		{"generate-key", map[string]string{InputSSHAgent: "true"}},
		{"key file", map[string]string{InputSSHAgent: "true", InputGenerateKey: "", InputPublicKey: pubPath}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := e.newJob(t, "agent"+strconv.Itoa(i))
			for k, v := range tc.inputs {
				j.env[InputEnv(k)] = v
			}
			if code := j.run(); code != ExitOK {
				t.Fatalf("exit %d\n%s", code, j.stdout.String())
			}
			st, env := j.parse(j.state), j.parse(j.envFile)
			sock, pid := st[StateAgentSocket], st[StateAgentPID]
			if sock == "" || env["SSH_AUTH_SOCK"] != sock || env["SSH_AGENT_PID"] != pid || len(env) != 2 {
				t.Fatalf("state %v, GITHUB_ENV %v", st, env)
			}
			n, _ := strconv.Atoi(pid)
			t.Cleanup(func() { _ = sshagent.Stop(sock, n) })
			cert := j.cert(j.parse(j.output))
			conn, err := net.Dial("unix", sock)
			if err != nil {
				t.Fatal(err)
			}
			keys, err := agent.NewClient(conn).List()
			conn.Close()
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, k := range keys {
				found = found || bytes.Equal(k.Marshal(), cert.Marshal())
			}
			if !found {
				t.Errorf("the agent holds %d keys, not the certificate", len(keys))
			}
			if code := j.post(); code != ExitPostOK {
				t.Fatalf("post: exit %d\n%s", code, j.stdout.String())
			}
			deadline := time.Now().Add(5 * time.Second)
			for alive(n) && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if alive(n) {
				t.Errorf("ssh-agent %d still runs after the post step", n)
				_ = syscall.Kill(n, syscall.SIGTERM)
			}
		})
	}
}

// TestRunSSHAgentKeyChecks refuses, before issuing, a key file whose
// private half is another key, encrypted or missing.
func TestRunSSHAgentKeyChecks(t *testing.T) {
	e := newTestEnv(t)
	dir := filepath.Join(e.dir, "keys")
	_, pub := userKey(t, dir, "k1")
	userKey(t, dir, "k2")
	signer, err := ssh.ParseRawPrivateKey([]byte(mustRead(t, filepath.Join(dir, "k1"))))
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKeyWithPassphrase(signer, "", []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	for name, priv := range map[string]string{"other": mustRead(t, filepath.Join(dir, "k2")), "encrypted": string(pemEncode(block))} {
		mustWrite(t, filepath.Join(dir, name), priv)
		mustWrite(t, filepath.Join(dir, name+".pub"), mustRead(t, pub))
	}
	mustWrite(t, filepath.Join(dir, "alone.pub"), mustRead(t, pub))
	tests := []struct{ name, pub, want string }{
		{"other key", filepath.Join(dir, "other.pub"), "::error::input ssh-agent: the private key beside the .pub file does not match it"},
		{"encrypted", filepath.Join(dir, "encrypted.pub"), "::error::input ssh-agent: the private key beside the .pub file is passphrase-protected"},
		{"no private key", filepath.Join(dir, "alone.pub"), "::error::input ssh-agent: the private key beside the .pub file: no such file or directory"},
		{"not NAME.pub", filepath.Join(dir, "k1"), "::error::input public-key: the file holds a private key"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := e.newJob(t, "agentcheck"+strconv.Itoa(i))
			j.env[InputEnv(InputSSHAgent)] = "true"
			j.env[InputEnv(InputGenerateKey)] = ""
			j.env[InputEnv(InputPublicKey)] = tc.pub
			if code := j.run(); code != ExitError || !bytes.Contains(j.stdout.Bytes(), []byte(tc.want)) {
				t.Errorf("exit %d\n%s\nwant %q", code, j.stdout.String(), tc.want)
			}
			if st := j.parse(j.state); !isBlankState(st) {
				t.Errorf("state %v, want every state of the post step blank", st)
			}
		})
	}
}

// alive reports whether process pid runs: exists and, where /proc tells,
// is no zombie (the agent's parent has exited, so init reaps it, late).
func alive(pid int) bool {
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) {
			return stat[i+2] != 'Z'
		}
	}
	return syscall.Kill(pid, 0) == nil
}
