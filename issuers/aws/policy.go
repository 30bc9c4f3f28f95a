package aws

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// maxPackedPolicy is STS's limit on the plain text of an inline session
// policy (whitespace removed).
const maxPackedPolicy = 2048

var (
	placeholderRe = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_.-]*)\s*\}\}`)
	// valueRe is what a substituted value may hold: no wildcards (* ?), no
	// IAM policy variables ($), no quotes or spaces; so a value can name a
	// resource but never widen a pattern.
	valueRe = regexp.MustCompile(`^[A-Za-z0-9_.:/=+@,-]{1,256}$`)
)

// RenderSessionPolicy fills the placeholders of the session policy template
// tmpl (a JSON policy document) and returns it compact and validated.
//
// Placeholders appear inside JSON string values only (keys are left
// alone): {{repository}}, {{ref}}, {{subject}}, {{run_id}}, {{lease_id}},
// {{environment}} and {{workflow}} come from vars (the verified job facts);
// {{grant.NAME}} comes from the policy's grant.session_policy object, whose
// values must be strings. Each value must be 1 to 256 characters of
// letters, digits and _.:/=+@,- — no wildcard, policy variable or quote —
// and an unknown or empty placeholder is an error, never "any". The
// document is decoded before substitution and encoded after, so a value is
// always one JSON string.
//
// The result must be an IAM policy: Version 2012-10-17, a non-empty
// Statement whose entries have Effect Allow or Deny, an Action or
// NotAction, and a Resource or NotResource; at most 2048 characters.
func RenderSessionPolicy(tmpl string, vars map[string]string, grant json.RawMessage) (string, error) {
	if strings.TrimSpace(tmpl) == "" {
		if len(grant) > 0 && string(grant) != "null" {
			return "", fmt.Errorf("the policy's grant sets session_policy but the role has no session_policy template to fill")
		}
		return "", nil
	}
	values := maps.Clone(vars)
	if values == nil {
		values = map[string]string{}
	}
	if len(grant) > 0 && string(grant) != "null" {
		var g map[string]any
		if err := json.Unmarshal(grant, &g); err != nil || g == nil {
			return "", fmt.Errorf("grant.session_policy must be an object of template values (name: string)")
		}
		for _, k := range slices.Sorted(maps.Keys(g)) {
			s, ok := g[k].(string)
			if !ok {
				return "", fmt.Errorf("grant.session_policy.%s must be a string", k)
			}
			values["grant."+k] = s
		}
	}
	var doc any
	dec := json.NewDecoder(strings.NewReader(tmpl))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return "", fmt.Errorf("session_policy template is not JSON: %w", err)
	}
	filled, err := fill(doc, values)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(filled); err != nil {
		return "", fmt.Errorf("encoding the session policy: %w", err)
	}
	out := strings.TrimSpace(buf.String())
	if err := validatePolicy(filled); err != nil {
		return "", fmt.Errorf("session policy: %w", err)
	}
	if len(out) > maxPackedPolicy {
		return "", fmt.Errorf("session policy is %d characters; STS takes at most %d", len(out), maxPackedPolicy)
	}
	return out, nil
}

// fill substitutes placeholders in every string value of v.
func fill(v any, values map[string]string) (any, error) {
	switch t := v.(type) {
	case string:
		var ferr error
		s := placeholderRe.ReplaceAllStringFunc(t, func(m string) string {
			name := placeholderRe.FindStringSubmatch(m)[1]
			val, ok := values[name]
			switch {
			case !ok:
				ferr = fmt.Errorf("session_policy placeholder {{%s}} is unknown: use one of %s", name, strings.Join(slices.Sorted(maps.Keys(values)), ", "))
			case !valueRe.MatchString(val):
				ferr = fmt.Errorf("session_policy placeholder {{%s}}: value %q must be 1 to 256 letters, digits or _.:/=+@,- (no wildcards or policy variables)", name, val)
			}
			return val
		})
		return s, ferr
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			f, err := fill(e, values)
			if err != nil {
				return nil, err
			}
			out[i] = f
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			f, err := fill(e, values)
			if err != nil {
				return nil, err
			}
			out[k] = f
		}
		return out, nil
	default:
		return v, nil
	}
}

// validatePolicy checks the shape of an IAM policy document.
func validatePolicy(doc any) error {
	m, ok := doc.(map[string]any)
	if !ok {
		return fmt.Errorf("must be a JSON object")
	}
	if v, _ := m["Version"].(string); v != "2012-10-17" {
		return fmt.Errorf(`Version must be "2012-10-17"`)
	}
	var stmts []any
	switch s := m["Statement"].(type) {
	case []any:
		stmts = s
	case map[string]any:
		stmts = []any{s}
	}
	if len(stmts) == 0 {
		return fmt.Errorf("Statement must be a statement or a non-empty list of them")
	}
	for i, s := range stmts {
		st, ok := s.(map[string]any)
		if !ok {
			return fmt.Errorf("Statement[%d] must be an object", i)
		}
		if e, _ := st["Effect"].(string); e != "Allow" && e != "Deny" {
			return fmt.Errorf(`Statement[%d].Effect must be "Allow" or "Deny"`, i)
		}
		if (st["Action"] == nil) == (st["NotAction"] == nil) {
			return fmt.Errorf("Statement[%d] needs exactly one of Action and NotAction", i)
		}
		if (st["Resource"] == nil) == (st["NotResource"] == nil) {
			return fmt.Errorf("Statement[%d] needs exactly one of Resource and NotResource", i)
		}
	}
	return nil
}
