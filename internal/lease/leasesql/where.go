package leasesql

import (
	"github.com/jit-policy/jit-policy/internal/lease"
	"strings"
)

// Where returns the WHERE clause, with a leading space, that selects the
// rows of Columns matching f, and its arguments; "" and none when f matches
// everything. placeholder spells the nth argument, counting from 1: "$1" in
// PostgreSQL, "?" in SQLite. Times are Unix nanoseconds, clamped.
func Where(f lease.Filter, placeholder func(n int) string) (string, []any) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return placeholder(len(args))
	}
	eq := func(col, v string) {
		if v != "" {
			where = append(where, col+" = "+arg(v))
		}
	}
	if len(f.States) > 0 {
		in := make([]string, len(f.States))
		for i, st := range f.States {
			in[i] = arg(string(st))
		}
		where = append(where, "state IN ("+strings.Join(in, ", ")+")")
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
		where = append(where, "pr = "+arg(int64(f.PR)))
	}
	if !f.ExpiresBefore.IsZero() {
		where = append(where, "expires_at < "+arg(lease.ClampNanos(f.ExpiresBefore)))
	}
	if !f.ExpiresAfter.IsZero() {
		where = append(where, "expires_at >= "+arg(lease.ClampNanos(f.ExpiresAfter)))
	}
	if !f.IssuedBefore.IsZero() {
		where = append(where, "issued_at < "+arg(lease.ClampNanos(f.IssuedBefore)))
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), args
}
