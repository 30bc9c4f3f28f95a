package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// migrations[i] takes the schema from version i to version i+1. Append to
// it; never edit a released step.
var migrations = []string{
	// 1: leases and used tokens (the columns of sqlitestore's schema 2).
	`CREATE TABLE jit_leases (
		id              text COLLATE "C" PRIMARY KEY, -- List orders by bytes, as SQLite does
		issuer          text NOT NULL,
		role            text NOT NULL,
		subject         text NOT NULL,
		job_provider    text NOT NULL,
		job_repository  text NOT NULL,
		job_run_id      text NOT NULL,
		job_attempt     text NOT NULL,
		job_id          text NOT NULL,
		pr              bigint NOT NULL,
		cred_serial     bigint NOT NULL, -- uint64 stored as its int64 bit pattern
		cred_key_id     text NOT NULL,
		cred_session    text NOT NULL,
		cred_role_id    text NOT NULL,
		cred_role_name  text NOT NULL,
		decision_id     text NOT NULL,
		state           text NOT NULL CHECK (state IN ('pending', 'active', 'revoking', 'revoked')),
		prev_state      text CHECK (prev_state IN ('pending', 'active')), -- while revoking
		claimed_at      bigint, -- unix ns of the current claim (database clock), while revoking
		issued_at       bigint NOT NULL, -- unix ns, UTC
		expires_at      bigint NOT NULL,
		revoked_at      bigint,
		revoked_by      text NOT NULL
	);
	CREATE INDEX jit_leases_issued ON jit_leases (issued_at, id);
	CREATE INDEX jit_leases_state_expires ON jit_leases (state, expires_at);
	CREATE INDEX jit_leases_job ON jit_leases (job_repository, job_run_id, job_attempt);
	CREATE INDEX jit_leases_pr ON jit_leases (pr) WHERE pr <> 0;
	CREATE TABLE jit_used_tokens (
		key        text COLLATE "C" PRIMARY KEY,
		used_at    bigint NOT NULL, -- unix ns, database clock
		expires_at bigint NOT NULL
	);
	CREATE INDEX jit_used_tokens_expires ON jit_used_tokens (expires_at);`,
	// 2: the OIDC issuer (iss) of the job's token ('' for leases of older
	// versions and for leases without a job; sqlitestore's schema 3).
	`ALTER TABLE jit_leases ADD COLUMN job_issuer text NOT NULL DEFAULT '';`,
}

// schemaVersion is the schema version this package writes.
var schemaVersion = len(migrations)

// schemaLock is the key of the advisory lock (scoped to the database) that
// serialises migrations.
const schemaLock int64 = 0x6a69742d6c6561 // "jit-lea"

// migrate creates the schema or brings it up to schemaVersion in one
// transaction, under schemaLock, so that concurrent Opens of a new
// database migrate it once and the others find it done.
func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migrate lease database %s: %w", s.where, err)
	}
	defer tx.Rollback(ctx) // a no-op after Commit
	if err := s.migrateTx(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate lease database %s: commit: %w", s.where, err)
	}
	return nil
}

func (s *Store) migrateTx(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, schemaLock); err != nil {
		return fmt.Errorf("lock the schema of lease database %s: %w", s.where, err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS jit_schema_version (version integer NOT NULL)`); err != nil {
		return fmt.Errorf("create the schema of lease database %s: %w; the role needs CREATE on the schema", s.where, err)
	}
	var version int
	err := tx.QueryRow(ctx, `SELECT version FROM jit_schema_version`).Scan(&version)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		if _, err := tx.Exec(ctx, `INSERT INTO jit_schema_version (version) VALUES (0)`); err != nil {
			return fmt.Errorf("create the schema of lease database %s: %w", s.where, err)
		}
	case err != nil:
		return fmt.Errorf("read the schema version of lease database %s: %w", s.where, err)
	}
	if version > schemaVersion {
		return fmt.Errorf("lease database %s has schema version %d, newer than this jit-policy understands (%d); upgrade jit-policy", s.where, version, schemaVersion)
	}
	for v := version; v < schemaVersion; v++ {
		if _, err := tx.Exec(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migrate lease database %s from schema version %d to %d: %w; the role needs CREATE on the schema", s.where, v, v+1, err)
		}
	}
	if version < schemaVersion {
		if _, err := tx.Exec(ctx, `UPDATE jit_schema_version SET version = $1`, schemaVersion); err != nil {
			return fmt.Errorf("record schema version %d in lease database %s: %w", schemaVersion, s.where, err)
		}
	}
	return nil
}
