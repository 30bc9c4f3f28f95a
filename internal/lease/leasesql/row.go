package leasesql

import (
	"fmt"
	"github.com/jit-policy/jit-policy/internal/lease"
	"time"
)

// Columns lists the columns of a lease row, as both SQL stores name them, in
// the order Row.Dest scans them.
const Columns = `id, issuer, role, subject,
	job_issuer, job_provider, job_repository, job_run_id, job_attempt, job_id, pr,
	cred_serial, cred_key_id, cred_session, cred_role_id, cred_role_name,
	decision_id, state, issued_at, expires_at, revoked_at, revoked_by`

// Row holds one lease row's column values as the SQL stores keep them: the
// text columns in Text's fields, times as Unix nanoseconds, the serial as
// its int64 bit pattern and revoked_at NULL (nil) until the lease is revoked.
type Row struct {
	Text      lease.Lease // the text columns; its other fields stay zero
	PR        int64
	Serial    int64 // the serial's bit pattern
	State     string
	IssuedAt  int64  // Unix nanoseconds
	ExpiresAt int64  // Unix nanoseconds
	RevokedAt *int64 // Unix nanoseconds; nil while not revoked
}

// Dest returns pointers to r's fields in Columns order, for a Scan.
func (r *Row) Dest() []any {
	t := &r.Text
	return []any{&t.ID, &t.Issuer, &t.Role, &t.Subject,
		&t.Job.Issuer, &t.Job.Provider, &t.Job.Repository, &t.Job.RunID, &t.Job.Attempt, &t.Job.JobID, &r.PR,
		&r.Serial, &t.Credential.KeyID, &t.Credential.SessionName,
		&t.Credential.AssumedRoleID, &t.Credential.RoleName,
		&t.DecisionID, &r.State, &r.IssuedAt, &r.ExpiresAt, &r.RevokedAt, &t.RevokedBy}
}

// Lease returns the lease that r records, its times in UTC.
func (r Row) Lease() lease.Lease {
	l := r.Text
	l.PR = int(r.PR)
	l.Credential.Serial = uint64(r.Serial)
	l.State = lease.State(r.State)
	l.IssuedAt = time.Unix(0, r.IssuedAt).UTC()
	l.ExpiresAt = time.Unix(0, r.ExpiresAt).UTC()
	if r.RevokedAt != nil {
		l.RevokedAt = time.Unix(0, *r.RevokedAt).UTC()
	}
	return l
}

// Scanner is one result row of Columns: a *sql.Row or *sql.Rows, a pgx.Row
// or pgx.Rows.
type Scanner interface {
	Scan(dest ...any) error
}

// Rows is a query's result of rows of Columns: a *sql.Rows or pgx.Rows.
type Rows interface {
	Scanner
	Next() bool
	Err() error
}

// ScanLease reads one row of Columns. Its error wraps Scan's, so a caller
// can test it for its driver's no-rows error.
func ScanLease(row Scanner) (lease.Lease, error) {
	var r Row
	if err := row.Scan(r.Dest()...); err != nil {
		return lease.Lease{}, fmt.Errorf("read a lease row: %w", err)
	}
	return r.Lease(), nil
}

// ScanClaimed reads one row of Columns followed by claimed_at (Unix
// nanoseconds), as a claim's RETURNING gives it: the lease with ClaimedAt
// set, in UTC. Its error wraps Scan's, as ScanLease's does.
func ScanClaimed(row Scanner) (lease.Lease, error) {
	var (
		r         Row
		claimedAt int64
	)
	if err := row.Scan(append(r.Dest(), &claimedAt)...); err != nil {
		return lease.Lease{}, fmt.Errorf("read a claimed lease row: %w", err)
	}
	l := r.Lease()
	l.ClaimedAt = time.Unix(0, claimedAt).UTC()
	return l, nil
}

// ScanLeases reads every row of rows, in order; the caller closes rows.
func ScanLeases(rows Rows) ([]lease.Lease, error) {
	var out []lease.Lease
	for rows.Next() {
		l, err := ScanLease(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the lease rows: %w", err)
	}
	return out, nil
}
