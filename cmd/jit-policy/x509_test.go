package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jit-policy/jit-policy/internal/oidctest"
)

// TestIssueX509WithCRL: `jit-policy issue --issuer x509` writes a client
// certificate openssl verifies against the CA; after `revoke` the
// republished CRL makes openssl refuse it, while an unrevoked one passes.
func TestIssueX509WithCRL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("openssl is missing: apt-get install -y openssl")
		}
		t.Skip("openssl is missing: apt-get install -y openssl")
	}
	e := newPipelineEnv(t, "")
	if code := runCAInit(caInitParams{kind: "x509", out: filepath.Join(e.dir, "ca"), stdout: &bytes.Buffer{}, stderr: os.Stderr}); code != 0 {
		t.Fatalf("ca init x509: exit %d", code)
	}
	cfg, err := os.ReadFile(e.config)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, e.config, strings.Replace(string(cfg), "issuers:\n", `crl: file://revoked.crl
issuers:
  x509:
    ca_cert: file://ca/x509-ca.pem
    ca_key: file://ca/x509-ca.key
    max_ttl: 1h
    roles:
      k8s-dev: {common_name: "{{subject}}", organizations: [dev]}
`, 1))
	mustWrite(t, filepath.Join(e.dir, "policies", "x509.rego"), "package jit\n\nallow if {\n\tinput.request.issuer == \"x509\"\n\tinput.request.role == \"k8s-dev\"\n}\n")

	issue := func(name string) (string, string) {
		out := filepath.Join(e.dir, name)
		code, stdout, errOut := e.issue(t, e.oidc.Mint(t, oidctest.MintOptions{}), func(p *issueParams) {
			p.issuer, p.role, p.generateKey, p.outDir = "x509", "k8s-dev", true, out
		})
		if code != 0 {
			t.Fatalf("issue x509: exit %d\n%s", code, errOut)
		}
		return strings.TrimSpace(stdout), filepath.Join(out, "cert.pem")
	}
	revokedID, revokedCert := issue("a")
	_, keptCert := issue("b")
	ca := filepath.Join(e.dir, "ca", "x509-ca.pem")
	verify := func(cert string, crl bool) error {
		args := []string{"verify", "-purpose", "sslclient", "-CAfile", ca}
		if crl {
			args = append(args, "-crl_check", "-CRLfile", filepath.Join(e.dir, "revoked.crl"))
		}
		out, err := exec.Command("openssl", append(args, cert)...).CombinedOutput()
		if err != nil {
			return &verifyError{string(out)}
		}
		return nil
	}
	if err := verify(revokedCert, false); err != nil {
		t.Fatalf("openssl verify of an issued certificate: %v", err)
	}
	if code := e.revoke(t, revokedID); code != 0 {
		t.Fatalf("revoke: exit %d", code)
	}
	if err := verify(revokedCert, true); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("openssl -crl_check on the revoked certificate: %v, want it refused as revoked", err)
	}
	if err := verify(keptCert, true); err != nil {
		t.Errorf("openssl -crl_check on an unrevoked certificate: %v", err)
	}
}

type verifyError struct{ out string }

func (e *verifyError) Error() string { return e.out }
