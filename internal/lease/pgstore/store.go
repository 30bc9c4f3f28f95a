// Package pgstore keeps leases in PostgreSQL: the store behind the
// configuration's `leases: postgres://…`, shared by every runner, broker,
// `revoke` and `sweep` that points at the same database.
//
// It mirrors sqlitestore's semantics exactly (the leasetest contract suite
// pins them); what differs is how it is safe for many processes on many
// machines at once. Every operation is one atomic statement (Put: INSERT …
// ON CONFLICT DO NOTHING; Activate, Claim, Release, MarkRevoked: one UPDATE
// … WHERE state = … RETURNING), so PostgreSQL's row locks decide races: of
// two concurrent Claims of a lease the second waits for the first to
// commit, re-checks its WHERE on the updated row and matches nothing, so
// exactly one revoker wins. A claim records claimed_at on the database's
// clock, so a claim older than staleAfter is judged by one clock however
// skewed the revokers' clocks are. UseToken is an INSERT … ON CONFLICT DO
// UPDATE that only takes over an expired key, so a token is spent once
// across all runners; expired keys are pruned in batches with FOR UPDATE
// SKIP LOCKED, so concurrent pruners never wait on each other.
//
// Times are stored as bigint Unix nanoseconds in UTC (NULL for a zero
// time), exactly as sqlitestore stores them, so both stores round-trip
// times and validate their range (the years 1678-2262) alike;
// Credential.Serial is stored as its int64 bit pattern.
//
// The tables are jit_leases, jit_used_tokens and jit_schema_version; they
// may share a database with other applications. Open creates or migrates
// them under a transaction-scoped advisory lock, so concurrent Opens of a
// new database migrate it once. The role needs CREATE on the schema for
// the first Open (and each upgrade) and SELECT, INSERT, UPDATE, DELETE on
// the tables after.
//
// Errors name the database as user@host:port/database, never the password
// or the connection string.
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jit-policy/jit-policy/internal/lease"
)

// DefaultMaxConns is the pool size unless the connection string sets
// pool_max_conns. Connections open only when needed.
const DefaultMaxConns = 16

// ConnectTimeout bounds each connection attempt unless the connection
// string sets connect_timeout.
const ConnectTimeout = 10 * time.Second

// Store is a lease.Store and lease.ReplayGuard in a PostgreSQL database. It
// is safe for concurrent use by many goroutines, processes and machines.
type Store struct {
	pool  *pgxpool.Pool
	where string // user@host:port/database, for messages
	// prunedAt is when this Store last pruned expired tokens (Unix ns).
	prunedAt atomic.Int64
}

var (
	_ lease.Store       = (*Store)(nil)
	_ lease.ReplayGuard = (*Store)(nil)
)

// Open connects to the database that dsn names (a postgres:// URL or
// key=value string, as libpq takes) and creates or migrates the schema.
// The caller must Close the store.
func Open(ctx context.Context, dsn string) (*Store, error) {
	if strings.TrimSpace(dsn) == "" {
		return nil, errors.New("open lease database: empty PostgreSQL connection string; set leases: postgres://USER:PASSWORD@HOST:PORT/DATABASE in jit-policy.yaml")
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, parseError{err}
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = max(cfg.MaxConns, DefaultMaxConns)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = ConnectTimeout
	}
	c := cfg.ConnConfig
	where := fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open lease database %s: %w", where, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to lease database %s: %w; check the host, the user and the password in the leases: setting of jit-policy.yaml", where, err)
	}
	s := &Store{pool: pool, where: where}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// parseError is a connection string that did not parse. Its message omits
// the string and the parser's message, which quote it (and its password);
// Unwrap gives the parser's error.
type parseError struct{ err error }

func (e parseError) Error() string {
	return "open lease database: the PostgreSQL connection string in leases: does not parse " +
		"(not shown: it holds a password); want postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=verify-full"
}

func (e parseError) Unwrap() error { return e.err }

// Where names the database as user@host:port/database.
func (s *Store) Where() string { return s.where }

// Close closes the store's connections; operations in progress fail.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// nowNS is the database's clock in Unix nanoseconds (to the microsecond),
// fixed for the statement.
const nowNS = `((extract(epoch FROM statement_timestamp()) * 1000000)::bigint * 1000)`

// exec runs one statement and returns how many rows it changed.
func (s *Store) exec(ctx context.Context, sql string, args ...any) (int64, error) {
	tag, err := s.pool.Exec(ctx, sql, args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

// stateOf reads the state of lease id; pgx.ErrNoRows if there is none.
func (s *Store) stateOf(ctx context.Context, id string) (lease.State, error) {
	var state string
	err := s.pool.QueryRow(ctx, `SELECT state FROM jit_leases WHERE id = $1`, id).Scan(&state)
	return lease.State(state), err
}

// notIn explains why an update of lease id, which required state want,
// changed nothing: the lease is missing or in another state. Both are
// ErrNotFound.
func (s *Store) notIn(ctx context.Context, op, id string, want lease.State) error {
	state, err := s.stateOf(ctx, id)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("%s lease %q: %w in %s", op, id, lease.ErrNotFound, s.where)
	case err != nil:
		return fmt.Errorf("%s lease %q: reading its state from %s: %w", op, id, s.where, err)
	}
	return fmt.Errorf("%s lease %q: it is %s, not %s: %w", op, id, state, want, lease.ErrNotFound)
}
