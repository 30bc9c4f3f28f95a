package broker_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/broker"
	"github.com/jit-policy/jit-policy/internal/brokerapi"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/oidctest"
	"github.com/jit-policy/jit-policy/issuers"
)

// heldRevoke holds its issuer's Revoke until release is closed.
type heldRevoke struct {
	issuers.Issuer
	entered chan<- struct{}
	release <-chan struct{}
}

func (h heldRevoke) Revoke(ctx context.Context, l lease.Lease) error {
	h.entered <- struct{}{}
	<-h.release
	return h.Issuer.Revoke(ctx, l)
}

// ChooseIdentity forwards to the held issuer (issuers.IdentityChooser):
// the exchange shares the revoker's issuers and asks it before issuing.
func (h heldRevoke) ChooseIdentity(req issuers.IdentityRequest) (lease.Credential, error) {
	return h.Issuer.(issuers.IdentityChooser).ChooseIdentity(req)
}

// TestWaitForRunningRevocation: Wait returns only once a running
// revocation has returned, so the store it records in is not closed under
// it.
func TestWaitForRunningRevocation(t *testing.T) {
	entered, release := make(chan struct{}, 1), make(chan struct{})
	s := newStack(t, newEnv(t), func(c *broker.Config) {
		c.Revoker.Issuers["ssh"] = heldRevoke{Issuer: c.Revoker.Issuers["ssh"], entered: entered, release: release}
	})
	tok := s.env.OIDC.Mint(t, oidctest.MintOptions{})
	code, issued, bad := s.issue(t, tok, sshRequest(t))
	if code != http.StatusOK {
		t.Fatalf("issue: %d %+v", code, bad)
	}
	revoked := make(chan int)
	go func() {
		code, _, _ := s.revoke(t, s.env.OIDC.Mint(t, oidctest.MintOptions{}), issued.LeaseID)
		revoked <- code
	}()
	<-entered
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.srv.Wait(short); err == nil {
		t.Fatal("Wait returned while a revocation was running")
	}
	close(release)
	if err := s.srv.Wait(context.Background()); err != nil {
		t.Fatalf("Wait after the revocation: %v", err)
	}
	if code := <-revoked; code != http.StatusOK {
		t.Fatalf("revoke: %d", code)
	}
	if l, err := s.app.Leases.Get(context.Background(), issued.LeaseID); err != nil || l.State != lease.Revoked {
		t.Errorf("lease after Wait: %+v, %v; want revoked", l, err)
	}
}

// TestReadyNeedsTheStore: /readyz answers 503 once the lease store stops
// answering, though the server was set ready.
func TestReadyNeedsTheStore(t *testing.T) {
	s := newStack(t, newEnv(t), nil)
	if code, _, body := call(t, http.MethodGet, s.url+brokerapi.PathReady, "", "", nil); code != http.StatusOK {
		t.Fatalf("readyz: %d %s", code, body)
	}
	if err := s.app.Leases.Close(); err != nil {
		t.Fatal(err)
	}
	code, _, body := call(t, http.MethodGet, s.url+brokerapi.PathReady, "", "", nil)
	if code != http.StatusServiceUnavailable || !strings.Contains(string(body), "lease store does not answer") {
		t.Fatalf("readyz with the store closed: %d %s; want 503", code, body)
	}
}
