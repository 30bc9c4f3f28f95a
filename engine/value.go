package engine

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
)

// inputValue converts in to the AST value the query reads as input: a
// plain Go document wrapped as a lazy object, so only the parts a policy
// reads are converted (converting the whole document up front was a third
// of a decision's cost). The document equals in's JSON encoding, which
// TestInputValueMatchesJSON checks.
func inputValue(in Input) (ast.Value, error) {
	doc := map[string]any{
		"version": in.Version,
		"kind":    string(in.Kind),
		"now":     in.Now.Format(time.RFC3339Nano),
	}
	req, err := requestDoc(in.Request)
	if err != nil {
		return nil, err
	}
	doc["request"] = req
	if len(in.Token) > 0 {
		if err := checkJSONShaped(map[string]any(in.Token)); err != nil {
			return nil, fmt.Errorf("input.token: %w", err)
		}
		doc["token"] = map[string]any(in.Token)
	}
	if pr := in.PullRequest; pr != nil {
		doc["pull_request"] = map[string]any{
			"number":             json.Number(strconv.Itoa(pr.Number)),
			"author":             pr.Author,
			"author_association": pr.AuthorAssociation,
			"base_ref":           pr.BaseRef,
			"head_sha":           pr.HeadSHA,
			"draft":              pr.Draft,
			"merged":             pr.Merged,
			"from_fork":          pr.FromFork,
			"labels":             stringsDoc(pr.Labels),
			"files":              stringsDoc(pr.Files),
		}
	}
	if len(in.Approvals) > 0 {
		approvals := make([]any, len(in.Approvals))
		for i, a := range in.Approvals {
			approvals[i] = map[string]any{
				"login":        a.Login,
				"teams":        stringsDoc(a.Teams),
				"commit_id":    a.CommitID,
				"current":      a.Current,
				"state":        a.State,
				"submitted_at": a.SubmittedAt.Format(time.RFC3339Nano),
			}
		}
		doc["approvals"] = approvals
	}
	if r := in.Requester; r != nil {
		doc["requester"] = map[string]any{"login": r.Login, "teams": stringsDoc(r.Teams)}
	}
	return ast.LazyObject(doc), nil
}

func requestDoc(r Request) (map[string]any, error) {
	if err := checkJSONShaped(r.Fields); err != nil {
		return nil, fmt.Errorf("input.request: %w", err)
	}
	doc := make(map[string]any, len(r.Fields)+len(requestCommonKeys))
	for k, v := range r.Fields {
		doc[k] = v
	}
	doc["issuer"], doc["role"] = r.Issuer, r.Role
	if r.TTLSeconds != 0 {
		doc["ttl_seconds"] = json.Number(strconv.FormatInt(r.TTLSeconds, 10))
	}
	if r.Principals != nil {
		doc["principals"] = stringsDoc(r.Principals)
	}
	if r.Reason != "" {
		doc["reason"] = r.Reason
	}
	return doc, nil
}

func stringsDoc(ss []string) any {
	if ss == nil {
		return nil
	}
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// checkJSONShaped accepts what encoding/json decodes into an any, the only
// values the lazy conversion is given.
func checkJSONShaped(v any) error {
	switch x := v.(type) {
	case nil, string, bool, float64, json.Number:
		return nil
	case []any:
		for _, e := range x {
			if err := checkJSONShaped(e); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		for _, e := range x {
			if err := checkJSONShaped(e); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("a value of type %T is not JSON", v)
}
