// Package pipelinetest builds, for tests, what a pipeline exchange needs
// on disk: a file SSH CA, a policy folder, a jit-policy.yaml trusting a real
// OIDC issuer (internal/oidctest), a SQLite lease store path and a KRL path,
// all in one temporary folder.
package pipelinetest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/jit-policy/jit-policy/internal/cakey"
	"github.com/jit-policy/jit-policy/internal/oidctest"
)

// Env is a prepared folder.
type Env struct {
	Dir    string
	Config string // jit-policy.yaml
	OIDC   *oidctest.Issuer
	CAPub  []byte // the SSH CA's public key, authorized_keys format
	KRL    string
	Leases string // the SQLite store's path
}

// DeployPolicy allows ssh role deploy to oidctest's default token
// (repository 123456789, refs/heads/main) with principals nobody and
// daemon for at most 10 minutes, and nothing else.
const DeployPolicy = `package jit

import data.jit.lib

allow if {
	input.kind == "pipeline"
	input.request.issuer == "ssh"
	input.request.role == "deploy"
	lib.repository_is("123456789")
	input.token.ref == "refs/heads/main"
}

grant := {"max_ttl_seconds": 600, "principals": ["nobody", "daemon"]}
`

// Options shape an Env; zero values give the defaults.
type Options struct {
	// Policy is the policy.rego text (package jit).
	Policy string
	// CAKey is the ssh issuer's ca_key; default file://ca/ssh-ca.
	CAKey string
}

// New writes the folder. The ssh role deploy allows principal nobody for
// 15 minutes; the issuer's maximum is an hour.
func New(t testing.TB, opts Options) *Env {
	t.Helper()
	dir := t.TempDir()
	e := &Env{Dir: dir, OIDC: oidctest.NewIssuer(t), KRL: filepath.Join(dir, "revoked.krl"), Leases: filepath.Join(dir, "leases.db")}
	if _, err := cakey.Init(filepath.Join(dir, "ca"), "ssh", cakey.Ed25519); err != nil {
		t.Fatal(err)
	}
	var err error
	if e.CAPub, err = os.ReadFile(filepath.Join(dir, "ca", cakey.SSHPubFile)); err != nil {
		t.Fatal(err)
	}
	if opts.CAKey == "" {
		opts.CAKey = "file://ca/ssh-ca"
	}
	Write(t, filepath.Join(dir, "policies", "policy.rego"), opts.Policy)
	e.Config = filepath.Join(dir, "jit-policy.yaml")
	Write(t, e.Config, fmt.Sprintf(`version: jit-policy/v1
policy: ./policies
audit: file://audit.jsonl
oidc:
  - issuer: %s
    audience: jit-policy
leases: file://leases.db
krl: file://revoked.krl
issuers:
  ssh:
    ca_key: %s
    ca_public_key: file://ca/ssh-ca.pub
    max_ttl: 1h
    roles:
      deploy: {principals: [nobody], max_ttl: 15m}
`, e.OIDC.URL(), opts.CAKey))
	return e
}

// Write writes body to path (0600), creating its folder.
func Write(t testing.TB, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}
