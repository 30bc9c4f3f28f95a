package engine

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
)

// inputValue converts in to the AST value the query reads as input. It
// builds the value directly rather than through a JSON round trip (the
// conversion is a third of a decision's cost otherwise); the result is the
// same document as in's JSON encoding, which TestInputValueMatchesJSON
// checks.
func inputValue(in Input) (ast.Value, error) {
	obj := ast.NewObject(
		item("version", ast.String(in.Version)),
		item("kind", ast.String(in.Kind)),
		item("now", ast.String(in.Now.Format(time.RFC3339Nano))),
	)
	req, err := requestValue(in.Request)
	if err != nil {
		return nil, err
	}
	obj.Insert(ast.StringTerm("request"), ast.NewTerm(req))
	if len(in.Token) > 0 {
		tok, err := anyValue(map[string]any(in.Token))
		if err != nil {
			return nil, fmt.Errorf("converting input.token: %w", err)
		}
		obj.Insert(ast.StringTerm("token"), ast.NewTerm(tok))
	}
	if pr := in.PullRequest; pr != nil {
		obj.Insert(ast.StringTerm("pull_request"), ast.NewTerm(ast.NewObject(
			item("number", ast.Number(json.Number(fmt.Sprint(pr.Number)))),
			item("author", ast.String(pr.Author)),
			item("author_association", ast.String(pr.AuthorAssociation)),
			item("base_ref", ast.String(pr.BaseRef)),
			item("head_sha", ast.String(pr.HeadSHA)),
			item("draft", ast.Boolean(pr.Draft)),
			item("merged", ast.Boolean(pr.Merged)),
			item("from_fork", ast.Boolean(pr.FromFork)),
			item("labels", stringsValue(pr.Labels)),
			item("files", stringsValue(pr.Files)),
		)))
	}
	if len(in.Approvals) > 0 {
		terms := make([]*ast.Term, len(in.Approvals))
		for i, a := range in.Approvals {
			terms[i] = ast.NewTerm(ast.NewObject(
				item("login", ast.String(a.Login)),
				item("teams", stringsValue(a.Teams)),
				item("commit_id", ast.String(a.CommitID)),
				item("current", ast.Boolean(a.Current)),
				item("state", ast.String(a.State)),
				item("submitted_at", ast.String(a.SubmittedAt.Format(time.RFC3339Nano))),
			))
		}
		obj.Insert(ast.StringTerm("approvals"), ast.ArrayTerm(terms...))
	}
	if r := in.Requester; r != nil {
		obj.Insert(ast.StringTerm("requester"), ast.NewTerm(ast.NewObject(
			item("login", ast.String(r.Login)),
			item("teams", stringsValue(r.Teams)),
		)))
	}
	return obj, nil
}

func requestValue(r Request) (ast.Value, error) {
	v, err := anyValue(r.Fields)
	if err != nil {
		return nil, fmt.Errorf("converting input.request: %w", err)
	}
	obj, ok := v.(ast.Object)
	if !ok {
		obj = ast.NewObject()
	}
	obj.Insert(ast.StringTerm("issuer"), ast.StringTerm(r.Issuer))
	obj.Insert(ast.StringTerm("role"), ast.StringTerm(r.Role))
	if r.TTLSeconds != 0 {
		obj.Insert(ast.StringTerm("ttl_seconds"), ast.IntNumberTerm(int(r.TTLSeconds)))
	}
	if r.Principals != nil {
		obj.Insert(ast.StringTerm("principals"), ast.NewTerm(stringsValue(r.Principals)))
	}
	if r.Reason != "" {
		obj.Insert(ast.StringTerm("reason"), ast.StringTerm(r.Reason))
	}
	return obj, nil
}

func item(key string, v ast.Value) [2]*ast.Term {
	return ast.Item(ast.StringTerm(key), ast.NewTerm(v))
}

func stringsValue(ss []string) ast.Value {
	if ss == nil {
		return ast.Null{}
	}
	terms := make([]*ast.Term, len(ss))
	for i, s := range ss {
		terms[i] = ast.StringTerm(s)
	}
	return ast.NewArray(terms...)
}

// anyValue converts JSON-shaped Go values (what encoding/json decodes into
// an any); other types go through ast.InterfaceToValue.
func anyValue(v any) (ast.Value, error) {
	switch x := v.(type) {
	case nil:
		return ast.Null{}, nil
	case string:
		return ast.String(x), nil
	case bool:
		return ast.Boolean(x), nil
	case float64:
		return ast.Number(json.Number(fmt.Sprint(x))), nil
	case json.Number:
		return ast.Number(x), nil
	case []any:
		terms := make([]*ast.Term, len(x))
		for i, e := range x {
			ev, err := anyValue(e)
			if err != nil {
				return nil, err
			}
			terms[i] = ast.NewTerm(ev)
		}
		return ast.NewArray(terms...), nil
	case map[string]any:
		obj := ast.NewObject()
		for k, e := range x {
			ev, err := anyValue(e)
			if err != nil {
				return nil, err
			}
			obj.Insert(ast.StringTerm(k), ast.NewTerm(ev))
		}
		return obj, nil
	}
	return ast.InterfaceToValue(v)
}
