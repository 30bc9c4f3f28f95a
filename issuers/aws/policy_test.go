package aws

import (
	"encoding/json"
	"strings"
	"testing"
)

const testTemplate = `{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Action": ["s3:GetObject", "s3:PutObject"],
    "Resource": "arn:aws:s3:::artifacts/{{repository}}/{{grant.prefix}}/*"
  }]
}`

func TestRenderSessionPolicy(t *testing.T) {
	vars := map[string]string{"repository": "acme/app", "lease_id": "abc"}
	got, err := RenderSessionPolicy(testTemplate, vars, json.RawMessage(`{"prefix":"builds"}`))
	if err != nil {
		t.Fatalf("RenderSessionPolicy: %v", err)
	}
	want := `{"Statement":[{"Action":["s3:GetObject","s3:PutObject"],"Effect":"Allow","Resource":"arn:aws:s3:::artifacts/acme/app/builds/*"}],"Version":"2012-10-17"}`
	if got != want {
		t.Fatalf("rendered\n%s\nwant\n%s", got, want)
	}
	if got, err := RenderSessionPolicy("", vars, nil); err != nil || got != "" {
		t.Fatalf("no template: %q, %v", got, err)
	}
}

func TestRenderSessionPolicyRefuses(t *testing.T) {
	vars := map[string]string{"repository": "acme/app"}
	tests := []struct {
		name, tmpl, grant, err string
	}{
		{"not json", `{"Version":`, ``, "not JSON"},
		{"unknown placeholder", testTemplate, `{"other":"x"}`, "{{grant.prefix}} is unknown"},
		{"wildcard value", testTemplate, `{"prefix":"*"}`, "no wildcards"},
		{"policy variable value", testTemplate, `{"prefix":"${aws:username}"}`, "no wildcards"},
		{"quote value cannot add structure", testTemplate, `{"prefix":"x\"],\"Resource\":\"*"}`, "no wildcards"},
		{"empty value", testTemplate, `{"prefix":""}`, "no wildcards"},
		{"non-string grant value", testTemplate, `{"prefix":1}`, "must be a string"},
		{"grant not an object", testTemplate, `["x"]`, "object of template values"},
		{"grant without template", ``, `{"prefix":"x"}`, "no session_policy template"},
		{"wrong version", `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, ``, "Version"},
		{"no statement", `{"Version":"2012-10-17","Statement":[]}`, ``, "Statement"},
		{"bad effect", `{"Version":"2012-10-17","Statement":{"Effect":"allow","Action":"*","Resource":"*"}}`, ``, "Effect"},
		{"no action", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Resource":"*"}}`, ``, "Action"},
		{"no resource", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*"}}`, ``, "Resource"},
		{"too large", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"` + strings.Repeat("a", 2100) + `"}}`, ``, "at most 2048"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g json.RawMessage
			if tt.grant != "" {
				g = json.RawMessage(tt.grant)
			}
			got, err := RenderSessionPolicy(tt.tmpl, vars, g)
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("RenderSessionPolicy = %q, %v; want error containing %q", got, err, tt.err)
			}
		})
	}
}

// FuzzRenderSessionPolicy checks that whatever the grant holds, a rendered
// policy is valid JSON whose structure is the template's: a value never adds
// keys, statements or wildcards.
func FuzzRenderSessionPolicy(f *testing.F) {
	f.Add(`{"prefix":"builds"}`)
	f.Add(`{"prefix":"a\"b"}`)
	f.Add(`{"prefix":"*"}`)
	f.Add(`{"prefix":{"x":1}}`)
	f.Fuzz(func(t *testing.T, grant string) {
		out, err := RenderSessionPolicy(testTemplate, map[string]string{"repository": "acme/app"}, json.RawMessage(grant))
		if err != nil {
			return
		}
		var doc struct {
			Statement []map[string]any
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("rendered policy is not JSON: %v\n%s", err, out)
		}
		if len(doc.Statement) != 1 || len(doc.Statement[0]) != 3 {
			t.Fatalf("a value changed the policy's structure: %s", out)
		}
		res, _ := doc.Statement[0]["Resource"].(string)
		if strings.Count(res, "*") != 1 || strings.ContainsAny(res, "?$") {
			t.Fatalf("a value added a wildcard or variable: %s", res)
		}
	})
}
