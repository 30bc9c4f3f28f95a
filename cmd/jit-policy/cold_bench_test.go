package main

import (
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/oidctest"
)

// BenchmarkColdIssue runs the jit-policy binary once per iteration, as a CI
// step does: start, load the config and policy, verify a fresh token
// (discovery and JWKS over HTTP), decide, record, sign, write the
// certificate. It reports the median wall time as median-ns.
func BenchmarkColdIssue(b *testing.B) {
	bin := buildBinary(b)
	e := newPipelineEnv(b, "")
	_, pub := e.userKey(b, "id_ed25519")
	tokenFile := filepath.Join(e.dir, "token")
	var times []time.Duration
	for b.Loop() {
		b.StopTimer()
		mustWrite(b, tokenFile, e.oidc.Mint(b, oidctest.MintOptions{}))
		b.StartTimer()
		start := time.Now()
		out, err := exec.Command(bin, "issue", "--config", e.config, "--issuer", "ssh", "--role", "deploy", "--public-key", pub, "--token", tokenFile).CombinedOutput()
		times = append(times, time.Since(start))
		if err != nil {
			b.Fatalf("issue: %v\n%s", err, out)
		}
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Nanoseconds()), "median-ns")
}
