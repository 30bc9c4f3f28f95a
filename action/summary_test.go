package action

import (
	"strings"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
)

func TestEnvName(t *testing.T) {
	tests := []struct{ issuer, output, want string }{
		{"ssh", "lease-id", "JIT_LEASE_ID"},
		{"ssh", "expires-at", "JIT_EXPIRES_AT"},
		{"ssh", "certificate", "JIT_SSH_CERTIFICATE"},
		{"ssh", "certificate-path", "JIT_SSH_CERTIFICATE_PATH"},
		{"ssh", "private-key", "JIT_SSH_PRIVATE_KEY"},
		{"aws", "aws-session-token", "JIT_AWS_SESSION_TOKEN"},
		{"postgres", "database-url", "JIT_POSTGRES_DATABASE_URL"},
	}
	for _, tc := range tests {
		if got := EnvName(tc.issuer, tc.output); got != tc.want {
			t.Errorf("EnvName(%q, %q) = %q, want %q", tc.issuer, tc.output, got, tc.want)
		}
	}
}

func TestCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "—"},
		{"org/app", "org/app"},
		{"a|b", `a\|b`},
		{"<img src=x>", "&lt;img src=x&gt;"},
		{"x\r\ny", "x  y"},
		{"$x$\tz", `\$x\$ z`},
		{"main\u202eniam", "main\ufffdniam"},
		{"`code` *b* _i_ [l](u) #1 !x ~s~ a\\b &amp;", "\\`code\\` \\*b\\* \\_i\\_ \\[l\\](u) \\#1 \\!x \\~s\\~ a\\\\b &amp;amp;"},
	}
	for _, tc := range tests {
		if got := cell(tc.in); got != tc.want {
			t.Errorf("cell(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSummaries(t *testing.T) {
	exp := time.Date(2026, 11, 28, 6, 15, 0, 0, time.UTC)
	l := lease.Lease{ID: "abc", Issuer: "ssh", Role: "deploy", Subject: "repo:org/app:ref:refs/heads/main",
		Job: lease.Job{Repository: "org/app", RunID: "9", Attempt: "2"}}
	got := grantedSummary(l, []string{"deploy", "a|b"}, exp)
	want := "### jit-policy: access granted\n\n" +
		"| Lease | Issuer | Role | Principals | Subject | Repository | Run | Expires |\n" +
		"| --- | --- | --- | --- | --- | --- | --- | --- |\n" +
		"| abc | ssh | deploy | deploy, a\\|b | repo:org/app:ref:refs/heads/main | org/app | 9 attempt 2 | 2026-11-28T06:15:00Z |\n\n"
	if got != want {
		t.Errorf("granted:\n%s\nwant:\n%s", got, want)
	}
	got = deniedSummary("ssh", "deploy", "d1", []string{"ref | x", "y"})
	if !strings.Contains(got, "- ref \\| x\n- y\n") || !strings.Contains(got, "ssh/deploy, decision d1") {
		t.Errorf("denied:\n%s", got)
	}
	got = revokedSummary([]revokedRow{{"abc", "ssh", "deploy", "revoked"}, {"def", "", "", "not revoked: lease not found"}})
	if !strings.Contains(got, "| abc | ssh | deploy | revoked |\n| def | — | — | not revoked: lease not found |\n") {
		t.Errorf("revoked:\n%s", got)
	}
}
