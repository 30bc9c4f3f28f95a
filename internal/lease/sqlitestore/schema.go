package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations[i] takes the schema from version i to version i+1. Append to
// it; never edit a released step.
var migrations = []string{
	// 1: leases and used tokens.
	`CREATE TABLE leases (
		id              TEXT PRIMARY KEY NOT NULL,
		issuer          TEXT NOT NULL,
		role            TEXT NOT NULL,
		subject         TEXT NOT NULL,
		job_repository  TEXT NOT NULL,
		job_run_id      TEXT NOT NULL,
		job_attempt     TEXT NOT NULL,
		job_id          TEXT NOT NULL,
		pr              INTEGER NOT NULL,
		cred_serial     INTEGER NOT NULL, -- uint64 stored as its int64 bit pattern
		cred_key_id     TEXT NOT NULL,
		cred_session    TEXT NOT NULL,
		cred_role_id    TEXT NOT NULL,
		cred_role_name  TEXT NOT NULL,
		decision_id     TEXT NOT NULL,
		state           TEXT NOT NULL CHECK (state IN ('pending', 'active', 'revoking', 'revoked')),
		prev_state      TEXT,    -- state before the claim, while revoking
		claimed_at      INTEGER, -- unix ns of the current claim, while revoking
		issued_at       INTEGER NOT NULL, -- unix ns, UTC
		expires_at      INTEGER NOT NULL,
		revoked_at      INTEGER,
		revoked_by      TEXT NOT NULL
	) STRICT;
	CREATE INDEX leases_issued ON leases (issued_at, id);
	CREATE INDEX leases_state_expires ON leases (state, expires_at);
	CREATE INDEX leases_job ON leases (job_repository, job_run_id, job_attempt);
	CREATE INDEX leases_pr ON leases (pr) WHERE pr <> 0;
	CREATE TABLE used_tokens (
		key        TEXT PRIMARY KEY NOT NULL,
		used_at    INTEGER NOT NULL,
		expires_at INTEGER NOT NULL
	) STRICT;
	CREATE INDEX used_tokens_expires ON used_tokens (expires_at);`,
	// 2: the job's CI provider ("github", "gitlab"; '' for leases of
	// older versions and for leases without a job).
	`ALTER TABLE leases ADD COLUMN job_provider TEXT NOT NULL DEFAULT '';`,
	// 3: the OIDC issuer (iss) of the job's token ('' for leases of older
	// versions and for leases without a job).
	`ALTER TABLE leases ADD COLUMN job_issuer TEXT NOT NULL DEFAULT '';`,
}

// schemaVersion is the schema version this package writes.
var schemaVersion = len(migrations)

// migrate creates the schema or brings it up to schemaVersion, in one
// transaction, so that concurrent Opens of a new file migrate it once.
func (s *Store) migrate(ctx context.Context) error {
	return s.write(ctx, func(ctx context.Context, tx *wtx) error {
		if err := tx.ExecScript(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL) STRICT`); err != nil {
			return fmt.Errorf("create the schema of lease database %s: %w", s.path, err)
		}
		var version int
		err := tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&version)
		switch {
		case err == sql.ErrNoRows:
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
				return fmt.Errorf("create the schema of lease database %s: %w", s.path, err)
			}
		case err != nil:
			return fmt.Errorf("read the schema version of lease database %s: %w", s.path, err)
		}
		if version > schemaVersion {
			return fmt.Errorf("lease database %s has schema version %d, newer than this jit-policy understands (%d); upgrade jit-policy", s.path, version, schemaVersion)
		}
		for v := version; v < schemaVersion; v++ {
			if err := tx.ExecScript(ctx, migrations[v]); err != nil {
				return fmt.Errorf("migrate lease database %s from schema version %d to %d: %w", s.path, v, v+1, err)
			}
		}
		if version < schemaVersion {
			if _, err := tx.ExecContext(ctx, `UPDATE schema_version SET version = ?`, schemaVersion); err != nil {
				return fmt.Errorf("record schema version %d in lease database %s: %w", schemaVersion, s.path, err)
			}
		}
		return nil
	})
}
