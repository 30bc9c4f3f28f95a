package engine

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Decision is the outcome of evaluating one request. Allowed is true only
// when data.jit.allow is true, data.jit.deny is empty and nothing failed.
type Decision struct {
	ID      string   `json:"decision_id"`
	Allowed bool     `json:"allowed"`
	Deny    []string `json:"deny"`
	Grant   *Grant   `json:"grant,omitempty"`
	// Error is set when the decision failed closed (compile, runtime,
	// timeout, schema, audit); it is also the first deny reason.
	Error string `json:"error,omitempty"`
}

// Grant is what the policy lets be issued: caps and scope the issuer
// clamps the request to (DESIGN.md, "Decision"). A nil slice or map means
// the policy does not constrain that part; an empty one allows nothing.
// Unknown keys are errors, so a misspelt cap never widens a grant.
type Grant struct {
	MaxTTLSeconds   *int64            `json:"max_ttl_seconds,omitempty"`
	Principals      []string          `json:"principals,omitempty"`
	SessionPolicy   json.RawMessage   `json:"session_policy,omitempty"`
	Extensions      map[string]string `json:"extensions,omitempty"`
	CriticalOptions map[string]string `json:"critical_options,omitempty"`
}

// ReasonNotAllowed is the deny reason when no rule set data.jit.allow to true
// and no deny reason was given.
const ReasonNotAllowed = "no policy rule allowed the request (data.jit.allow is not true)"

// Denied returns a decision that denies with err as its reason: the shape of
// every fail-closed outcome.
func Denied(id string, err error) Decision {
	return Decision{ID: id, Deny: []string{err.Error()}, Error: err.Error()}
}

// NewDecisionID returns a random 128-bit decision id in hex.
func NewDecisionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return hex.EncodeToString(b[:])
}

// decisionFromResult turns the three rule values into a decision, checking
// their types: allow boolean, deny a set of strings, grant an object of
// known keys or absent.
func decisionFromResult(id string, allow, deny, grant any) (Decision, error) {
	d := Decision{ID: id, Deny: []string{}}
	allowed, ok := allow.(bool)
	if !ok {
		return Decision{}, fmt.Errorf("data.jit.allow must be a boolean, got %s", typeName(allow))
	}
	reasons, ok := deny.([]any)
	if !ok {
		return Decision{}, fmt.Errorf("data.jit.deny must be a set of strings, got %s", typeName(deny))
	}
	for _, r := range reasons {
		s, ok := r.(string)
		if !ok {
			return Decision{}, fmt.Errorf("data.jit.deny must be a set of strings, it holds a %s", typeName(r))
		}
		d.Deny = append(d.Deny, s)
	}
	slices.Sort(d.Deny)
	if grant != nil {
		g, err := decodeGrant(grant)
		if err != nil {
			return Decision{}, err
		}
		d.Grant = g
	}
	if !allowed && len(d.Deny) == 0 {
		d.Deny = []string{ReasonNotAllowed}
	}
	d.Allowed = allowed && len(d.Deny) == 0
	return d, nil
}

func decodeGrant(v any) (*Grant, error) {
	if _, ok := v.(map[string]any); !ok {
		return nil, fmt.Errorf("data.jit.grant must be an object, got %s", typeName(v))
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("data.jit.grant: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var g Grant
	if err := dec.Decode(&g); err != nil {
		return nil, fmt.Errorf("data.jit.grant: %w", err)
	}
	if g.MaxTTLSeconds != nil && *g.MaxTTLSeconds <= 0 {
		return nil, errors.New("data.jit.grant.max_ttl_seconds must be positive")
	}
	return &g, nil
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number, float64, int, int64:
		return "number"
	case []any:
		return "array or set"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
