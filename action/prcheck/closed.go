package prcheck

import (
	"context"
	"fmt"
	"time"

	"github.com/jit-policy/jit-policy/action/event"
	"github.com/jit-policy/jit-policy/internal/lease"
)

// closed handles a closed pull request: merged, its leases run to expiry
// (the merge is the record); closed without merge, they are revoked —
// when this run may (Revoker set). Check calls it for a closed event, and
// for an event that does not say (workflow_run) when the facts do.
func (c *Checker) closed(ctx context.Context, ev event.Event, res Result, now time.Time) (Result, error) {
	res.Closed, res.Merged = true, ev.Merged
	if ev.Merged {
		return res, nil
	}
	if c.Revoker == nil {
		if res.NotIssuing == "" {
			res.NotIssuing = "this run may not revoke: run check --issue from the default branch's workflow"
		}
		return res, nil
	}
	rep, err := c.Revoker.RevokeMatching(ctx, lease.Filter{PR: ev.Number, Job: lease.Job{Repository: ev.Owner + "/" + ev.Repo}}, ByPRClosed, now)
	if err != nil {
		return res, fmt.Errorf("revoking the leases of pull request #%d: %w", ev.Number, err)
	}
	res.Revoked = rep.Revoked
	if err := rep.Err(); err != nil {
		return res, fmt.Errorf("pull request #%d closed, but some leases stay unrevoked (the sweep retries): %w", ev.Number, err)
	}
	return res, nil
}
