package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jit-policy/jit-policy/internal/lease"
)

// columns lists a lease's columns in the order scanLease reads them.
const columns = `id, issuer, role, subject,
	job_issuer, job_provider, job_repository, job_run_id, job_attempt, job_id, pr,
	cred_serial, cred_key_id, cred_session, cred_role_id, cred_role_name,
	decision_id, state, issued_at, expires_at, revoked_at, revoked_by`

// Put records a new lease in state Pending. l.State must be "" or Pending,
// l.ID, l.IssuedAt and l.ExpiresAt set, RevokedAt and RevokedBy empty.
func (s *Store) Put(ctx context.Context, l lease.Lease) error {
	if err := lease.ValidateNew(l); err != nil {
		return fmt.Errorf("put lease %q: %w", l.ID, err)
	}
	n, err := s.exec(ctx, `INSERT INTO jit_leases (`+columns+`, prev_state, claimed_at)
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
	l, err := scanLease(s.pool.QueryRow(ctx, `SELECT `+columns+` FROM jit_leases WHERE id = $1`, id))
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
	var (
		where []string
		args  []any
	)
	cond := func(expr string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(expr, "?", "$"+strconv.Itoa(len(args))))
	}
	eq := func(col, v string) {
		if v != "" {
			cond(col+" = ?", v)
		}
	}
	if len(f.States) > 0 {
		states := make([]string, len(f.States))
		for i, st := range f.States {
			states[i] = string(st)
		}
		cond("state = ANY (?)", states)
	}
	eq("issuer", f.Issuer)
	eq("subject", f.Subject)
	eq("job_issuer", f.Job.Issuer)
	eq("job_provider", f.Job.Provider)
	eq("job_repository", f.Job.Repository)
	eq("job_run_id", f.Job.RunID)
	eq("job_attempt", f.Job.Attempt)
	eq("job_id", f.Job.JobID)
	if f.PR != 0 {
		cond("pr = ?", int64(f.PR))
	}
	if !f.ExpiresBefore.IsZero() {
		cond("expires_at < ?", lease.ClampNanos(f.ExpiresBefore))
	}
	if !f.IssuedBefore.IsZero() {
		cond("issued_at < ?", lease.ClampNanos(f.IssuedBefore))
	}
	q := `SELECT ` + columns + ` FROM jit_leases`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY issued_at, id`

	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list leases in %s: %w", s.where, err)
	}
	defer rows.Close()
	var out []lease.Lease
	for rows.Next() {
		l, err := scanLease(rows)
		if err != nil {
			return nil, fmt.Errorf("list leases in %s: %w", s.where, err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list leases in %s: %w", s.where, err)
	}
	return out, nil
}

// scanLease reads one row of columns.
func scanLease(row pgx.Row) (lease.Lease, error) {
	var (
		l                           lease.Lease
		pr, serial, issued, expires int64
		state                       string
		revokedAt                   *int64
	)
	err := row.Scan(&l.ID, &l.Issuer, &l.Role, &l.Subject,
		&l.Job.Issuer, &l.Job.Provider, &l.Job.Repository, &l.Job.RunID, &l.Job.Attempt, &l.Job.JobID, &pr,
		&serial, &l.Credential.KeyID, &l.Credential.SessionName,
		&l.Credential.AssumedRoleID, &l.Credential.RoleName,
		&l.DecisionID, &state, &issued, &expires, &revokedAt, &l.RevokedBy)
	if err != nil {
		return lease.Lease{}, err
	}
	l.PR = int(pr)
	l.Credential.Serial = uint64(serial)
	l.State = lease.State(state)
	l.IssuedAt = time.Unix(0, issued).UTC()
	l.ExpiresAt = time.Unix(0, expires).UTC()
	if revokedAt != nil {
		l.RevokedAt = time.Unix(0, *revokedAt).UTC()
	}
	return l, nil
}
