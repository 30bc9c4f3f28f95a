package action

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestInputEnv(t *testing.T) {
	for name, want := range map[string]string{"public-key": "INPUT_PUBLIC-KEY", "role": "INPUT_ROLE", "a b": "INPUT_A_B"} {
		if got := InputEnv(name); got != want {
			t.Errorf("InputEnv(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestReadInputs(t *testing.T) {
	env := map[string]string{
		"INPUT_ROLE": " deploy\n", "INPUT_TTL": "90s", "INPUT_PRINCIPALS": "a, b\nc", "INPUT_GENERATE-KEY": "True",
		"INPUT_SSH-AGENT": "TRUE", "INPUT_EXPORT-ENV": "false", "INPUT_AUDIENCE": "aud", "INPUT_TOKEN-FILE": "tok",
	}
	in, err := ReadInputs(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	want := Inputs{Issuer: "ssh", Role: "deploy", TTL: 90 * time.Second, Principals: []string{"a", "b", "c"}, GenerateKey: true,
		SSHAgent: true, Config: "jit-policy.yaml", Audience: "aud", TokenFile: "tok", MaskAWSAccountID: true}
	if !slices.Equal(in.Principals, want.Principals) {
		t.Errorf("principals %q", in.Principals)
	}
	in.Principals, want.Principals = nil, nil
	if !reflect.DeepEqual(in, want) {
		t.Errorf("got %+v\nwant %+v", in, want)
	}
}

func TestReadInputsAWS(t *testing.T) {
	env := map[string]string{"INPUT_ROLE": "artifacts", "INPUT_ISSUER": "aws", "INPUT_AWS-PROFILE": " ci.artifacts ", "INPUT_MASK-AWS-ACCOUNT-ID": "False"}
	in, err := ReadInputs(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if in.AWSProfile != "ci.artifacts" || in.MaskAWSAccountID {
		t.Errorf("aws-profile %q, mask-aws-account-id %v; want ci.artifacts, false", in.AWSProfile, in.MaskAWSAccountID)
	}
}

func TestReadInputsReportsEveryProblem(t *testing.T) {
	env := map[string]string{"INPUT_TTL": "-1m", "INPUT_GENERATE-KEY": "yes", "INPUT_PRINCIPALS": "a b", "INPUT_ISSUER": "aws", "INPUT_SSH-AGENT": "true"}
	_, err := ReadInputs(func(k string) string { return env[k] })
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"input role is required", "input ttl: must be positive", "input generate-key: use true or false", `input principals: principal "a b" holds white space`, "input ssh-agent: only with issuer ssh"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestParseBool(t *testing.T) {
	for in, want := range map[string]bool{"true": true, "True": true, "TRUE": true, "false": false, "False": false, "FALSE": false, "": false} {
		if got, err := ParseBool(in); got != want || err != nil {
			t.Errorf("ParseBool(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"yes", "1", "tRUE", "on"} {
		if _, err := ParseBool(in); err == nil {
			t.Errorf("ParseBool(%q): no error", in)
		}
	}
}

func TestSplitPrincipals(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{in: "", want: nil},
		{in: "deploy", want: []string{"deploy"}},
		{in: "a,b , c", want: []string{"a", "b", "c"}},
		{in: "a\nb\r\n\n c \n", want: []string{"a", "b", "c"}},
		{in: "a,,a,b,a", want: []string{"a", "b"}},
		{in: " , \n ", want: nil},
		{in: "a b", wantErr: true},
		{in: "a\tb", wantErr: true},
		{in: strings.Repeat("x,", 64<<10), wantErr: true},
		{in: strings.Repeat("p,", 300)[:2*257], want: []string{"p"}},
	}
	for _, tc := range tests {
		got, err := SplitPrincipals(tc.in)
		if (err != nil) != tc.wantErr || !slices.Equal(got, tc.want) {
			t.Errorf("SplitPrincipals(%.40q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
	var many []string
	for i := range 257 {
		many = append(many, strings.Repeat("n", i+1))
	}
	if _, err := SplitPrincipals(strings.Join(many, ",")); err == nil {
		t.Errorf("257 principals: no error")
	}
}

// FuzzSplitPrincipals checks the splitter's promises on any input: no
// empty, repeated or untrimmed name, none holding a separator or white
// space, each found in the input, in the input's order.
func FuzzSplitPrincipals(f *testing.F) {
	f.Add("a,b\nc")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := SplitPrincipals(s)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		pos := 0
		for _, p := range got {
			if p == "" || seen[p] || strings.ContainsAny(p, ",\r\n") || strings.ContainsFunc(p, isSpace) {
				t.Fatalf("SplitPrincipals(%q) gave %q", s, got)
			}
			seen[p] = true
			i := strings.Index(s[pos:], p)
			if i < 0 && !strings.Contains(s, p) {
				t.Fatalf("SplitPrincipals(%q): %q is not in the input", s, p)
			}
			if i >= 0 {
				pos += i + len(p)
			}
		}
		if again, err := SplitPrincipals(strings.Join(got, ",")); err != nil || !slices.Equal(again, got) {
			t.Fatalf("SplitPrincipals(%q) = %q, which splits again to %q, %v", s, got, again, err)
		}
	})
}

func TestReadInputsBroker(t *testing.T) {
	env := map[string]string{"INPUT_ROLE": "deploy", "INPUT_GENERATE-KEY": "true", "INPUT_BROKER": " https://jit.example.com ", "INPUT_AUDIENCE": "jit"}
	in, err := ReadInputs(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if in.Broker != "https://jit.example.com" || in.Audience != "jit" {
		t.Errorf("broker %q, audience %q", in.Broker, in.Audience)
	}
	env["INPUT_BROKER"], env["INPUT_AUDIENCE"] = "http://jit.example.com", ""
	_, err = ReadInputs(func(k string) string { return env[k] })
	for _, want := range []string{"input broker: broker URL: must be https", "input audience is required with broker"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}
