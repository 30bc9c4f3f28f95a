package exchange_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jit-policy/jit-policy/engine"
	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/internal/exchange"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/lease/sqlitestore"
	"github.com/jit-policy/jit-policy/internal/oidc"
	"github.com/jit-policy/jit-policy/issuers"
	sshissuer "github.com/jit-policy/jit-policy/issuers/ssh"
)

// claimsVerifier stands in for token verification (tested in internal/oidc
// and end to end in cmd/jit-policy): it returns the example's claims with a
// fresh jti each call.
type claimsVerifier struct{ n atomic.Int64 }

func (v *claimsVerifier) Verify(context.Context, string) (*oidc.Claims, error) {
	n := v.n.Add(1)
	return &oidc.Claims{
		Issuer: "https://token.actions.githubusercontent.com", Subject: "repo:acme/shop:environment:prod",
		ID: fmt.Sprint("jti-", n), Expiry: time.Now().Add(5 * time.Minute),
		All: map[string]any{
			"iss": "https://token.actions.githubusercontent.com", "sub": "repo:acme/shop:environment:prod",
			"repository": "acme/shop", "repository_id": "681726152", "repository_owner_id": "159127455",
			"ref": "refs/heads/main", "environment": "prod",
			"job_workflow_ref": "acme/shop/.github/workflows/deploy.yml@refs/heads/main",
			"run_id":           "12074658213", "run_attempt": "1", "check_run_id": "33660514208",
		},
	}, nil
}

func newExchange(tb testing.TB) *exchange.Exchange {
	tb.Helper()
	ctx := context.Background()
	eng, err := engine.Load(ctx, []string{filepath.Join("..", "..", "examples", "policies")}, engine.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	st, err := sqlitestore.Open(ctx, filepath.Join(tb.TempDir(), "leases.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	_, caKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	ca, err := ssh.NewSignerFromKey(caKey)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := &config.SSHIssuer{MaxTTL: config.Duration{Duration: time.Hour}, Roles: map[string]config.SSHRole{
		"deploy": {Principals: []string{"deploy"}, MaxTTL: config.Duration{Duration: 15 * time.Minute}},
	}}
	iss, err := sshissuer.New(cfg, ca)
	if err != nil {
		tb.Fatal(err)
	}
	return &exchange.Exchange{
		Verifier: &claimsVerifier{}, Decider: eng, Leases: st, Replay: st,
		Issuers: map[string]issuers.Issuer{"ssh": iss},
		Limits:  func(string, string) (time.Duration, error) { return 15 * time.Minute, nil },
	}
}

func userKey(tb testing.TB) []byte {
	tb.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		tb.Fatal(err)
	}
	return ssh.MarshalAuthorizedKey(sp)
}

func TestIssueClampsAndRecords(t *testing.T) {
	x := newExchange(t)
	ctx := context.Background()
	res, err := x.Issue(ctx, "token", exchange.Request{Issuer: "ssh", Role: "deploy", TTL: time.Hour, PublicKey: userKey(t)}, time.Now())
	if err != nil {
		t.Fatalf("Issue: %v (deny %q)", err, res.Decision.Deny)
	}
	// The example grants 900 s; the role 15 m; asked for 1 h.
	if got := res.Lease.ExpiresAt.Sub(res.Lease.IssuedAt); got != 15*time.Minute {
		t.Errorf("lease lifetime = %s, want 15m", got)
	}
	got, err := x.Leases.Get(ctx, res.Lease.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != lease.Active || got.Credential.Serial == 0 || got.Job.JobID != "33660514208" || got.DecisionID != res.Decision.ID {
		t.Errorf("recorded lease = %+v", got)
	}
}

// A lease id's first 12 hex digits name its PostgreSQL role and AWS
// session, so they must differ between leases issued at the same instant.
func TestLeaseIDPrefixesDiffer(t *testing.T) {
	x := newExchange(t)
	ctx := context.Background()
	now := time.Now()
	seen := map[string]string{}
	for range 8 {
		res, err := x.Issue(ctx, "token", exchange.Request{Issuer: "ssh", Role: "deploy", PublicKey: userKey(t)}, now)
		if err != nil {
			t.Fatalf("Issue: %v", err)
		}
		id := res.Lease.ID
		if prev, ok := seen[id[:12]]; ok {
			t.Fatalf("lease ids %s and %s, issued at the same instant, share their first 12 hex digits", prev, id)
		}
		seen[id[:12]] = id
	}
}

func TestIssueDryRunRecordsNothing(t *testing.T) {
	x := newExchange(t)
	ctx := context.Background()
	res, err := x.Issue(ctx, "token", exchange.Request{Issuer: "ssh", Role: "deploy", PublicKey: userKey(t), DryRun: true}, time.Now())
	if err != nil || !res.Decision.Allowed {
		t.Fatalf("dry run: %v %+v", err, res.Decision)
	}
	ls, err := x.Leases.List(ctx, lease.Filter{})
	if err != nil || len(ls) != 0 {
		t.Fatalf("dry run recorded %d leases (%v)", len(ls), err)
	}
}

func TestIssueDenied(t *testing.T) {
	x := newExchange(t)
	_, err := x.Issue(context.Background(), "token", exchange.Request{Issuer: "ssh", Role: "deploy", Principals: []string{"root"}, PublicKey: userKey(t)}, time.Now())
	if !errors.Is(err, exchange.ErrDenied) {
		t.Fatalf("err = %v, want ErrDenied", err)
	}
}

// BenchmarkDecideSignLease is one exchange past token verification: decide
// with the example policy, spend the token, record the lease in the file
// store, sign the certificate, activate the lease.
func BenchmarkDecideSignLease(b *testing.B) {
	x := newExchange(b)
	key := userKey(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := x.Issue(ctx, "token", exchange.Request{Issuer: "ssh", Role: "deploy", PublicKey: key}, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}

// TestReplayAtExpiry: a token verified just before its expiry and spent
// after it stays spent; a replay that also verified in time is refused.
func TestReplayAtExpiry(t *testing.T) {
	x := newExchange(t)
	ctx := context.Background()
	claims, err := x.Verifier.Verify(ctx, "token")
	if err != nil {
		t.Fatal(err)
	}
	claims.Expiry = time.Now().Add(-time.Millisecond) // it expired while the request ran
	req := exchange.Request{Issuer: "ssh", Role: "deploy", PublicKey: userKey(t)}
	if _, err := x.IssueVerified(ctx, claims, "token", req, time.Now()); err != nil {
		t.Fatalf("first exchange: %v", err)
	}
	if _, err := x.IssueVerified(ctx, claims, "token", req, time.Now()); !errors.Is(err, lease.ErrReplayed) {
		t.Fatalf("replay after expiry: err = %v, want ErrReplayed", err)
	}
}
