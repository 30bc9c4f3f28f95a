package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/jit-policy/jit-policy/engine"
	"github.com/jit-policy/jit-policy/internal/audit"
)

// evalParams are the inputs of `jit-policy eval`.
type evalParams struct {
	policy  []string
	input   string // a file, or "-" for standard input
	explain bool
	audit   string
	timeout time.Duration
	in      io.Reader
	out     io.Writer
	err     io.Writer
}

func newEvalCommand(s streams) *cobra.Command {
	p := evalParams{in: s.in, out: s.out, err: s.err}
	cmd := &cobra.Command{
		Use:   "eval --policy DIR --input FILE|-",
		Short: "Decide one input document and print the decision as JSON",
		Long: `Decide one input document against a policy tree and print the decision as
JSON ("decision_id", "allowed", "deny", "grant"; on an error "error" and no
"grant"). The input's fields are the JSON tags of engine.Input in
engine/input.go (its "request": engine/request.go); examples/inputs/*.json
are complete examples. Exit 0 allowed, 1 denied (every reason is in
"deny"), 2 error — an error is also a denial, with the error as its reason.
--explain writes, to standard error, which of the policy's rules matched and
where each other rule failed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return exit(runEval(cmd.Context(), p))
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&p.policy, "policy", nil, "policy folder or .rego file (repeatable)")
	f.StringVar(&p.input, "input", "", "input document: a JSON file, or - for standard input")
	f.BoolVar(&p.explain, "explain", false, "say which policy rules matched and why others did not")
	f.StringVar(&p.audit, "audit", "stderr", "audit log: stderr or file://PATH")
	f.DurationVar(&p.timeout, "timeout", engine.DefaultTimeout, "evaluation timeout")
	_ = cmd.MarkFlagRequired("policy")
	_ = cmd.MarkFlagRequired("input")
	return cmd
}

// runEval prints the decision and returns 0 allowed, 1 denied, 2 error.
// Every decision, also one that failed before evaluation, is audited.
func runEval(ctx context.Context, p evalParams) int {
	log, err := audit.Open(p.audit, p.err)
	if err != nil {
		return printDecision(p.out, engine.Denied(engine.NewDecisionID(), err), exitError)
	}
	defer log.Close()
	d, err := evalDecision(ctx, p, log)
	switch {
	case err != nil:
		return printDecision(p.out, d, exitError)
	case !d.Allowed:
		return printDecision(p.out, d, exitDenied)
	}
	return printDecision(p.out, d, exitOK)
}

// evalDecision decides p's input; a failure before evaluation is a denial
// recorded here, one during evaluation is recorded by the engine.
func evalDecision(ctx context.Context, p evalParams, log *audit.Log) (engine.Decision, error) {
	in, err := readInput(p.input, p.in)
	var eng *engine.Engine
	if err == nil {
		eng, err = engine.Load(ctx, p.policy, engine.Options{Timeout: p.timeout, Audit: log})
	}
	if err != nil {
		d := engine.Denied(engine.NewDecisionID(), err)
		if aerr := log.Record(ctx, engine.AuditRecord{DecisionID: d.ID, Time: time.Now().UTC(), Input: in, Result: d}); aerr != nil {
			fmt.Fprintln(p.err, aerr)
		}
		return d, err
	}
	if !p.explain {
		return eng.Decide(ctx, in)
	}
	d, lines, err := eng.Explain(ctx, in)
	for _, l := range lines {
		fmt.Fprintln(p.err, l)
	}
	return d, err
}

func readInput(name string, stdin io.Reader) (engine.Input, error) {
	if name == "-" {
		return engine.DecodeInput(stdin)
	}
	f, err := os.Open(name)
	if err != nil {
		return engine.Input{}, fmt.Errorf("reading input: %w", err)
	}
	defer f.Close()
	in, err := engine.DecodeInput(f)
	if err != nil {
		return engine.Input{}, fmt.Errorf("%s: %w", name, err)
	}
	return in, nil
}

func printDecision(w io.Writer, d engine.Decision, code int) int {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return exitError
	}
	fmt.Fprintf(w, "%s\n", b)
	return code
}
