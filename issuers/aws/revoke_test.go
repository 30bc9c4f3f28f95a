package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/internal/lease"
)

// The fake IAM endpoint these tests run against, and their helpers, are
// in revoke_fake_test.go.

func TestRevoke(t *testing.T) {
	now := time.Now()
	exp := now.Add(50 * time.Minute)
	until := hourAfter(exp)
	const session = "jit-123456-1-0a1b2c3d"
	const userID = "AROAEXAMPLEROLEID1234:" + session
	const other = "AROAEXAMPLEROLEID1234:jit-99-2-ffffffff"
	past := hourAfter(now.Add(-3 * time.Hour))
	later := hourAfter(now.Add(5 * time.Hour))

	cases := []struct {
		name          string
		existing      string // the policy before; "" for none
		assumedRoleID string
		noBoundary    bool
		denyGetRole   bool
		wantDenied    map[int64][]string
		wantForeign   []string
		wantPuts      int
		wantLog       string // a substring of the log, when set
		wantNoLog     string // a substring that must not be logged, when set
	}{
		{
			name:          "first revoke creates the policy",
			assumedRoleID: userID,
			wantDenied:    map[int64][]string{until: {userID}},
			wantPuts:      1,
			wantNoLog:     "permissions boundary",
		},
		{
			name:          "merges with a foreign statement and an existing statement",
			existing:      policyDoc(foreignStatement, ourStatement(until, other), ourStatement(later, "AROAEXAMPLEROLEID1234:jit-7-1-77777777")),
			assumedRoleID: userID,
			wantDenied:    map[int64][]string{until: {userID, other}, later: {"AROAEXAMPLEROLEID1234:jit-7-1-77777777"}},
			wantForeign:   []string{foreignStatement},
			wantPuts:      1,
		},
		{
			name:          "already denied: nothing written",
			existing:      policyDoc(ourStatement(until, other, userID)),
			assumedRoleID: userID,
			wantDenied:    map[int64][]string{until: {other, userID}},
			wantPuts:      0,
		},
		{
			name:          "expired statement pruned on write",
			existing:      policyDoc(ourStatement(past, other), foreignStatement),
			assumedRoleID: userID,
			wantDenied:    map[int64][]string{until: {userID}},
			wantForeign:   []string{foreignStatement},
			wantPuts:      1,
		},
		{
			name:       "GetRole fallback without AssumedRoleId (MinIO)",
			wantDenied: map[int64][]string{until: {testRoleID + ":" + session}},
			wantPuts:   1,
		},
		{
			name:          "warns when the role has no permissions boundary",
			assumedRoleID: userID,
			noBoundary:    true,
			wantDenied:    map[int64][]string{until: {userID}},
			wantPuts:      1,
			wantLog:       "role has no permissions boundary",
		},
		{
			name:          "GetRole refused: revoked all the same, and logged",
			assumedRoleID: userID,
			denyGetRole:   true,
			wantDenied:    map[int64][]string{until: {userID}},
			wantPuts:      1,
			wantLog:       "AccessDenied",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeIAM(t)
			f.roles["deploy"] = fakeRole{id: testRoleID, boundary: !c.noBoundary}
			f.denied["GetRole"] = c.denyGetRole
			if c.existing != "" {
				f.policies["deploy"] = c.existing
			}
			i, logs := newTestIssuer(t, f, deployRoles())
			l := lease.Lease{ID: "lease-1", Issuer: "aws", Role: "deploy", ExpiresAt: exp,
				Credential: lease.Credential{SessionName: session, AssumedRoleID: c.assumedRoleID}}
			if err := i.Revoke(context.Background(), l); err != nil {
				t.Fatalf("Revoke: %v\ncalls: %v", err, f.calls)
			}
			if got := f.count("GetRole"); got != 1 {
				t.Errorf("GetRole called %d times, want once (id or boundary check): %v", got, f.calls)
			}
			for _, c := range f.calls {
				if !strings.HasSuffix(c, " deploy") {
					t.Errorf("call %q does not name the role deploy (the last segment of %s)", c, testRoleARN)
				}
			}
			if len(f.puts) != c.wantPuts {
				t.Fatalf("%d PutRolePolicy calls, want %d: %v", len(f.puts), c.wantPuts, f.calls)
			}
			got := parseDoc(t, f.policies["deploy"])
			for u := range c.wantDenied {
				slices.Sort(c.wantDenied[u])
			}
			if fmt.Sprint(got.denied) != fmt.Sprint(c.wantDenied) {
				t.Errorf("denied = %v, want %v\n%s", got.denied, c.wantDenied, f.policies["deploy"])
			}
			if !slices.Equal(got.foreign, c.wantForeign) {
				t.Errorf("foreign statements = %q, want %q unchanged", got.foreign, c.wantForeign)
			}
			if c.wantLog != "" && !strings.Contains(logs.String(), c.wantLog) {
				t.Errorf("log lacks %q:\n%s", c.wantLog, logs)
			}
			if c.wantNoLog != "" && strings.Contains(logs.String(), c.wantNoLog) {
				t.Errorf("log has %q:\n%s", c.wantNoLog, logs)
			}
		})
	}
}

// TestRevokeTwice: the second revoke of the same session reads the policy,
// finds the session denied and writes nothing; GetRole is asked once.
func TestRevokeTwice(t *testing.T) {
	f := newFakeIAM(t)
	i, _ := newTestIssuer(t, f, deployRoles())
	l := lease.Lease{ID: "lease-1", Role: "deploy", ExpiresAt: time.Now().Add(time.Hour), Credential: lease.Credential{SessionName: "jit-1-1-aaaaaaaa"}}
	for range 2 {
		if err := i.Revoke(context.Background(), l); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.puts) != 1 || f.count("GetRole") != 1 {
		t.Errorf("calls = %v, want one GetRole and one PutRolePolicy", f.calls)
	}
}

// TestRevokeConcurrentWriter: another process replaces the policy right
// after the write (IAM has no conditional write); the read-back misses the
// session and the issuer writes again, merging with the other's document.
func TestRevokeConcurrentWriter(t *testing.T) {
	f := newFakeIAM(t)
	theirs := policyDoc(ourStatement(hourAfter(time.Now().Add(2*time.Hour)), "AROAEXAMPLEROLEID1234:jit-other-1-bbbbbbbb"))
	f.afterPut = func(n int, doc string) string {
		if n == 1 {
			return theirs
		}
		return doc
	}
	i, _ := newTestIssuer(t, f, deployRoles())
	l := lease.Lease{ID: "lease-1", Role: "deploy", ExpiresAt: time.Now().Add(time.Hour), Credential: lease.Credential{AssumedRoleID: testRoleID + ":jit-1-1-aaaaaaaa"}}
	if err := i.Revoke(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	got := parseDoc(t, f.policies["deploy"])
	if len(f.puts) != 2 || len(got.denied) != 2 {
		t.Errorf("puts = %d, denied = %v; want a second write holding both sessions", len(f.puts), got.denied)
	}
}

// TestRevokeRefused: what cannot be revoked says why and what to do.
func TestRevokeRefused(t *testing.T) {
	exp := time.Now().Add(time.Hour)
	cases := []struct {
		name    string
		lease   lease.Lease
		denied  string // an IAM action refused
		wantErr string
	}{
		{"unconfigured role", lease.Lease{ID: "l", Role: "nope", ExpiresAt: exp, Credential: lease.Credential{SessionName: "jit-1"}}, "", `aws role "nope" of lease l is not configured`},
		{"no session name", lease.Lease{ID: "l", Role: "deploy", ExpiresAt: exp}, "", "nothing names the session"},
		{"PutRolePolicy refused", lease.Lease{ID: "l", Role: "deploy", ExpiresAt: exp, Credential: lease.Credential{AssumedRoleID: testRoleID + ":jit-1"}}, "PutRolePolicy", "the issuer needs iam:GetRole, iam:GetRolePolicy, iam:PutRolePolicy and iam:DeleteRolePolicy on " + testRoleARN},
		{"GetRole refused without AssumedRoleId", lease.Lease{ID: "l", Role: "deploy", ExpiresAt: exp, Credential: lease.Credential{SessionName: "jit-1"}}, "GetRole", "iam:GetRole " + testRoleARN},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeIAM(t)
			f.denied[c.denied] = true
			i, _ := newTestIssuer(t, f, deployRoles())
			err := i.Revoke(context.Background(), c.lease)
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("Revoke = %v, want an error with %q", err, c.wantErr)
			}
			if len(f.puts) != 0 {
				t.Errorf("wrote %v", f.puts)
			}
		})
	}
}

// TestRevokeNotAtBackend: a certificate-mode role without a role ARN
// (MinIO) and an expired session need no IAM call.
func TestRevokeNotAtBackend(t *testing.T) {
	f := newFakeIAM(t)
	i, logs := newTestIssuer(t, f, map[string]config.AWSRole{
		"minio":  {Mode: config.AWSModeCertificate, X509Role: "ci"},
		"deploy": {RoleARN: testRoleARN},
	})
	if err := i.Revoke(context.Background(), lease.Lease{ID: "l1", Role: "minio", ExpiresAt: time.Now().Add(time.Hour), Credential: lease.Credential{SessionName: "jit-1"}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "ends only at its expiry") {
		t.Errorf("no warning that the session lives on:\n%s", logs)
	}
	if err := i.Revoke(context.Background(), lease.Lease{ID: "l2", Role: "deploy", ExpiresAt: time.Now().Add(-time.Hour), Credential: lease.Credential{SessionName: "jit-2"}}); err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 0 {
		t.Errorf("IAM calls %v, want none", f.calls)
	}
}

func TestRoleName(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:iam::123456789012:role/deploy":          "deploy",
		"arn:aws:iam::123456789012:role/ci/prod/deploy":  "deploy",
		"arn:aws-cn:iam::123456789012:role/service/x-y":  "x-y",
		"arn:aws:iam::123456789012:user/deploy":          "",
		"deploy":                                         "",
		"arn:aws:iam::123456789012:role/trailing-slash/": "",
	} {
		got, err := roleName(arn)
		if got != want || (err != nil) != (want == "") {
			t.Errorf("roleName(%q) = %q, %v; want %q", arn, got, err, want)
		}
	}
}

// TestRevokeOverwrittenEveryTime: when every write is replaced by another
// process, Revoke gives up after three writes and says so, so that the
// lease stays unrevoked for the next revoke or sweep.
func TestRevokeOverwrittenEveryTime(t *testing.T) {
	f := newFakeIAM(t)
	f.afterPut = func(int, string) string { return policyDoc(foreignStatement) }
	i, _ := newTestIssuer(t, f, deployRoles())
	err := i.Revoke(context.Background(), lease.Lease{ID: "l", Role: "deploy", ExpiresAt: time.Now().Add(time.Hour), Credential: lease.Credential{AssumedRoleID: testRoleID + ":jit-1-1-aaaaaaaa"}})
	if err == nil || !strings.Contains(err.Error(), "after 3 writes") || len(f.puts) != 3 {
		t.Errorf("Revoke = %v after %d writes, want an error after 3", err, len(f.puts))
	}
}
