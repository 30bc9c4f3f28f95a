package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jit-policy/jit-policy/internal/oidctest"
	"github.com/jit-policy/jit-policy/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestIssueWithSharedStore: `leases: ${JIT_LEASES_DSN}` reaches the
// PostgreSQL store; a token spent by one runner is refused on another that
// shares the store (here: a second config and lease-free working folder).
func TestIssueWithSharedStore(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	t.Setenv("JIT_LEASES_DSN", dsn)
	runnerA, runnerB := newPipelineEnv(t, ""), newPipelineEnv(t, "")
	for _, e := range []*pipelineEnv{runnerA, runnerB} {
		cfg, err := os.ReadFile(e.config)
		if err != nil {
			t.Fatal(err)
		}
		mustWrite(t, e.config, strings.Replace(string(cfg), "leases: file://leases.db", "leases: ${JIT_LEASES_DSN}", 1))
	}
	// Both runners trust runner A's issuer, as two runners trust GitHub's.
	cfgB, err := os.ReadFile(runnerB.config)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, runnerB.config, strings.Replace(string(cfgB), runnerB.oidc.URL(), runnerA.oidc.URL(), 1))

	token := runnerA.oidc.Mint(t, oidctest.MintOptions{})
	if code, _, errOut := runnerA.issue(t, token, func(p *issueParams) { p.generateKey = true; p.outDir = filepath.Join(runnerA.dir, "k") }); code != 0 {
		t.Fatalf("runner A: exit %d\n%s", code, errOut)
	}
	code, _, errOut := runnerB.issue(t, token, func(p *issueParams) { p.generateKey = true; p.outDir = filepath.Join(runnerB.dir, "k") })
	if code != 2 || !strings.Contains(errOut, "token was already used") {
		t.Fatalf("runner B replaying A's token: exit %d, %q; want 2, token was already used", code, errOut)
	}
}
