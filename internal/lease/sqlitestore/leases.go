package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/lease/leasesql"
)

// Put records a new lease in state Pending. l.State must be "" or Pending,
// l.ID, l.IssuedAt and l.ExpiresAt set, RevokedAt and RevokedBy empty.
func (s *Store) Put(ctx context.Context, l lease.Lease) error {
	if err := lease.ValidateNew(l); err != nil {
		return fmt.Errorf("put lease %q: %w", l.ID, err)
	}
	return s.write(ctx, func(ctx context.Context, tx *wtx) error { return s.put(ctx, tx, l) })
}

// put is Put inside a write; the lease is recorded Pending, or Active when
// it is (SpendAndPut).
func (s *Store) put(ctx context.Context, tx *wtx, l lease.Lease) error {
	state := lease.Pending
	if l.State == lease.Active {
		state = lease.Active
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO leases (`+leasesql.Columns+`, prev_state, claimed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, '', NULL, NULL)
		ON CONFLICT (id) DO NOTHING`,
		l.ID, l.Issuer, l.Role, l.Subject,
		l.Job.Issuer, l.Job.Provider, l.Job.Repository, l.Job.RunID, l.Job.Attempt, l.Job.JobID, int64(l.PR),
		int64(l.Credential.Serial), l.Credential.KeyID, l.Credential.SessionName,
		l.Credential.AssumedRoleID, l.Credential.RoleName,
		l.DecisionID, string(state), l.IssuedAt.UnixNano(), l.ExpiresAt.UnixNano())
	if err != nil {
		return fmt.Errorf("put lease %q into %s: %w", l.ID, s.path, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("put lease %q into %s: %w", l.ID, s.path, err)
	} else if n == 0 {
		return fmt.Errorf("put lease %q: %w; every lease needs a new id", l.ID, lease.ErrExists)
	}
	return nil
}

// Activate moves a Pending lease to Active with its final credential
// identity; ErrNotFound unless the lease exists and is Pending.
func (s *Store) Activate(ctx context.Context, id string, cred lease.Credential) error {
	return s.write(ctx, func(ctx context.Context, tx *wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE leases SET state = 'active',
			cred_serial = ?, cred_key_id = ?, cred_session = ?, cred_role_id = ?, cred_role_name = ?
			WHERE id = ? AND state = 'pending'`,
			int64(cred.Serial), cred.KeyID, cred.SessionName, cred.AssumedRoleID, cred.RoleName, id)
		if err != nil {
			return fmt.Errorf("activate lease %q in %s: %w", id, s.path, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("activate lease %q in %s: %w", id, s.path, err)
		} else if n == 0 {
			return s.notIn(ctx, tx, "activate", id, lease.Pending)
		}
		return nil
	})
}

// notIn explains why an update of lease id, which required state want,
// changed nothing: the lease is missing or in another state. Both are
// ErrNotFound.
func (s *Store) notIn(ctx context.Context, tx *wtx, op, id string, want lease.State) error {
	state, err := stateOf(ctx, tx, id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%s lease %q: %w in %s", op, id, lease.ErrNotFound, s.path)
	case err != nil:
		return fmt.Errorf("%s lease %q: reading its state from %s: %w", op, id, s.path, err)
	}
	return fmt.Errorf("%s lease %q: it is %s, not %s: %w", op, id, state, want, lease.ErrNotFound)
}

func stateOf(ctx context.Context, tx *wtx, id string) (lease.State, error) {
	var state string
	err := tx.QueryRowContext(ctx, `SELECT state FROM leases WHERE id = ?`, id).Scan(&state)
	return lease.State(state), err
}

// Get returns the lease with this id, or ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (lease.Lease, error) {
	l, err := leasesql.ScanLease(s.db.QueryRowContext(ctx, `SELECT `+leasesql.Columns+` FROM leases WHERE id = ?`, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return lease.Lease{}, fmt.Errorf("get lease %q: %w in %s", id, lease.ErrNotFound, s.path)
	case err != nil:
		return lease.Lease{}, fmt.Errorf("get lease %q from %s: %w", id, s.path, err)
	}
	return l, nil
}

// List returns the leases that match f, ordered by IssuedAt, then id.
func (s *Store) List(ctx context.Context, f lease.Filter) ([]lease.Lease, error) {
	where, args := leasesql.Where(f, func(int) string { return "?" })
	rows, err := s.db.QueryContext(ctx, `SELECT `+leasesql.Columns+` FROM leases`+where+` ORDER BY issued_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list leases in %s: %w", s.path, err)
	}
	defer rows.Close()
	out, err := leasesql.ScanLeases(rows)
	if err != nil {
		return nil, fmt.Errorf("list leases in %s: %w", s.path, err)
	}
	return out, nil
}
