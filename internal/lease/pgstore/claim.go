package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/lease/leasesql"
)

// Claim moves a Pending or Active lease to Revoking and returns it,
// recording when (on the database's clock: the returned ClaimedAt, to the
// microsecond) and from which state, in one
// UPDATE: of concurrent Claims the row lock lets one through and the
// others, re-checking the updated row, match nothing. A Revoking lease
// whose claim is older than staleAfter is claimed again (its revoker died);
// it keeps the state it had before the first claim. staleAfter <= 0 never
// takes over a claim. ErrClaimed if the lease is Revoked or claimed more
// recently; ErrNotFound if there is no such lease.
func (s *Store) Claim(ctx context.Context, id string, staleAfter time.Duration) (lease.Lease, error) {
	l, err := leasesql.ScanClaimed(s.pool.QueryRow(ctx, `UPDATE jit_leases SET
			prev_state = CASE state WHEN 'revoking' THEN prev_state ELSE state END,
			state = 'revoking',
			claimed_at = `+nowNS+`
		WHERE id = $1 AND (state IN ('pending', 'active')
			OR ($2::bigint > 0 AND state = 'revoking' AND claimed_at < `+nowNS+` - $2::bigint))
		RETURNING `+leasesql.Columns+`, claimed_at`, id, int64(staleAfter)))
	if err == nil {
		return l, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return lease.Lease{}, fmt.Errorf("claim lease %q in %s: %w", id, s.where, err)
	}
	var (
		state string
		age   *int64 // ns since the claim, while revoking
	)
	err = s.pool.QueryRow(ctx, `SELECT state, `+nowNS+` - claimed_at FROM jit_leases WHERE id = $1`, id).Scan(&state, &age)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return lease.Lease{}, fmt.Errorf("claim lease %q: %w in %s", id, lease.ErrNotFound, s.where)
	case err != nil:
		return lease.Lease{}, fmt.Errorf("claim lease %q: reading its state from %s: %w", id, s.where, err)
	case state == string(lease.Revoking) && age != nil:
		ago := time.Duration(*age).Round(time.Millisecond)
		return lease.Lease{}, fmt.Errorf("claim lease %q: another revoker claimed it %v ago: %w", id, ago, lease.ErrClaimed)
	}
	return lease.Lease{}, fmt.Errorf("claim lease %q: it is %s: %w", id, state, lease.ErrClaimed)
}

// Release returns a lease claimed by Claim to the state it had before the
// claim, after a failed revocation, if it is still Revoking under that
// claim (claimed's ID and ClaimedAt). ErrClaimed if another revoker has
// taken the claim over; ErrNotFound unless the lease exists and is
// Revoking. Either error changes nothing.
func (s *Store) Release(ctx context.Context, claimed lease.Lease) error {
	id := claimed.ID
	if claimed.ClaimedAt.IsZero() || !lease.InNanoRange(claimed.ClaimedAt) {
		return fmt.Errorf("release lease %q: no claim time; pass the lease Claim returned", id)
	}
	n, err := s.exec(ctx, `UPDATE jit_leases
		SET state = prev_state, prev_state = NULL, claimed_at = NULL
		WHERE id = $1 AND state = 'revoking' AND claimed_at = $2`, id, claimed.ClaimedAt.UnixNano())
	switch {
	case err != nil:
		return fmt.Errorf("release lease %q in %s: %w", id, s.where, err)
	case n > 0:
		return nil
	}
	if state, err := s.stateOf(ctx, id); err == nil && state == lease.Revoking {
		return fmt.Errorf("release lease %q: another revoker took over the claim of %s and revokes it; nothing changed: %w",
			id, claimed.ClaimedAt.Format(time.RFC3339Nano), lease.ErrClaimed)
	}
	return s.notIn(ctx, "release", id, lease.Revoking)
}

// MarkRevoked moves a Revoking lease to Revoked, recording by and at (stored
// in UTC). Marking a Revoked lease succeeds and keeps its first record.
// ErrNotFound if the lease does not exist or is not claimed: claim first.
func (s *Store) MarkRevoked(ctx context.Context, id, by string, at time.Time) error {
	if by == "" {
		return fmt.Errorf("mark lease %q revoked: say by whom (lease.ByPostStep, BySweep, ...)", id)
	}
	if at.IsZero() || !lease.InNanoRange(at) {
		return fmt.Errorf("mark lease %q revoked: invalid time %v; pass the time of revocation", id, at)
	}
	n, err := s.exec(ctx, `UPDATE jit_leases
		SET state = 'revoked', revoked_at = $1, revoked_by = $2, prev_state = NULL, claimed_at = NULL
		WHERE id = $3 AND state = 'revoking'`, at.UnixNano(), by, id)
	switch {
	case err != nil:
		return fmt.Errorf("mark lease %q revoked in %s: %w", id, s.where, err)
	case n > 0:
		return nil
	}
	if state, err := s.stateOf(ctx, id); err == nil && state == lease.Revoked {
		return nil // idempotent: the first record stands
	}
	return s.notIn(ctx, "mark revoked", id, lease.Revoking)
}
