package main

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/oidctest"
	"github.com/jit-policy/jit-policy/internal/sshdtest"
)

// TestPipelineSSHAgainstSSHD is the pipeline flow end to end against a real
// sshd: a certificate logs in as its principal and not as another, stops
// logging in once revoked (the republished KRL), and once expired.
func TestPipelineSSHAgainstSSHD(t *testing.T) {
	sshdtest.RequireUser(t, "nobody")
	sshdtest.RequireUser(t, "daemon")
	e := newPipelineEnv(t, "")
	srv := sshdtest.Start(t, e.caPub, e.krl)

	signer, pub := e.userKey(t, "id_ed25519")
	code, out, errOut := e.issue(t, e.oidc.Mint(t, oidctest.MintOptions{}), func(p *issueParams) { p.publicKey = pub })
	if code != 0 {
		t.Fatalf("issue: exit %d\n%s", code, errOut)
	}
	leaseID := strings.TrimSpace(out)
	cert := readCert(t, pub)
	if err := srv.Login("nobody", signer, cert); err != nil {
		t.Fatalf("login as the certificate's principal: %v", err)
	}
	if err := srv.Login("daemon", signer, cert); err == nil {
		t.Error("login as a principal the role does not allow succeeded")
	}

	// A second, unrevoked certificate keeps working after the first is revoked.
	signer2, pub2 := e.userKey(t, "id_other")
	if code, _, errOut := e.issue(t, e.oidc.Mint(t, oidctest.MintOptions{}), func(p *issueParams) { p.publicKey = pub2 }); code != 0 {
		t.Fatalf("second issue: exit %d\n%s", code, errOut)
	}
	cert2 := readCert(t, pub2)

	if code := e.revoke(t, leaseID); code != 0 {
		t.Fatalf("revoke: exit %d", code)
	}
	if err := srv.Login("nobody", signer, cert); err == nil {
		t.Error("a revoked certificate still logs in")
	}
	if err := srv.Login("nobody", signer2, cert2); err != nil {
		t.Errorf("an unrevoked certificate no longer logs in: %v", err)
	}
	checkKRL(t, e.krl, map[string]bool{
		strings.TrimSuffix(pub, ".pub") + "-cert.pub":  true,
		strings.TrimSuffix(pub2, ".pub") + "-cert.pub": false,
	})

	// Expiry: a certificate issued for one second stops logging in.
	signer3, pub3 := e.userKey(t, "id_short")
	if code, _, errOut := e.issue(t, e.oidc.Mint(t, oidctest.MintOptions{}), func(p *issueParams) { p.publicKey = pub3; p.ttl = time.Second }); code != 0 {
		t.Fatalf("short issue: exit %d\n%s", code, errOut)
	}
	cert3 := readCert(t, pub3)
	time.Sleep(time.Until(time.Unix(int64(cert3.ValidBefore), 0)) + 1100*time.Millisecond)
	if err := srv.Login("nobody", signer3, cert3); err == nil {
		t.Error("an expired certificate still logs in")
	}

	var active int
	for _, l := range e.allLeases(t) {
		if l.State == lease.Active {
			active++
		}
		if l.Job.Repository != "org/app" || l.Job.RunID != "987654321" || l.Job.Attempt != "1" || l.Job.JobID != "24681357" {
			t.Errorf("lease %s job = %+v, want org/app run 987654321 attempt 1 job 24681357", l.ID, l.Job)
		}
	}
	if active != 2 {
		t.Errorf("%d active leases, want 2 (the revoked one is revoked)", active)
	}
}

// checkKRL runs ssh-keygen -Q on each certificate file and compares with
// whether it should be revoked.
func checkKRL(t *testing.T, krlPath string, want map[string]bool) {
	t.Helper()
	for certFile, revoked := range want {
		out, err := exec.Command("ssh-keygen", "-Q", "-f", krlPath, certFile).CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("ssh-keygen -Q: %v", err)
		}
		if got := code == 1 && strings.Contains(string(out), "REVOKED"); got != revoked || code > 1 {
			t.Errorf("ssh-keygen -Q %s: exit %d %q, want revoked=%v", certFile, code, out, revoked)
		}
	}
}
