package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/lease/leasesql"
)

// Claim moves a Pending or Active lease to Revoking and returns it,
// recording when (the returned ClaimedAt, to the nanosecond) and from which
// state. A Revoking lease whose claim is older
// than staleAfter is claimed again (its revoker died); it keeps the state it
// had before the first claim. staleAfter <= 0 never takes over a claim.
// ErrClaimed if the lease is Revoked or claimed more recently; ErrNotFound if
// there is no such lease.
func (s *Store) Claim(ctx context.Context, id string, staleAfter time.Duration) (lease.Lease, error) {
	var claimed lease.Lease
	err := s.write(ctx, func(ctx context.Context, tx *wtx) error {
		now := time.Now().UnixNano()
		staleBefore := int64(math.MinInt64) // no claim is that old
		if staleAfter > 0 {
			staleBefore = now - int64(staleAfter)
		}
		l, err := leasesql.ScanClaimed(tx.QueryRowContext(ctx, `UPDATE leases SET
				prev_state = CASE state WHEN 'revoking' THEN prev_state ELSE state END,
				state = 'revoking',
				claimed_at = ?
			WHERE id = ? AND (state IN ('pending', 'active')
				OR (state = 'revoking' AND claimed_at < ?))
			RETURNING `+leasesql.Columns+`, claimed_at`, now, id, staleBefore))
		if err == nil {
			claimed = l
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("claim lease %q in %s: %w", id, s.path, err)
		}
		var (
			state     string
			claimedAt sql.NullInt64
		)
		err = tx.QueryRowContext(ctx, `SELECT state, claimed_at FROM leases WHERE id = ?`, id).Scan(&state, &claimedAt)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("claim lease %q: %w in %s", id, lease.ErrNotFound, s.path)
		case err != nil:
			return fmt.Errorf("claim lease %q: reading its state from %s: %w", id, s.path, err)
		case state == string(lease.Revoking) && claimedAt.Valid:
			age := time.Duration(now - claimedAt.Int64).Round(time.Millisecond)
			return fmt.Errorf("claim lease %q: another revoker claimed it %v ago: %w", id, age, lease.ErrClaimed)
		}
		return fmt.Errorf("claim lease %q: it is %s: %w", id, state, lease.ErrClaimed)
	})
	if err != nil {
		return lease.Lease{}, err
	}
	return claimed, nil
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
	return s.write(ctx, func(ctx context.Context, tx *wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE leases
			SET state = prev_state, prev_state = NULL, claimed_at = NULL
			WHERE id = ? AND state = 'revoking' AND claimed_at = ?`, id, claimed.ClaimedAt.UnixNano())
		if err != nil {
			return fmt.Errorf("release lease %q in %s: %w", id, s.path, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("release lease %q in %s: %w", id, s.path, err)
		} else if n > 0 {
			return nil
		}
		if state, err := stateOf(ctx, tx, id); err == nil && state == lease.Revoking {
			return fmt.Errorf("release lease %q: another revoker took over the claim of %s and revokes it; nothing changed: %w",
				id, claimed.ClaimedAt.Format(time.RFC3339Nano), lease.ErrClaimed)
		}
		return s.notIn(ctx, tx, "release", id, lease.Revoking)
	})
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
	return s.write(ctx, func(ctx context.Context, tx *wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE leases
			SET state = 'revoked', revoked_at = ?, revoked_by = ?, prev_state = NULL, claimed_at = NULL
			WHERE id = ? AND state = 'revoking'`, at.UnixNano(), by, id)
		if err != nil {
			return fmt.Errorf("mark lease %q revoked in %s: %w", id, s.path, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("mark lease %q revoked in %s: %w", id, s.path, err)
		} else if n > 0 {
			return nil
		}
		if state, err := stateOf(ctx, tx, id); err == nil && state == lease.Revoked {
			return nil // idempotent: the first record stands
		}
		return s.notIn(ctx, tx, "mark revoked", id, lease.Revoking)
	})
}
