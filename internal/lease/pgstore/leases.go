package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/lease/leasesql"
)

// Put records a new lease in state Pending. l.State must be "" or Pending,
// l.ID, l.IssuedAt and l.ExpiresAt set, RevokedAt and RevokedBy empty.
func (s *Store) Put(ctx context.Context, l lease.Lease) error {
	if err := lease.ValidateNew(l); err != nil {
		return fmt.Errorf("put lease %q: %w", l.ID, err)
	}
	n, err := s.exec(ctx, `INSERT INTO jit_leases (`+leasesql.Columns+`, prev_state, claimed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
			$18, $19, $20, NULL, '', NULL, NULL)
		ON CONFLICT (id) DO NOTHING`,
		l.ID, l.Issuer, l.Role, l.Subject,
		l.Job.Issuer, l.Job.Provider, l.Job.Repository, l.Job.RunID, l.Job.Attempt, l.Job.JobID, int64(l.PR),
		int64(l.Credential.Serial), l.Credential.KeyID, l.Credential.SessionName,
		l.Credential.AssumedRoleID, l.Credential.RoleName,
		l.DecisionID, string(lease.Pending), l.IssuedAt.UnixNano(), l.ExpiresAt.UnixNano())
	switch {
	case err != nil:
		return fmt.Errorf("put lease %q into %s: %w", l.ID, s.where, err)
	case n == 0:
		return fmt.Errorf("put lease %q: %w; every lease needs a new id", l.ID, lease.ErrExists)
	}
	return nil
}

// Activate moves a Pending lease to Active with its final credential
// identity; ErrNotFound unless the lease exists and is Pending.
func (s *Store) Activate(ctx context.Context, id string, cred lease.Credential) error {
	n, err := s.exec(ctx, `UPDATE jit_leases SET state = 'active',
		cred_serial = $1, cred_key_id = $2, cred_session = $3, cred_role_id = $4, cred_role_name = $5
		WHERE id = $6 AND state = 'pending'`,
		int64(cred.Serial), cred.KeyID, cred.SessionName, cred.AssumedRoleID, cred.RoleName, id)
	switch {
	case err != nil:
		return fmt.Errorf("activate lease %q in %s: %w", id, s.where, err)
	case n == 0:
		return s.notIn(ctx, "activate", id, lease.Pending)
	}
	return nil
}

// Get returns the lease with this id, or ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (lease.Lease, error) {
	l, err := leasesql.ScanLease(s.pool.QueryRow(ctx, `SELECT `+leasesql.Columns+` FROM jit_leases WHERE id = $1`, id))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return lease.Lease{}, fmt.Errorf("get lease %q: %w in %s", id, lease.ErrNotFound, s.where)
	case err != nil:
		return lease.Lease{}, fmt.Errorf("get lease %q from %s: %w", id, s.where, err)
	}
	return l, nil
}

// List returns the leases that match f, ordered by IssuedAt, then id.
func (s *Store) List(ctx context.Context, f lease.Filter) ([]lease.Lease, error) {
	where, args := leasesql.Where(f, func(n int) string { return "$" + strconv.Itoa(n) })
	rows, err := s.pool.Query(ctx, `SELECT `+leasesql.Columns+` FROM jit_leases`+where+` ORDER BY issued_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list leases in %s: %w", s.where, err)
	}
	defer rows.Close()
	out, err := leasesql.ScanLeases(rows)
	if err != nil {
		return nil, fmt.Errorf("list leases in %s: %w", s.where, err)
	}
	return out, nil
}
