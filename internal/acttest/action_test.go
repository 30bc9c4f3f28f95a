package acttest

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jit-policy/jit-policy/internal/lease"
)

// TestAction runs the workflows of testdata/workflows under act. They run
// one after another against one lease store and KRL.
func TestAction(t *testing.T) {
	e := newActEnv(t)
	t.Run("IssueUseFailRevoke", func(t *testing.T) { testIssue(t, e) })
	t.Run("ParallelJobsRevokeOnlyTheirOwn", func(t *testing.T) { testParallel(t, e) })
	t.Run("Denied", func(t *testing.T) { testDenied(t, e) })
	t.Run("GoBuildFallback", func(t *testing.T) {
		if testing.Short() {
			t.Skip("-short: skipping the go build fallback")
		}
		testFallback(t, e)
	})
}

// testIssue: outputs hold a valid certificate for the generated key, the
// key never appears unmasked, the summary has the table, and after the
// failing step the post step revoked the lease and the KRL lists it.
func testIssue(t *testing.T, e *actEnv) {
	r := e.runAct(t, "issue.yml")
	if r.err == nil {
		t.Errorf("act succeeded; the workflow's failing step should fail the job")
	}
	if r.exists("never-runs") {
		t.Errorf("a step after the failing step ran")
	}
	id := r.readOut(t, "lease-id")
	cert := parseCert(t, r.readOut(t, "certificate"))
	if file := r.readOut(t, "certificate-file"); file != r.readOut(t, "certificate") {
		t.Errorf("certificate-path holds %q, the certificate output is %q", file, r.readOut(t, "certificate"))
	}
	caPub, err := os.ReadFile(filepath.Join(e.dir, "ca", "ssh-ca.pub"))
	if err != nil {
		t.Fatal(err)
	}
	ca, _, _, _, err := ssh.ParseAuthorizedKey(caPub)
	if err != nil {
		t.Fatal(err)
	}
	checker := ssh.CertChecker{IsUserAuthority: func(k ssh.PublicKey) bool { return bytes.Equal(k.Marshal(), ca.Marshal()) }}
	if err := checker.CheckCert("deploy", cert); err != nil {
		t.Errorf("certificate does not check out for principal deploy: %v", err)
	}
	if !slices.Equal(cert.ValidPrincipals, []string{"deploy"}) || cert.CertType != ssh.UserCert || cert.Serial == 0 {
		t.Errorf("certificate: principals %v, type %d, serial %d", cert.ValidPrincipals, cert.CertType, cert.Serial)
	}
	if !strings.Contains(cert.KeyId, id) {
		t.Errorf("key id %q does not name lease %s", cert.KeyId, id)
	}
	if life := time.Until(time.Unix(int64(cert.ValidBefore), 0)); life > 5*time.Minute+time.Minute {
		t.Errorf("certificate valid for %s more; ttl was 5m", life)
	}
	expires, err := time.Parse(time.RFC3339, r.readOut(t, "expires-at"))
	if err != nil || expires.Unix() != int64(cert.ValidBefore) {
		t.Errorf("expires-at %q (%v), certificate valid before %d", r.readOut(t, "expires-at"), err, cert.ValidBefore)
	}

	keyPEM := r.readOut(t, "private-key")
	key, err := ssh.ParsePrivateKey([]byte(keyPEM + "\n"))
	if err != nil {
		t.Fatalf("private-key output: %v", err)
	}
	if !bytes.Equal(key.PublicKey().Marshal(), cert.Key.Marshal()) {
		t.Errorf("the certificate is not for the generated key")
	}
	for i, line := range strings.Split(keyPEM, "\n") {
		if line = strings.TrimSpace(line); line != "" && strings.Contains(r.log, line) {
			t.Errorf("line %d of the private key appears unmasked in the act log: %q", i+1, line)
		}
	}
	if use := r.step("deploy", "Main use the outputs"); !strings.Contains(use, "***") {
		t.Errorf("printing the private key output shows no *** mask:\n%s", use)
	}
	if agent := r.readOut(t, "agent-keys"); !strings.Contains(agent, strings.Fields(string(ssh.MarshalAuthorizedKey(cert)))[1]) {
		t.Errorf("ssh-add -L does not list the certificate:\n%s", agent)
	}

	main := r.step("deploy", "Main jit-policy")
	sum := summary(main)
	for _, want := range []string{"|", "---", id, "deploy"} {
		if !strings.Contains(sum, want) {
			t.Errorf("job summary lacks %q:\n%s", want, sum)
		}
	}
	post := r.step("deploy", "Post jit-policy")
	if !strings.Contains(post, "Success - Post jit-policy") {
		t.Errorf("post step did not run or failed after the failing step:\n%s", post)
	}
	l, ok := e.allLeases(t)[id]
	if !ok {
		t.Fatalf("lease %s is not in the store", id)
	}
	if l.State != lease.Revoked || l.RevokedBy != lease.ByPostStep {
		t.Errorf("lease %s: state %s, revoked by %q; want revoked by %s", id, l.State, l.RevokedBy, lease.ByPostStep)
	}
	if l.Credential.Serial != cert.Serial {
		t.Errorf("lease serial %d, certificate serial %d", l.Credential.Serial, cert.Serial)
	}
	if !e.revokedInKRL(t, filepath.Join(r.out, "certificate-file")) {
		t.Errorf("ssh-keygen -Q does not find the certificate in the KRL")
	}
}

// testParallel: two jobs of one run, whose tokens name the same job; each
// post step revokes its own lease only, and b's lease stayed active after
// a's post step ran.
func testParallel(t *testing.T, e *actEnv) {
	r := e.runAct(t, "parallel.yml")
	if r.err != nil {
		t.Errorf("act: %v", r.err)
	}
	a, b := r.readOut(t, "a.lease"), r.readOut(t, "b.lease")
	if a == "" || a == b {
		t.Fatalf("lease ids a=%q b=%q", a, b)
	}
	active := r.readOut(t, "active-after-a")
	if !strings.Contains(active, b) || strings.Contains(active, a) {
		t.Errorf("after a's post step the active leases are %s; want b's (%s) and not a's (%s)", active, b, a)
	}
	leases := e.allLeases(t)
	if leases[a].Job != leases[b].Job {
		t.Logf("note: the jobs' leases differ in job identity (%+v, %+v)", leases[a].Job, leases[b].Job)
	}
	for job, own := range map[string]string{"a": a, "b": b} {
		other := map[string]string{a: b, b: a}[own]
		if l := leases[own]; l.State != lease.Revoked || l.RevokedBy != lease.ByPostStep {
			t.Errorf("job %s's lease %s: state %s, revoked by %q", job, own, l.State, l.RevokedBy)
		}
		post := r.step(job, "Post jit-policy")
		if !strings.Contains(post, own) {
			t.Errorf("job %s's post step does not name its lease %s:\n%s", job, own, post)
		}
		if strings.Contains(post, other) {
			t.Errorf("job %s's post step names the other job's lease %s:\n%s", job, other, post)
		}
	}
}

// testDenied: each deny reason is one ::error::, the step fails, nothing
// stays issued, and the post step has nothing to revoke.
func testDenied(t *testing.T, e *actEnv) {
	before := e.allLeases(t)
	r := e.runAct(t, "deny.yml")
	if r.err == nil {
		t.Errorf("act succeeded; the denied request should fail the job")
	}
	main := r.step("breakglass", "Main jit-policy")
	for _, reason := range []string{"break-glass is only for incidents", "break-glass needs environment incident"} {
		n := 0
		for line := range strings.Lines(main) {
			if _, msg, ok := strings.Cut(line, "::error::"); ok && strings.Contains(msg, reason) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d ::error:: lines name the reason %q, want 1:\n%s", n, reason, main)
		}
	}
	if !strings.Contains(main, "Failure - Main jit-policy") || r.exists("never-runs") {
		t.Errorf("the denied step did not fail the job:\n%s", main)
	}
	for id, l := range e.allLeases(t) {
		if _, old := before[id]; !old && l.State != lease.Revoked {
			t.Errorf("denied run left lease %s (%s/%s) %s", id, l.Issuer, l.Role, l.State)
		}
	}
	if post := r.step("breakglass", "Post jit-policy"); !strings.Contains(post, "Success - Post jit-policy") {
		t.Errorf("post step after a denial did not succeed:\n%s", post)
	}
}

// testFallback: without the binary input the shim builds jit-policy with
// go, ignoring the INPUT_BINARY and STATE_binary-path an earlier step put
// into GITHUB_ENV; the post step revokes with the built binary.
func testFallback(t *testing.T, e *actEnv) {
	r := e.runAct(t, "fallback.yml")
	if r.err != nil {
		t.Errorf("act: %v", r.err)
	}
	if r.exists("smuggled-ran") {
		t.Errorf("the binary an earlier step named in GITHUB_ENV ran")
	}
	if main := r.step("build", "Main jit-policy"); !strings.Contains(main, "go build ./cmd/jit-policy") {
		t.Errorf("the main step did not build jit-policy:\n%s", main)
	}
	id := r.readOut(t, "lease-id")
	if l := e.allLeases(t)[id]; l.State != lease.Revoked || l.RevokedBy != lease.ByPostStep {
		t.Errorf("lease %q: state %s, revoked by %q", id, l.State, l.RevokedBy)
	}
}

// parseCert parses an SSH certificate in authorized_keys format.
func parseCert(t *testing.T, s string) *ssh.Certificate {
	t.Helper()
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(s))
	if err != nil {
		t.Fatalf("certificate output %q: %v", s, err)
	}
	cert, ok := pub.(*ssh.Certificate)
	if !ok {
		t.Fatalf("certificate output is a %s key, not a certificate", pub.Type())
	}
	return cert
}
