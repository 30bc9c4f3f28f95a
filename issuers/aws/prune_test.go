package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/config"
)

// TestPrune: expired statements go, live ones stay, an emptied policy is
// deleted, and the notes report sizes and a policy nearing the limit.
func TestPrune(t *testing.T) {
	f := newFakeIAM(t)
	for _, n := range []string{"build", "big", "none"} {
		f.roles[n] = fakeRole{id: "AROA" + strings.ToUpper(n), boundary: true}
	}
	now := time.Now()
	past, live := hourAfter(now.Add(-2*time.Hour)), hourAfter(now.Add(time.Hour))
	f.policies["deploy"] = policyDoc(ourStatement(past, "AROAX:old"), ourStatement(live, "AROAX:live"), foreignStatement)
	f.policies["build"] = policyDoc(ourStatement(past, "AROAB:old"))
	f.policies["big"] = policyDoc(bigBucket(live, 160))
	i, _ := newTestIssuer(t, f, map[string]config.AWSRole{
		"deploy":       {RoleARN: testRoleARN},
		"deploy-again": {RoleARN: testRoleARN}, // one ARN, pruned once
		"build":        {RoleARN: "arn:aws:iam::123456789012:role/build"},
		"big":          {RoleARN: "arn:aws:iam::123456789012:role/big"},
		"none":         {RoleARN: "arn:aws:iam::123456789012:role/none"},
		"minio":        {Mode: config.AWSModeCertificate},
	})
	notes, err := i.Prune(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	got := parseDoc(t, f.policies["deploy"])
	if fmt.Sprint(got.denied) != fmt.Sprint(map[int64][]string{live: {"AROAX:live"}}) || !slices.Equal(got.foreign, []string{foreignStatement}) {
		t.Errorf("deploy after prune = %s", f.policies["deploy"])
	}
	if _, ok := f.policies["build"]; ok || f.count("DeleteRolePolicy") != 1 {
		t.Errorf("build's emptied policy was not deleted: %v", f.calls)
	}
	if len(f.puts) != 1 {
		t.Errorf("%d writes, want one (deploy; big had nothing expired): %v", len(f.puts), f.calls)
	}
	if f.count("GetRole") != 4 {
		t.Errorf("GetRole called %d times, want once per distinct role", f.count("GetRole"))
	}
	size := len(f.policies["deploy"])
	want := []string{
		fmt.Sprintf("%s: jit-policy-revoked holds 1 session, %d of 10,240 characters (pruned 1 expired statement)", testRoleARN, size),
		"arn:aws:iam::123456789012:role/build: jit-policy-revoked deleted",
		"arn:aws:iam::123456789012:role/big: jit-policy-revoked holds 160 sessions, 8,",
		"arn:aws:iam::123456789012:role/big: jit-policy-revoked is nearing IAM's 10,240-character inline-policy limit",
	}
	for _, w := range want {
		if !slices.ContainsFunc(notes, func(n string) bool { return strings.HasPrefix(n, w) }) {
			t.Errorf("no note starting %q in\n%s", w, strings.Join(notes, "\n"))
		}
	}
	if len(notes) != len(want) {
		t.Errorf("notes:\n%s\nwant %d", strings.Join(notes, "\n"), len(want))
	}

	// Nothing expired the second time: reads only.
	before := len(f.calls)
	if _, err := i.Prune(context.Background(), now); err != nil {
		t.Fatal(err)
	}
	for _, c := range f.calls[before:] {
		if !strings.HasPrefix(c, "GetRolePolicy ") {
			t.Errorf("second prune called %s", c)
		}
	}
}
