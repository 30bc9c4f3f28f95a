package revocation_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// pruneIssuer also prunes its backend's revocation state.
type pruneIssuer struct {
	listIssuer
	pruned []time.Time
	notes  []string
	err    error
}

func (p *pruneIssuer) Prune(_ context.Context, now time.Time) ([]string, error) {
	p.pruned = append(p.pruned, now)
	return p.notes, p.err
}

// TestSweepPrunes: the sweep lets every pruning issuer prune, reports its
// notes, and reports its failure under "prune <issuer>".
func TestSweepPrunes(t *testing.T) {
	now := time.Now()
	r, _, _ := setup(t, now)
	ok := &pruneIssuer{notes: []string{"role/deploy: 3 sessions, 312 of 10,240 characters"}}
	down := &pruneIssuer{err: errors.New("backend down")}
	r.Issuers["aws"], r.Issuers["aws-other"] = ok, down
	rep, err := r.Sweep(context.Background(), now, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(ok.pruned) != 1 || !ok.pruned[0].Equal(now) || len(down.pruned) != 1 {
		t.Errorf("Prune calls = %v and %v, want one each at the sweep's time", ok.pruned, down.pruned)
	}
	if !slices.Equal(rep.Notes, ok.notes) {
		t.Errorf("notes = %q, want %q", rep.Notes, ok.notes)
	}
	if rep.Failed["prune aws-other"] == nil || rep.Failed["prune aws"] != nil {
		t.Errorf("failures = %v, want only prune aws-other", rep.Failed)
	}
	if !slices.Contains(rep.Revoked, "expired") {
		t.Errorf("revoked %v: a failing prune must not stop the sweep", rep.Revoked)
	}
}
