// Package revocation revokes leases: one by id, every lease of a job, and
// the sweep that revokes what expired or what a crashed process left
// pending. After revoking it republishes the revocation lists (SSH KRL,
// X.509 CRL) of the issuers that publish one, rebuilt from the lease store
// so that every process sharing the store publishes the same list.
package revocation

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jit-policy/jit-policy/internal/jobstate"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/issuers"
)

// Pruner is the optional capability of an issuer that keeps, at its
// backend, revocation state that grows with every revoke (AWS: deny
// statements in a role's inline policy). The sweep calls Prune after
// revoking: it must drop only what concerns credentials that have expired
// at now, be idempotent, and be safe to run while other processes revoke.
// It returns human-readable notes on what remains (its size, a limit it
// nears), which the sweep reports; an error leaves the state as it was,
// for the next sweep.
type Pruner interface {
	Prune(ctx context.Context, now time.Time) ([]string, error)
}

// DefaultStaleClaim is how long a claim may stand before another revoker
// may take the lease over (its revoker died mid-way).
const DefaultStaleClaim = 5 * time.Minute

// JobChecker says whether the CI job or pull request holding a lease has
// ended. It must be safe for concurrent use.
type JobChecker interface {
	Ended(ctx context.Context, l lease.Lease) (jobstate.Verdict, error)
}

// Revoker revokes leases. Its fields are set once.
type Revoker struct {
	Leases  lease.Store
	Issuers map[string]issuers.Issuer
	// Jobs, when set, lets the sweep revoke the leases of ended jobs and
	// of pull requests closed without merge.
	Jobs JobChecker
	// StaleClaim: zero means DefaultStaleClaim.
	StaleClaim time.Duration
}

// Report says what a revocation run did. Failed leases stay unrevoked and
// are retried by the next revoke or sweep.
type Report struct {
	Revoked []string
	Skipped []string // already revoked
	// Pending are leases another revoker claimed and is revoking right
	// now: not revoked yet, but not failures of this run either (Err
	// leaves them out). Callers should say so: if that revoker died, the
	// lease stays live until a sweep takes its claim over as stale
	// (Revoker.StaleClaim).
	Pending []string
	Failed  map[string]error
	// Reasons says why the sweep revoked a lease before its expiry.
	Reasons map[string]string
	// Notes are what pruning issuers report: the size of their revocation
	// state, a limit it nears.
	Notes []string
}

// Err joins the failures, or returns nil when everything was revoked.
func (r Report) Err() error {
	var errs []error
	for _, id := range slices.Sorted(maps.Keys(r.Failed)) {
		errs = append(errs, fmt.Errorf("lease %s: %w", id, r.Failed[id]))
	}
	return errors.Join(errs...)
}

// Revoke revokes the leases with these ids and republishes the lists of
// the issuers involved.
func (r *Revoker) Revoke(ctx context.Context, ids []string, by string, now time.Time) Report {
	rep, touched := r.revoke(ctx, ids, by, now)
	r.publishTouched(ctx, touched, now, &rep)
	return rep
}

// publishTouched republishes the lists of the issuers in touched, recording
// a failure as rep.Failed["list:NAME"].
func (r *Revoker) publishTouched(ctx context.Context, touched map[string]bool, now time.Time, rep *Report) {
	for _, name := range slices.Sorted(maps.Keys(touched)) {
		if err := r.publish(ctx, name, now); err != nil {
			rep.Failed["list:"+name] = err
		}
	}
}

// revoke revokes the leases with these ids and returns what it did and
// the issuers of the leases involved (revoked, found already revoked, or
// being revoked elsewhere).
func (r *Revoker) revoke(ctx context.Context, ids []string, by string, now time.Time) (Report, map[string]bool) {
	stale := r.StaleClaim
	if stale == 0 {
		stale = DefaultStaleClaim
	}
	rep := Report{Failed: map[string]error{}}
	touched := map[string]bool{}
	for _, id := range ids {
		var issuer string
		l, err := r.Leases.Claim(ctx, id, stale)
		switch {
		case errors.Is(err, lease.ErrClaimed):
			// Already revoked, or being revoked elsewhere: its list is
			// written again all the same, so that a retry after a publish
			// that failed, or never ran (a crash), repairs the list.
			issuer = r.claimedElsewhere(ctx, id, &rep)
		case err != nil:
			rep.Failed[id] = err
		default:
			if issuer, err = r.revokeClaimed(ctx, l, by, now); err != nil {
				rep.Failed[id] = err
			} else {
				rep.Revoked = append(rep.Revoked, id)
			}
		}
		if issuer != "" {
			touched[issuer] = true
		}
	}
	return rep, touched
}

// claimedElsewhere records in rep lease id, which Claim refused as
// claimed: Skipped if it is revoked, Pending if another revoker holds it,
// Failed if that revoker has since given it back (its revoke failed) or
// its state cannot be read. It returns the lease's issuer, if read.
func (r *Revoker) claimedElsewhere(ctx context.Context, id string, rep *Report) string {
	l, err := r.Leases.Get(ctx, id)
	switch {
	case err != nil:
		rep.Failed[id] = fmt.Errorf("another revoker holds it or revoked it, and reading which failed: %w", err)
		return ""
	case l.State == lease.Revoked:
		rep.Skipped = append(rep.Skipped, id)
	case l.State == lease.Revoking:
		rep.Pending = append(rep.Pending, id)
	default:
		rep.Failed[id] = fmt.Errorf("another revoker claimed it, then gave it back (it is %s again: that revoke failed); revoke it again", l.State)
	}
	return l.Issuer
}

// RevokeMatching revokes every unrevoked lease that f selects (f.States is
// ignored) and republishes the lists of their issuers. When f selects one
// job's or one pull request's leases (f.Job or f.PR set: few), the lists of
// the issuers of those already revoked are written again too, so that a
// retry repairs a list whose publishing failed after its leases were
// recorded revoked; a selection by time alone (revoke --expired) does not
// read all of history for that.
func (r *Revoker) RevokeMatching(ctx context.Context, f lease.Filter, by string, now time.Time) (Report, error) {
	open := f
	open.States = []lease.State{lease.Pending, lease.Active, lease.Revoking}
	ls, err := r.Leases.List(ctx, open)
	if err != nil {
		return Report{}, fmt.Errorf("listing leases: %w", err)
	}
	rep, touched := r.revoke(ctx, ids(ls), by, now)
	if f.Job != (lease.Job{}) || f.PR != 0 {
		done := f
		done.States = []lease.State{lease.Revoked}
		revoked, err := r.Leases.List(ctx, done)
		if err != nil {
			return rep, fmt.Errorf("listing revoked leases: %w", err)
		}
		for _, l := range revoked {
			touched[l.Issuer] = true
		}
	}
	r.publishTouched(ctx, touched, now, &rep)
	return rep, nil
}

// Sweep revokes every lease that has expired, every lease still pending
// grace after it was recorded (its issuing process died), and every lease
// whose revoker died mid-way; then it lets every Pruner prune and
// republishes every list.
func (r *Revoker) Sweep(ctx context.Context, now time.Time, grace time.Duration) (Report, error) {
	expired, err := r.Leases.List(ctx, lease.Filter{States: []lease.State{lease.Pending, lease.Active, lease.Revoking}, ExpiresBefore: now})
	if err != nil {
		return Report{}, fmt.Errorf("listing expired leases: %w", err)
	}
	stuck, err := r.Leases.List(ctx, lease.Filter{States: []lease.State{lease.Pending, lease.Revoking}, IssuedBefore: now.Add(-grace)})
	if err != nil {
		return Report{}, fmt.Errorf("listing stuck leases: %w", err)
	}
	todo := append(ids(expired), ids(stuck)...)
	reasons, checkFailed := r.endedJobs(ctx, now)
	for id := range reasons {
		todo = append(todo, id)
	}
	todo = slices.Compact(slices.Sorted(slices.Values(todo)))
	rep := r.Revoke(ctx, todo, lease.BySweep, now)
	rep.Reasons = reasons
	for id, err := range checkFailed {
		rep.Failed[id] = err
	}
	r.sweepOrphans(ctx, &rep)
	r.prune(ctx, now, &rep)
	if err := r.PublishAll(ctx, now); err != nil {
		rep.Failed["lists"] = err
	}
	return rep, nil
}

// revokeClaimed revokes lease l, which this revoker claimed, at its
// issuer's backend and records it revoked. If the backend revoke fails it
// releases the claim (unless another revoker has taken it over since), so
// a later revoke or sweep retries. It returns the lease's issuer once the
// backend revoked the credential (its list must be republished), even if
// recording that failed.
func (r *Revoker) revokeClaimed(ctx context.Context, l lease.Lease, by string, now time.Time) (string, error) {
	iss, ok := r.Issuers[l.Issuer]
	if !ok {
		err := fmt.Errorf("issuer %q is not configured here: revoke it where it is", l.Issuer)
		if rerr := r.Leases.Release(ctx, l); rerr != nil {
			err = errors.Join(err, fmt.Errorf("giving its claim back: %w", rerr))
		}
		return "", err
	}
	if err := iss.Revoke(ctx, l); err != nil {
		err = fmt.Errorf("revoking at the %s backend: %w", l.Issuer, err)
		if rerr := r.Leases.Release(ctx, l); rerr != nil {
			err = errors.Join(err, fmt.Errorf("giving its claim back: %w", rerr))
		}
		return "", err
	}
	if err := r.Leases.MarkRevoked(ctx, l.ID, by, now); err != nil {
		return l.Issuer, fmt.Errorf("marking revoked: %w", err)
	}
	return l.Issuer, nil
}

// prune lets every issuer that prunes its revocation state do so,
// recording its notes and failures in rep.
func (r *Revoker) prune(ctx context.Context, now time.Time, rep *Report) {
	for _, name := range slices.Sorted(maps.Keys(r.Issuers)) {
		p, ok := r.Issuers[name].(Pruner)
		if !ok {
			continue
		}
		notes, err := p.Prune(ctx, now)
		rep.Notes = append(rep.Notes, notes...)
		if err != nil {
			rep.Failed["prune "+name] = fmt.Errorf("pruning the %s revocation state: %w", name, err)
		}
	}
}

func ids(ls []lease.Lease) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.ID
	}
	return out
}

// endedJobs asks the CI providers about every live lease of a job or pull
// request and returns those whose job or PR has ended, with the reason;
// leases whose state could not be learned are returned as failures (they
// stay unrevoked until a later sweep learns more, or they expire).
func (r *Revoker) endedJobs(ctx context.Context, now time.Time) (map[string]string, map[string]error) {
	reasons, failed := map[string]string{}, map[string]error{}
	if r.Jobs == nil {
		return reasons, failed
	}
	live, err := r.Leases.List(ctx, lease.Filter{States: []lease.State{lease.Pending, lease.Active}})
	if err != nil {
		failed["list"] = fmt.Errorf("listing live leases: %w", err)
		return reasons, failed
	}
	for _, l := range live {
		if !l.ExpiresAt.After(now) || (l.Job == (lease.Job{}) && l.PR == 0) {
			continue
		}
		v, err := r.Jobs.Ended(ctx, l)
		switch {
		case err != nil:
			failed[l.ID] = fmt.Errorf("could not learn whether its job ended: %w", err)
		case v.Ended:
			reasons[l.ID] = v.Reason
		}
	}
	return reasons, failed
}
