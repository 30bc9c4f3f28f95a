package revocation

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/jit-policy/jit-policy/internal/lease"
)

// OrphanLister is the optional capability of an issuer that can list, at
// its backend, the lease ids of the credentials it created for this lease
// store (PostgreSQL roles, say). The sweep revokes those whose lease is not
// open: never recorded, or recorded as revoked while the credential is
// still there. It must list only credentials of this store, and be safe
// to call while other processes issue and revoke.
type OrphanLister interface {
	LeaseIDs(ctx context.Context) ([]string, error)
}

// sweepOrphans revokes, for every issuer that lists its credentials, those
// whose lease is not open, recording what it did in rep.
func (r *Revoker) sweepOrphans(ctx context.Context, rep *Report) {
	for _, name := range slices.Sorted(maps.Keys(r.Issuers)) {
		ol, ok := r.Issuers[name].(OrphanLister)
		if !ok {
			continue
		}
		ids, err := ol.LeaseIDs(ctx)
		if err != nil {
			rep.Failed["orphans:"+name] = fmt.Errorf("listing %s credentials: %w", name, err)
			continue
		}
		for _, id := range ids {
			l, err := r.Leases.Get(ctx, id)
			switch {
			case errors.Is(err, lease.ErrNotFound):
				l = lease.Lease{ID: id, Issuer: name}
			case err != nil:
				rep.Failed[id] = fmt.Errorf("reading the lease of an orphan %s credential: %w", name, err)
				continue
			case l.State != lease.Revoked:
				continue // open: its own revocation or expiry handles it
			}
			if err := r.Issuers[name].Revoke(ctx, l); err != nil {
				rep.Failed[id] = fmt.Errorf("revoking an orphan %s credential: %w", name, err)
				continue
			}
			rep.Revoked = append(rep.Revoked, id)
			rep.Reasons[id] = fmt.Sprintf("%s credential without an open lease", name)
		}
	}
}
