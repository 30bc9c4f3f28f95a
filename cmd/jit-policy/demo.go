package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/jit-policy/jit-policy/engine"
	"github.com/jit-policy/jit-policy/examples"
	"github.com/jit-policy/jit-policy/internal/audit"
)

// demoParams are the inputs of `jit-policy demo`.
type demoParams struct {
	out, err io.Writer
}

func newDemoCommand(s streams) *cobra.Command {
	p := demoParams{out: s.out, err: s.err}
	return &cobra.Command{
		Use:   "demo",
		Short: "Run the main job on the embedded example policy repo",
		Long: `Run jit-policy's main job on the example policy repo embedded in the binary
(examples/ in the source): test its policies, decide each example input and
check the outcome its file name promises (…-allow.json, …-deny.json); then,
with a CI token minted by a throwaway local OIDC issuer, issue an SSH
certificate from the example policy, show it, revoke it and check the KRL.
Everything happens in a temporary folder. Exit 0 when everything holds.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return exit(runDemo(cmd.Context(), p))
		},
	}
}

func runDemo(ctx context.Context, p demoParams) int {
	dir, err := os.MkdirTemp("", "jit-policy-demo-")
	if err != nil {
		fmt.Fprintf(p.err, "demo: %v\n", err)
		return exitError
	}
	defer os.RemoveAll(dir)
	if err := os.CopyFS(dir, examples.FS()); err != nil {
		fmt.Fprintf(p.err, "demo: extracting the example repo: %v\n", err)
		return exitError
	}
	policyDir := filepath.Join(dir, "policies")

	fmt.Fprintln(p.out, "== jit-policy test examples/policies")
	if code := runTest(ctx, testParams{paths: []string{policyDir}, format: "pretty", timeout: engine.DefaultTimeout, out: p.out, err: p.err}); code != exitOK {
		return code
	}

	var auditLog bytes.Buffer
	eng, err := engine.Load(ctx, []string{policyDir}, engine.Options{Audit: audit.New(&auditLog)})
	if err != nil {
		fmt.Fprintf(p.err, "demo: %v\n", err)
		return exitError
	}
	inputs, err := fs.Glob(examples.FS(), "inputs/*.json")
	if err != nil {
		fmt.Fprintf(p.err, "demo: %v\n", err)
		return exitError
	}
	code := exitOK
	for _, name := range inputs {
		fmt.Fprintf(p.out, "\n== jit-policy eval --policy examples/policies --input examples/%s\n", name)
		if !demoDecide(ctx, p, eng, filepath.Join(dir, name)) {
			code = exitDenied
		}
	}
	fmt.Fprintf(p.out, "\n%d decisions written to the audit log (one JSON line each)\n", strings.Count(auditLog.String(), "\n"))
	if code != exitOK {
		return code
	}
	return demoPipeline(ctx, p, dir)
}

// demoDecide decides one input file and reports whether the outcome is the
// one its name promises.
func demoDecide(ctx context.Context, p demoParams, eng *engine.Engine, file string) bool {
	in, err := readInput(file, nil)
	if err != nil {
		fmt.Fprintf(p.err, "demo: %v\n", err)
		return false
	}
	d, err := eng.Decide(ctx, in)
	if err != nil {
		fmt.Fprintf(p.err, "demo: %v\n", err)
		return false
	}
	if d.Allowed {
		fmt.Fprintf(p.out, "allowed: %s %s/%s (decision %s)\n", in.Kind, in.Request.Issuer, in.Request.Role, d.ID)
		if grant, err := json.Marshal(d.Grant); err == nil && d.Grant != nil {
			fmt.Fprintf(p.out, "  grant: %s\n", grant)
		}
	} else {
		fmt.Fprintf(p.out, "denied: %s %s/%s (decision %s)\n", in.Kind, in.Request.Issuer, in.Request.Role, d.ID)
		for _, r := range d.Deny {
			fmt.Fprintf(p.out, "  - %s\n", r)
		}
	}
	want := strings.HasSuffix(strings.TrimSuffix(path.Base(file), ".json"), "-allow")
	if d.Allowed != want {
		fmt.Fprintf(p.err, "demo: %s: allowed=%v, but its name says allowed=%v\n", path.Base(file), d.Allowed, want)
		return false
	}
	return true
}
