package aws

import (
	"strings"
	"testing"

	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/issuers"
	x509issuer "github.com/jit-policy/jit-policy/issuers/x509"
)

func TestNewIdentity(t *testing.T) {
	id := "0123456789abcdef0123456789abcdef"
	tests := []struct {
		name            string
		req             issuers.IdentityRequest
		wantSessionName string
	}{
		{"pipeline job", issuers.IdentityRequest{LeaseID: id, Job: lease.Job{RunID: "9876543210", Attempt: "2"}}, "jit-9876543210-2-0123456789ab"},
		{"pull request", issuers.IdentityRequest{LeaseID: id, PR: 42, Subject: "octocat"}, "jit-pr42-0123456789ab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := (*Issuer)(nil).ChooseIdentity(tt.req)
			if err != nil {
				t.Fatalf("ChooseIdentity: %v", err)
			}
			if got.SessionName != tt.wantSessionName {
				t.Errorf("SessionName = %q, want %q", got.SessionName, tt.wantSessionName)
			}
			if !strings.HasPrefix(got.KeyID, x509issuer.KeyIDPrefix) || got.Serial != 0 {
				t.Errorf("identity = %+v, want an %s key id and no serial", got, x509issuer.KeyIDPrefix)
			}
			if _, err := x509issuer.SerialFromKeyID(got.KeyID); err != nil {
				t.Errorf("key id: %v", err)
			}
		})
	}
}
