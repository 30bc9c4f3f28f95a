package prcheck

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/action/event"
	"github.com/jit-policy/jit-policy/action/prfacts"
	"github.com/jit-policy/jit-policy/engine"
	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/internal/exchange"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/revocation"
)

// fakeFacts answers Facts with facts and counts what was read.
type fakeFacts struct {
	facts        prfacts.Facts
	reads, files int
}

func (f *fakeFacts) Facts(context.Context, event.Event, config.PullRequests, time.Time) (prfacts.Facts, error) {
	f.reads++
	return f.facts, nil
}

func (f *fakeFacts) File(context.Context, string, string, string, string) ([]byte, error) {
	f.files++
	return nil, errors.New("no file in this test")
}

func (f *fakeFacts) SSHKeys(context.Context, string) ([]string, error) { return nil, nil }

// fakeDecider allows everything and counts its decisions.
type fakeDecider struct{ n int }

func (d *fakeDecider) Decide(context.Context, engine.Input) (engine.Decision, error) {
	d.n++
	return engine.Decision{Allowed: true}, nil
}

// fakeIssuer refuses to issue and counts the attempts.
type fakeIssuer struct{ n int }

func (i *fakeIssuer) IssueApproved(context.Context, exchange.Approved, time.Time) (exchange.Result, error) {
	i.n++
	return exchange.Result{}, errors.New("no issuing in this test")
}

// fakeRevoker records the filters it was asked to revoke and revokes
// lease pr-lease-1.
type fakeRevoker struct{ filters []lease.Filter }

func (r *fakeRevoker) RevokeMatching(_ context.Context, f lease.Filter, _ string, _ time.Time) (revocation.Report, error) {
	r.filters = append(r.filters, f)
	return revocation.Report{Revoked: []string{"pr-lease-1"}}, nil
}

// closedRefusal is prfacts' refusal of a pull request closed without merge.
const closedRefusal = "The pull request is closed without merge."

// TestCheckClosedWithoutMerge checks that a pull request closed without
// merge has its leases revoked, and nothing decided or issued, whether
// the event says it is closed or only the API's facts do (workflow_run
// payloads never do), and only when the run may revoke.
func TestCheckClosedWithoutMerge(t *testing.T) {
	const head = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
	run := event.Event{Name: event.WorkflowRun, Action: "completed", Owner: "acme", Repo: "widgets", Number: 42, HeadSHA: head}
	closedEvent := event.Event{Name: event.PullRequestTarget, Action: "closed", Owner: "acme", Repo: "widgets", Number: 42, HeadSHA: head, Closed: true}
	changed := []prfacts.ChangedFile{{Name: "access/deploy.yaml", Status: "added"}}
	closedFacts := prfacts.Facts{PR: engine.PullRequest{Number: 42, HeadSHA: head}, Changed: changed, ClosedUnmerged: true, Refusals: []string{closedRefusal}}
	mergedFacts := prfacts.Facts{PR: engine.PullRequest{Number: 42, HeadSHA: head, Merged: true}, Changed: changed}
	openFacts := prfacts.Facts{PR: engine.PullRequest{Number: 42, HeadSHA: head}, Changed: changed}
	tests := []struct {
		name      string
		ev        event.Event
		facts     prfacts.Facts
		noRevoker bool
		revoked   bool // leases of PR #42 revoked, Closed set, nothing read for the files
		refused   bool // closedRefusal among the refusals
	}{
		{name: "closed event", ev: closedEvent, facts: openFacts, revoked: true},
		{name: "workflow_run, the API says closed", ev: run, facts: closedFacts, revoked: true, refused: true},
		{name: "workflow_run, the API says closed, may not revoke", ev: run, facts: closedFacts, noRevoker: true, refused: true},
		{name: "workflow_run, the API says merged", ev: run, facts: mergedFacts},
		{name: "workflow_run, the API says open", ev: run, facts: openFacts},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			facts, decider, issuer, revoker := &fakeFacts{facts: tc.facts}, &fakeDecider{}, &fakeIssuer{}, &fakeRevoker{}
			c := &Checker{Facts: facts, Decider: decider, Config: config.PullRequests{Requests: "access"}, Issuer: issuer, Revoker: revoker}
			if tc.noRevoker {
				c.Issuer, c.Revoker = nil, nil
			}
			res, err := c.Check(context.Background(), tc.ev, time.Now())
			if err != nil {
				t.Fatalf("check: %v", err)
			}
			wantFilters := []lease.Filter(nil)
			if tc.revoked {
				wantFilters = []lease.Filter{{PR: 42, Job: lease.Job{Repository: "acme/widgets"}}}
			}
			if !slices.EqualFunc(revoker.filters, wantFilters, func(a, b lease.Filter) bool { return a.PR == b.PR && a.Job == b.Job && len(a.States) == 0 }) {
				t.Errorf("revoked %+v, want %+v", revoker.filters, wantFilters)
			}
			if res.Closed != tc.revoked || res.Merged || !slices.Equal(res.Revoked, wantRevoked(tc.revoked)) {
				t.Errorf("result closed %v, merged %v, revoked %v; want closed %v, not merged, revoked %v", res.Closed, res.Merged, res.Revoked, tc.revoked, wantRevoked(tc.revoked))
			}
			if tc.revoked && (facts.files != 0 || decider.n != 0 || issuer.n != 0 || len(res.Files) != 0) {
				t.Errorf("closed, but read %d files, decided %d items, issued %d and reported files %+v", facts.files, decider.n, issuer.n, res.Files)
			}
			if got := slices.Contains(res.Refusals, closedRefusal); got != tc.refused {
				t.Errorf("refusals %q: closed refusal %v, want %v", res.Refusals, got, tc.refused)
			}
			if tc.refused && res.Allowed() {
				t.Errorf("a pull request closed without merge is allowed")
			}
		})
	}
}

// wantRevoked is what fakeRevoker revokes when revoked is true.
func wantRevoked(revoked bool) []string {
	if revoked {
		return []string{"pr-lease-1"}
	}
	return nil
}
