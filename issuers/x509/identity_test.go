package x509issuer

import (
	"strings"
	"testing"

	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/issuers"
)

func TestNewIdentity(t *testing.T) {
	tests := []struct {
		name string
		req  issuers.IdentityRequest
	}{
		{"pipeline job", issuers.IdentityRequest{LeaseID: "abc", Job: lease.Job{Repository: "acme/shop", RunID: "1", Attempt: "1"}}},
		{"pull request", issuers.IdentityRequest{LeaseID: "abc", PR: 42, Subject: "octocat"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := (*Issuer)(nil).ChooseIdentity(tt.req)
			if err != nil {
				t.Fatalf("ChooseIdentity: %v", err)
			}
			if got.Serial != 0 || got.SessionName != "" || !strings.HasPrefix(got.KeyID, KeyIDPrefix) {
				t.Errorf("identity = %+v, want only a %s key id", got, KeyIDPrefix)
			}
			// Issue takes the serial only with at least 64 bits.
			if _, err := leaseSerial(got.KeyID); err != nil {
				t.Errorf("Issue would refuse the key id: %v", err)
			}
			again, err := NewIdentity(tt.req)
			if err != nil || again.KeyID == got.KeyID {
				t.Errorf("a second identity is %q (%v), want a fresh serial", again.KeyID, err)
			}
		})
	}
}
