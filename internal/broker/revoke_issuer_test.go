package broker_test

import (
	"context"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/oidctest"
	"github.com/jit-policy/jit-policy/internal/pipelinetest"
)

// With two trusted OIDC issuers, a token of issuer B whose claims mimic a
// job of issuer A (same repository, run, attempt and job) is not that job:
// it cannot revoke A's leases. A lease recorded without Job.Issuer (before
// the field existed) keeps the comparison of the other job fields.
func TestRevokeOtherIssuerMimickingJob(t *testing.T) {
	env := newEnv(t)
	other := oidctest.NewIssuer(t)
	cfg, err := os.ReadFile(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	oidcA := "oidc:\n  - issuer: " + env.OIDC.URL() + "\n    audience: jit-policy\n"
	if !strings.Contains(string(cfg), oidcA) {
		t.Fatalf("the config has no oidc block %q:\n%s", oidcA, cfg)
	}
	pipelinetest.Write(t, env.Config, strings.Replace(string(cfg), oidcA,
		oidcA+"  - issuer: "+other.URL()+"\n    audience: jit-policy\n", 1))
	s := newStack(t, env, nil)

	// Both issuers' default claims name the same job: org/app, run
	// 987654321, attempt 1, check run 24681357.
	mine := env.OIDC.Mint(t, oidctest.MintOptions{})
	code, a, bad := s.issue(t, mine, sshRequest(t))
	if code != http.StatusOK || a.LeaseID == "" {
		t.Fatalf("issuing with issuer A: %d %+v", code, bad)
	}
	if l, err := s.app.Leases.Get(context.Background(), a.LeaseID); err != nil || l.Job.Issuer != env.OIDC.URL() {
		t.Fatalf("lease of issuer A: Job %+v, %v; want Job.Issuer %q", l.Job, err, env.OIDC.URL())
	}
	// Issuer B is trusted: its token issues a lease of its own.
	code, b, bad := s.issue(t, other.Mint(t, oidctest.MintOptions{}), sshRequest(t))
	if code != http.StatusOK || b.LeaseID == "" {
		t.Fatalf("issuing with issuer B: %d %+v", code, bad)
	}

	mimic := other.Mint(t, oidctest.MintOptions{Claims: map[string]any{
		"repository": "org/app", "run_id": "987654321", "run_attempt": "1", "check_run_id": "24681357",
	}})
	for _, ids := range [][]string{{a.LeaseID}, {a.LeaseID, b.LeaseID}} {
		code, rr, bad := s.revoke(t, mimic, ids...)
		if code != http.StatusForbidden || !strings.Contains(bad.Error, "not a lease of this job") {
			t.Fatalf("revoke %v with issuer B's mimicking token: %d %+v %+v; want 403", ids, code, rr, bad)
		}
		for _, l := range s.leases(t) {
			if l.State != lease.Active {
				t.Fatalf("lease %s is %s after a refused revoke", l.ID, l.State)
			}
		}
	}
	// Nor can issuer A's token revoke issuer B's lease.
	if code, rr, bad := s.revoke(t, mine, b.LeaseID); code != http.StatusForbidden {
		t.Fatalf("revoke of B's lease with A's token: %d %+v %+v; want 403", code, rr, bad)
	}

	// A lease without Job.Issuer (recorded before the field existed) is
	// still revocable by a token of its job.
	now := time.Now()
	legacy := lease.Lease{
		ID: "legacy-lease", Issuer: "ssh", Role: "deploy", Subject: "repo:org/app:environment:prod",
		Job:      lease.Job{Provider: "github", Repository: "org/app", RunID: "987654321", Attempt: "1", JobID: "24681357"},
		IssuedAt: now, ExpiresAt: now.Add(10 * time.Minute),
	}
	if err := s.app.Leases.Put(context.Background(), legacy); err != nil {
		t.Fatal(err)
	}
	code, rr, bad := s.revoke(t, mine, legacy.ID)
	if code != http.StatusOK || !slices.Contains(append(rr.Revoked, rr.Skipped...), legacy.ID) {
		t.Fatalf("revoke of a lease without Job.Issuer: %d %+v %+v; want 200", code, rr, bad)
	}

	// Each issuer's job revokes its own lease.
	if code, rr, bad := s.revoke(t, mine, a.LeaseID); code != http.StatusOK || !slices.Equal(rr.Revoked, []string{a.LeaseID}) {
		t.Fatalf("revoke of A's lease with A's token: %d %+v %+v", code, rr, bad)
	}
	if code, rr, bad := s.revoke(t, mimic, b.LeaseID); code != http.StatusOK || !slices.Equal(rr.Revoked, []string{b.LeaseID}) {
		t.Fatalf("revoke of B's lease with B's token: %d %+v %+v", code, rr, bad)
	}
}
