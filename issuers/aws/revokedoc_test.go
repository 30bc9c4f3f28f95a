package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
)

// Tests of the revocation policy's size against IAM's inline-policy limit.

// bigBucket is a statement holding n sessions.
func bigBucket(until int64, n int) string {
	ids := make([]string, n)
	for k := range ids {
		ids[k] = fmt.Sprintf("%s:jit-1000000%04d-1-0a1b2c3d", testRoleID, k)
	}
	slices.Sort(ids)
	return ourStatement(until, ids...)
}

// TestRevokeOverLimit: a revoke that would take the policy past IAM's
// 10,240 characters is refused, saying to sweep or lower max_ttl.
func TestRevokeOverLimit(t *testing.T) {
	f := newFakeIAM(t)
	for n := 150; len(f.policies["deploy"]) <= InlinePolicyLimit-60; n++ {
		f.policies["deploy"] = policyDoc(bigBucket(hourAfter(time.Now().Add(2*time.Hour)), n))
	}
	if n := len(f.policies["deploy"]); n > InlinePolicyLimit {
		t.Fatalf("test document is %d characters, want just under the limit", n)
	}
	i, _ := newTestIssuer(t, f, deployRoles())
	err := i.Revoke(context.Background(), lease.Lease{ID: "l", Role: "deploy", ExpiresAt: time.Now().Add(time.Hour), Credential: lease.Credential{AssumedRoleID: testRoleID + ":jit-new-1-abcdef12"}})
	if err == nil || !strings.Contains(err.Error(), "jit-policy sweep") || !strings.Contains(err.Error(), "max_ttl") {
		t.Errorf("Revoke = %v, want the limit error saying to sweep or lower max_ttl", err)
	}
	if len(f.puts) != 0 {
		t.Errorf("wrote a document over the limit")
	}
}

// TestRevokeNearLimit: a write past 80 % of IAM's limit is logged.
func TestRevokeNearLimit(t *testing.T) {
	f := newFakeIAM(t)
	exp := time.Now().Add(time.Hour)
	f.policies["deploy"] = policyDoc(bigBucket(hourAfter(exp), 160))
	i, logs := newTestIssuer(t, f, deployRoles())
	if err := i.Revoke(context.Background(), lease.Lease{ID: "l", Role: "deploy", ExpiresAt: exp, Credential: lease.Credential{AssumedRoleID: testRoleID + ":jit-new-1-abcdef12"}}); err != nil {
		t.Fatal(err)
	}
	if len(f.puts) != 1 || !strings.Contains(logs.String(), "nears IAM's inline-policy size limit") {
		t.Errorf("puts %d, log:\n%s", len(f.puts), logs)
	}
}
