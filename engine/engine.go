package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// DefaultTimeout bounds one evaluation when Options.Timeout is zero.
const DefaultTimeout = 2 * time.Second

// decisionPackage holds the rules the prepared query reads. It turns an
// undefined allow/deny/grant into false/empty/null so one query answers all
// three; policies may not declare it.
const decisionPackage = "jit_policy_decision"

const decisionModule = `package ` + decisionPackage + `

allow := x if { x := data.jit.allow } else := false

deny := x if { x := data.jit.deny } else := set()

grant := x if { x := data.jit.grant } else := null
`

// decisionQuery binds the three rules to variables: cheaper than reading
// the package as one object, which walks the package tree.
const decisionQuery = "allow = data." + decisionPackage + ".allow; deny = data." + decisionPackage + ".deny; grant = data." + decisionPackage + ".grant"

// AuditSink receives one record per decision. Record is called after the
// decision is made and before it is returned; if it fails, the decision
// becomes a denial (nothing is issued that was not recorded). It must be
// safe for concurrent use.
type AuditSink interface {
	Record(ctx context.Context, rec AuditRecord) error
}

// AuditRecord is what the audit log keeps of one decision. Input holds
// verified claims and request fields, never a raw token.
type AuditRecord struct {
	DecisionID string        `json:"decision_id"`
	Time       time.Time     `json:"time"`
	Input      Input         `json:"input"`
	Result     Decision      `json:"result"`
	Duration   time.Duration `json:"duration_ns"`
}

// Options configure an Engine.
type Options struct {
	// Timeout bounds one evaluation; zero means DefaultTimeout.
	Timeout time.Duration
	// Audit receives every decision; nil records nothing.
	Audit AuditSink
}

// Engine evaluates requests against one compiled policy tree. It is safe
// for concurrent use.
type Engine struct {
	query   rego.PreparedEvalQuery
	modules map[string]*ast.Module
	opts    Options
}

// New compiles files strictly against [Capabilities] and prepares the
// decision query. A compile error names file:row of each problem.
func New(ctx context.Context, files *Files, opts Options) (*Engine, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	modules := make(map[string]*ast.Module, len(files.Modules)+1)
	for name, m := range files.Modules {
		if m.Package.Path.String() == "data."+decisionPackage {
			return nil, fmt.Errorf("compiling policy: %s: package %s is reserved for jit-policy: rename it", name, decisionPackage)
		}
		modules[name] = m
	}
	dm, err := ast.ParseModuleWithOpts(embeddedPrefix+"decision.rego", decisionModule, ast.ParserOptions{RegoVersion: ast.RegoV1})
	if err != nil {
		return nil, fmt.Errorf("parsing the decision module: %w", err)
	}
	modules[embeddedPrefix+"decision.rego"] = dm

	compiler := ast.NewCompiler().
		WithStrict(true).
		WithCapabilities(Capabilities()).
		WithEnablePrintStatements(false)
	if compiler.Compile(modules); compiler.Failed() {
		return nil, fmt.Errorf("compiling policy: %w", compiler.Errors)
	}
	pq, err := rego.New(
		rego.Compiler(compiler),
		rego.Store(inmem.NewFromObject(files.Data)),
		rego.Query(decisionQuery),
		rego.StrictBuiltinErrors(true),
	).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("preparing the decision query: %w", err)
	}
	return &Engine{query: pq, modules: files.Modules, opts: opts}, nil
}

// Load loads policy paths with [LoadFiles] (tests excluded) and returns a
// ready engine.
func Load(ctx context.Context, paths []string, opts Options) (*Engine, error) {
	files, err := LoadFiles(paths, false)
	if err != nil {
		return nil, err
	}
	return New(ctx, files, opts)
}

// Decide evaluates in. The decision always carries an id; on any error it
// denies, with the error as its reason, and the error is returned too.
func (e *Engine) Decide(ctx context.Context, in Input) (Decision, error) {
	return e.decide(ctx, in)
}

func (e *Engine) decide(ctx context.Context, in Input, evalOpts ...rego.EvalOption) (Decision, error) {
	start := time.Now()
	id := NewDecisionID()
	d, err := e.evaluate(ctx, id, in, evalOpts)
	if err != nil {
		d = Denied(id, err)
	}
	if e.opts.Audit != nil {
		rec := AuditRecord{DecisionID: id, Time: start.UTC(), Input: in, Result: d, Duration: time.Since(start)}
		if aerr := e.opts.Audit.Record(ctx, rec); aerr != nil {
			aerr = fmt.Errorf("writing the audit record (the decision stands denied): %w", aerr)
			return Denied(id, aerr), aerr
		}
	}
	return d, err
}

func (e *Engine) evaluate(ctx context.Context, id string, in Input, evalOpts []rego.EvalOption) (Decision, error) {
	if err := in.Validate(); err != nil {
		return Decision{}, err
	}
	value, err := inputValue(in)
	if err != nil {
		return Decision{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, e.opts.Timeout)
	defer cancel()
	// No metrics: by default every Eval allocates a fresh metrics set and
	// times itself into it, and nothing reads it.
	opts := append([]rego.EvalOption{rego.EvalParsedInput(value), rego.EvalTime(in.Now), rego.EvalMetrics(metrics.NoOp())}, evalOpts...)
	rs, err := e.query.Eval(ctx, opts...)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) || topdown.IsCancel(err) {
			return Decision{}, fmt.Errorf("policy evaluation did not finish within %s: %w", e.opts.Timeout, err)
		}
		return Decision{}, fmt.Errorf("policy evaluation failed: %w", err)
	}
	if len(rs) != 1 {
		return Decision{}, errors.New("policy evaluation returned no decision")
	}
	b := rs[0].Bindings
	return decisionFromResult(id, b["allow"], b["deny"], b["grant"])
}
