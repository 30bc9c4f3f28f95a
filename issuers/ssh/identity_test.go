package ssh

import (
	"testing"

	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/issuers"
)

func TestNewIdentity(t *testing.T) {
	job := lease.Job{Provider: "github", Repository: "acme/shop", RunID: "12074658213", Attempt: "2"}
	tests := []struct {
		name      string
		req       issuers.IdentityRequest
		wantKeyID string
	}{
		{"pipeline job", issuers.IdentityRequest{LeaseID: "abc", Job: job, Subject: "repo:acme/shop:ref:refs/heads/main"},
			"jit/abc/acme/shop/12074658213/2"},
		{"gitlab job, no attempt", issuers.IdentityRequest{LeaseID: "abc", Job: lease.Job{Provider: "gitlab", Repository: "g/p", RunID: "7"}},
			"jit/abc/g/p/7/"},
		{"pull request", issuers.IdentityRequest{LeaseID: "abc", Job: lease.Job{Repository: "acme/shop"}, PR: 42, Subject: "octocat"},
			"jit/abc/pr/42/octocat"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := (*Issuer)(nil).ChooseIdentity(tt.req)
			if err != nil {
				t.Fatalf("ChooseIdentity: %v", err)
			}
			if got.KeyID != tt.wantKeyID {
				t.Errorf("KeyID = %q, want %q", got.KeyID, tt.wantKeyID)
			}
			if got.Serial == 0 || got.Serial>>63 != 0 {
				t.Errorf("Serial = %#x, want non-zero and 63 bits", got.Serial)
			}
			if err := checkKeyID(got.KeyID); err != nil {
				t.Errorf("Issue would refuse the key id: %v", err)
			}
			again, err := NewIdentity(tt.req)
			if err != nil || again.Serial == got.Serial {
				t.Errorf("a second identity has serial %#x (%v), want a fresh one", again.Serial, err)
			}
		})
	}
}
