package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/lease/sqlitestore"
	"github.com/jit-policy/jit-policy/internal/oidctest"
	"github.com/jit-policy/jit-policy/internal/pipelinetest"
)

// pipelineEnv is a policy repo, a config, a file CA and a real OIDC issuer
// in a temporary folder (internal/pipelinetest), with an initial KRL:
// everything `jit-policy issue` needs.
type pipelineEnv struct {
	dir    string
	config string
	oidc   *oidctest.Issuer
	caPub  []byte
	krl    string
	leases string
}

// newPipelineEnv writes the repo; caKey, when set, replaces the ssh
// issuer's file CA key (e.g. a KMS URI).
func newPipelineEnv(t testing.TB, caKey string) *pipelineEnv {
	t.Helper()
	pe := pipelinetest.New(t, pipelinetest.Options{Policy: pipelinetest.DeployPolicy, CAKey: caKey})
	e := &pipelineEnv{dir: pe.Dir, config: pe.Config, oidc: pe.OIDC, caPub: pe.CAPub, krl: pe.KRL, leases: pe.Leases}
	if code := runList(context.Background(), listParams{issuer: "ssh", config: e.config, stderr: os.Stderr}); code != 0 {
		t.Fatalf("krl: exit %d", code)
	}
	return e
}

// mustWrite writes body to path, creating its folder.
func mustWrite(t testing.TB, path, body string) { pipelinetest.Write(t, path, body) }

// userKey writes a fresh Ed25519 key pair as NAME and NAME.pub.
func (e *pipelineEnv) userKey(t testing.TB, name string) (ssh.Signer, string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	pubPath := filepath.Join(e.dir, "keys", name+".pub")
	mustWrite(t, pubPath, string(ssh.MarshalAuthorizedKey(signer.PublicKey())))
	return signer, pubPath
}

// issue runs `jit-policy issue` with token and returns the exit code,
// stdout and stderr.
func (e *pipelineEnv) issue(t *testing.T, token string, mod func(*issueParams)) (int, string, string) {
	t.Helper()
	tokenFile := filepath.Join(e.dir, "token")
	mustWrite(t, tokenFile, token)
	var out, errOut bytes.Buffer
	p := issueParams{config: e.config, issuer: "ssh", role: "deploy", tokenFile: tokenFile, format: "text",
		getenv: func(string) string { return "" }, out: &out, err: &errOut}
	if mod != nil {
		mod(&p)
	}
	code := runIssue(context.Background(), p)
	return code, out.String(), errOut.String()
}

// readCert parses the certificate file written next to pubPath.
func readCert(t *testing.T, pubPath string) *ssh.Certificate {
	t.Helper()
	data, err := os.ReadFile(strings.TrimSuffix(pubPath, ".pub") + "-cert.pub")
	if err != nil {
		t.Fatal(err)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(data)
	if err != nil {
		t.Fatal(err)
	}
	cert, ok := pub.(*ssh.Certificate)
	if !ok {
		t.Fatalf("%T is not a certificate", pub)
	}
	return cert
}

// allLeases lists every lease in the env's store.
func (e *pipelineEnv) allLeases(t *testing.T) []lease.Lease {
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
	return ls
}

func (e *pipelineEnv) revoke(t *testing.T, id string) int {
	t.Helper()
	var out bytes.Buffer
	return runRevoke(context.Background(), revokeParams{config: e.config, leaseID: id, out: &out, err: os.Stderr})
}
