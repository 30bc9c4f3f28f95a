package revocation

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
)

// Publisher is the optional capability of an issuer whose credentials are
// revoked by a published list rather than at a backend. Publish writes
// the list from revoked, every revoked lease of that issuer that has not
// yet expired; it must replace the list atomically. Several revokers, in
// this process or others, may publish at once: the Revoker writes again
// when a list it wrote turns out stale, so Publish needs no lock of its
// own, but must be safe for concurrent use.
type Publisher interface {
	Publish(ctx context.Context, revoked []lease.Lease) error
}

// publishMargin keeps a revoked credential on its list this long after its
// expiry, for servers whose clocks lag.
const publishMargin = time.Hour

// PublishAll republishes the list of every issuer that publishes one.
func (r *Revoker) PublishAll(ctx context.Context, now time.Time) error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(r.Issuers)) {
		if err := r.publish(ctx, name, now); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Publish republishes the list of one issuer, if it publishes one.
func (r *Revoker) Publish(ctx context.Context, name string, now time.Time) error {
	return r.publish(ctx, name, now)
}

// Revoked returns what the revocation list of issuer name holds at now:
// its revoked leases and those claimed for revocation (a revoker that died
// between its claim and its record must not keep them off the list), except
// those expired more than an hour before now. Every process sharing the
// lease store gets the same set.
func (r *Revoker) Revoked(ctx context.Context, name string, now time.Time) ([]lease.Lease, error) {
	revoked, err := r.Leases.List(ctx, lease.Filter{
		States: []lease.State{lease.Revoking, lease.Revoked}, Issuer: name, ExpiresAfter: now.Add(-publishMargin),
	})
	if err != nil {
		return nil, fmt.Errorf("listing revoked %s leases: %w", name, err)
	}
	return revoked, nil
}

// maxPublishWrites bounds how often one publish writes a list while the
// store keeps gaining revoked leases.
const maxPublishWrites = 8

// publish writes the list of issuer name, then reads the store again. A
// concurrent publisher, in this process or another sharing the store, may
// have read the store before a revocation this one saw and written its
// list after this one's; so while the store holds a lease the written list
// lacks, publish writes again. The last list written therefore holds every
// lease revoked before its writer checked it, and a lease revoked later
// has a revoker that publishes after it.
func (r *Revoker) publish(ctx context.Context, name string, now time.Time) error {
	p, ok := r.Issuers[name].(Publisher)
	if !ok {
		return nil
	}
	live, err := r.Revoked(ctx, name, now)
	if err != nil {
		return err
	}
	for range maxPublishWrites {
		if err := p.Publish(ctx, live); err != nil {
			return fmt.Errorf("publishing the %s revocation list: %w", name, err)
		}
		current, err := r.Revoked(ctx, name, now)
		if err != nil {
			return fmt.Errorf("checking the %s revocation list just published: %w", name, err)
		}
		if covers(live, current) {
			return nil
		}
		live = current
	}
	return fmt.Errorf("publishing the %s revocation list: leases were still being revoked after %d writes; the next revoke or sweep publishes it again", name, maxPublishWrites)
}

// covers reports whether written holds every lease of current.
func covers(written, current []lease.Lease) bool {
	have := make(map[string]bool, len(written))
	for _, l := range written {
		have[l.ID] = true
	}
	for _, l := range current {
		if !have[l.ID] {
			return false
		}
	}
	return true
}
