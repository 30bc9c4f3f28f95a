package engine

import (
	"context"
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// Explain decides like [Engine.Decide] and also says which of the policy's
// own rules matched and, for each rule that did not, the first expression
// that failed: OPA's trace condensed to lines of the loaded policy files
// (the shipped library and jit-policy's own query are left out).
func (e *Engine) Explain(ctx context.Context, in Input) (Decision, []string, error) {
	tracer := topdown.NewBufferTracer()
	d, err := e.decide(ctx, in, rego.EvalQueryTracer(tracer))
	return d, condenseTrace(*tracer), err
}

// ruleVisit is one evaluation of one rule body.
type ruleVisit struct {
	rule    *ast.Rule
	matched bool
	failed  *ast.Expr
}

func condenseTrace(events []*topdown.Event) []string {
	var order []uint64
	visits := map[uint64]*ruleVisit{}
	for _, ev := range events {
		if !ownLocation(ev.Location) {
			continue
		}
		switch node := ev.Node.(type) {
		case *ast.Rule:
			switch ev.Op {
			case topdown.EnterOp:
				if _, seen := visits[ev.QueryID]; !seen {
					order = append(order, ev.QueryID)
				}
				visits[ev.QueryID] = &ruleVisit{rule: node}
			case topdown.ExitOp:
				if v, ok := visits[ev.QueryID]; ok {
					v.matched = true
				}
			}
		case *ast.Expr:
			if v, ok := visits[ev.QueryID]; ok && ev.Op == topdown.FailOp && v.failed == nil {
				v.failed = node
			}
		}
	}
	lines := make([]string, 0, len(order))
	seen := map[string]bool{}
	for _, id := range order {
		v := visits[id]
		head := fmt.Sprintf("%s: %s", location(v.rule.Location), v.rule.Head.Ref())
		switch {
		case v.matched:
			lines = append(lines, head+": matched")
		case v.failed != nil:
			lines = append(lines, fmt.Sprintf("%s: not matched: %s: %s", head, location(v.failed.Location), sourceText(v.failed)))
		default:
			lines = append(lines, head+": not matched")
		}
		if last := lines[len(lines)-1]; seen[last] {
			lines = lines[:len(lines)-1] // a helper called again with the same outcome
		} else {
			seen[last] = true
		}
	}
	return lines
}

// ownLocation reports whether loc is in a policy file rather than in the
// embedded library or jit-policy's decision module.
func ownLocation(loc *ast.Location) bool {
	return loc != nil && loc.File != "" && !IsEmbedded(loc.File)
}

func location(loc *ast.Location) string {
	if loc == nil {
		return "?"
	}
	return fmt.Sprintf("%s:%d", loc.File, loc.Row)
}

// sourceText is the expression as the policy author wrote it, not as the
// compiler rewrote it.
func sourceText(expr *ast.Expr) string {
	if expr.Location != nil && len(expr.Location.Text) > 0 {
		return string(expr.Location.Text)
	}
	return expr.String()
}
