package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/jit-policy/jit-policy/internal/revocation"
)

func TestRevokeReport(t *testing.T) {
	tests := []struct {
		name    string
		rep     revocation.Report
		code    int
		wantOut string
		wantErr string
	}{
		{name: "revoked", rep: revocation.Report{Revoked: []string{"a"}}, code: exitOK, wantOut: "revoked a\n"},
		{name: "already revoked", rep: revocation.Report{Skipped: []string{"a"}}, code: exitOK, wantOut: "skipped a (already revoked)\n"},
		// Another process holds the claim: said, but not this run's failure.
		{name: "being revoked elsewhere", rep: revocation.Report{Pending: []string{"a"}}, code: exitOK,
			wantOut: "pending a: being revoked by another process (the sweep finishes it if that one died)\n"},
		{name: "failed", rep: revocation.Report{Pending: []string{"a"}, Failed: map[string]error{"b": errors.New("backend down")}}, code: exitLeftUnrevoked,
			wantOut: "pending a: being revoked", wantErr: "left unrevoked:\nlease b: backend down\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := report(&out, &errOut, tc.rep)
			if code != tc.code || !strings.Contains(out.String(), tc.wantOut) || !strings.Contains(errOut.String(), tc.wantErr) {
				t.Fatalf("exit %d, want %d\nstdout %s\nstderr %s\nwant %q and %q", code, tc.code, out.String(), errOut.String(), tc.wantOut, tc.wantErr)
			}
		})
	}
}
