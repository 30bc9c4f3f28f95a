package engine_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jit-policy/jit-policy/engine"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// generatedPolicy returns a policy of n allow rules and n deny rules, each
// matching one repository and role, the shape of a large real policy.
func generatedPolicy(n int) string {
	var b strings.Builder
	b.WriteString("package jit\n\nimport data.jit.lib\n\n")
	for i := range n {
		fmt.Fprintf(&b, "allow if {\n\tinput.token.repository_id == \"%d\"\n\tinput.request.role == \"role-%d\"\n\tlib.matches(`org/app-%d/\\.github/workflows/deploy\\.yml@refs/heads/main`, input.token.job_workflow_ref)\n}\n\n", 100000+i, i, i)
		fmt.Fprintf(&b, "deny contains \"rule %d: production needs the prod environment\" if {\n\tinput.request.role == \"role-%d\"\n\tinput.token.environment != \"prod\"\n}\n\n", i, i)
	}
	b.WriteString("grant := {\"max_ttl_seconds\": 900, \"principals\": [\"deploy\"]}\n")
	return b.String()
}

// TestGeneratedPolicyGolden keeps testdata/bench100 (used by `opa bench` for
// comparison) in step with the generator.
func TestGeneratedPolicyGolden(t *testing.T) {
	path := filepath.Join("testdata", "bench100", "policy.rego")
	want := generatedPolicy(100)
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("%s is stale: run go test ./engine -run Golden -update", path)
	}
}

func benchDecide(b *testing.B, paths []string, inputFile string) {
	ctx := context.Background()
	eng, err := engine.Load(ctx, paths, engine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(inputFile)
	if err != nil {
		b.Fatal(err)
	}
	in, err := engine.DecodeInput(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := eng.Decide(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecideExample(b *testing.B) {
	benchDecide(b, []string{filepath.Join("..", "examples", "policies")}, filepath.Join("..", "examples", "inputs", "pipeline-ssh-allow.json"))
}

func BenchmarkDecideGenerated100(b *testing.B) {
	benchDecide(b, []string{filepath.Join("testdata", "bench100")}, filepath.Join("testdata", "bench100", "input.json"))
}

// BenchmarkDecideMinimal measures the engine's own cost per decision: a
// policy of one rule.
func BenchmarkDecideMinimal(b *testing.B) {
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "policy.rego"), []byte("package jit\nallow if input.request.role == \"role-99\"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	benchDecide(b, []string{dir}, filepath.Join("testdata", "bench100", "input.json"))
}
