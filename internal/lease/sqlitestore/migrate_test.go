package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
)

// A database written by schema version 1 (before Job.Provider) opens,
// migrates to the current version, keeps its leases with an empty Provider,
// and then stores providers.
func TestMigrateFromV1(t *testing.T) {
	ctx := context.Background()
	path, db := oldDatabase(t, 1)
	issued := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	_, err := db.ExecContext(ctx, `INSERT INTO leases (id, issuer, role, subject,
		job_repository, job_run_id, job_attempt, job_id, pr,
		cred_serial, cred_key_id, cred_session, cred_role_id, cred_role_name,
		decision_id, state, issued_at, expires_at, revoked_by)
		VALUES ('old', 'ssh', 'deploy', 'alice', 'acme/app', '7', '1', '99', 0,
		5, 'jit/old', '', '', '', 'd1', 'active', ?, ?, '')`,
		issued.UnixNano(), issued.Add(time.Hour).UnixNano())
	if err != nil {
		t.Fatalf("inserting a version 1 lease: %v", err)
	}
	db.Close()

	s := open(t, path)
	defer s.Close()
	checkCurrentVersion(t, s)
	old, err := s.Get(ctx, "old")
	if err != nil {
		t.Fatalf("Get of a version 1 lease: %v", err)
	}
	want := lease.Job{Repository: "acme/app", RunID: "7", Attempt: "1", JobID: "99"}
	if old.Job != want || old.State != lease.Active || !old.IssuedAt.Equal(issued) {
		t.Errorf("version 1 lease after migration = %+v, want job %+v, active, issued %v", old, want, issued)
	}

	l := testLease("new")
	l.Job.Provider = "gitlab"
	if err := s.Put(ctx, l); err != nil {
		t.Fatalf("Put after migration: %v", err)
	}
	got, err := s.List(ctx, lease.Filter{Job: lease.Job{Provider: "gitlab"}})
	if err != nil || len(got) != 1 || got[0].ID != "new" {
		t.Errorf("List(provider gitlab) after migration = %v, %v; want lease new", got, err)
	}
}

// A database written by schema version 2 (before Job.Issuer) opens,
// migrates in place to the current version, gains the job_issuer column,
// keeps its leases with an empty Job.Issuer, and then stores issuers.
func TestMigrateFromV2(t *testing.T) {
	ctx := context.Background()
	path, db := oldDatabase(t, 2)
	issued := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	_, err := db.ExecContext(ctx, `INSERT INTO leases (id, issuer, role, subject,
		job_provider, job_repository, job_run_id, job_attempt, job_id, pr,
		cred_serial, cred_key_id, cred_session, cred_role_id, cred_role_name,
		decision_id, state, issued_at, expires_at, revoked_by)
		VALUES ('old', 'ssh', 'deploy', 'alice', 'github', 'acme/app', '7', '1', '99', 0,
		5, 'jit/old', '', '', '', 'd1', 'active', ?, ?, '')`,
		issued.UnixNano(), issued.Add(time.Hour).UnixNano())
	if err != nil {
		t.Fatalf("inserting a version 2 lease: %v", err)
	}
	var hasIssuer int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('leases') WHERE name = 'job_issuer'`).Scan(&hasIssuer); err != nil || hasIssuer != 0 {
		t.Fatalf("version 2 database has job_issuer: %d, %v", hasIssuer, err)
	}
	db.Close()

	s := open(t, path)
	defer s.Close()
	checkCurrentVersion(t, s)
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('leases') WHERE name = 'job_issuer'`).Scan(&hasIssuer); err != nil || hasIssuer != 1 {
		t.Errorf("job_issuer columns after migration = %d, %v; want 1", hasIssuer, err)
	}
	old, err := s.Get(ctx, "old")
	if err != nil {
		t.Fatalf("Get of a version 2 lease: %v", err)
	}
	want := lease.Job{Provider: "github", Repository: "acme/app", RunID: "7", Attempt: "1", JobID: "99"}
	if old.Job != want || old.State != lease.Active || !old.IssuedAt.Equal(issued) {
		t.Errorf("version 2 lease after migration = %+v, want job %+v, active, issued %v", old, want, issued)
	}

	l := testLease("new")
	l.Job.Issuer = "https://token.actions.githubusercontent.com"
	if err := s.Put(ctx, l); err != nil {
		t.Fatalf("Put after migration: %v", err)
	}
	if got, err := s.Get(ctx, "new"); err != nil || got.Job.Issuer != l.Job.Issuer {
		t.Errorf("Get(new) after migration: Job.Issuer %q, %v; want %q", got.Job.Issuer, err, l.Job.Issuer)
	}
	got, err := s.List(ctx, lease.Filter{Job: lease.Job{Issuer: l.Job.Issuer}})
	if err != nil || len(got) != 1 || got[0].ID != "new" {
		t.Errorf("List(job issuer) after migration = %v, %v; want lease new", got, err)
	}
	s.Close()

	// Reopening the migrated database migrates nothing more.
	s2 := open(t, path)
	defer s2.Close()
	if got, err := s2.Get(ctx, "old"); err != nil || got.Job != want {
		t.Errorf("Get(old) after reopening = %+v, %v; want job %+v", got.Job, err, want)
	}
}

// oldDatabase creates a lease database at schema version, as that version
// of this package wrote it, and returns its path and an open handle.
func oldDatabase(t *testing.T, version int) (string, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "leases.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	steps := append([]string{
		`CREATE TABLE schema_version (version INTEGER NOT NULL) STRICT`,
		fmt.Sprintf(`INSERT INTO schema_version (version) VALUES (%d)`, version),
	}, migrations[:version]...)
	for _, q := range steps {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("creating a version %d database: %v", version, err)
		}
	}
	return path, db
}

// checkCurrentVersion checks that s's database is at schemaVersion.
func checkCurrentVersion(t *testing.T, s *Store) {
	t.Helper()
	var version int
	if err := s.db.QueryRow(`SELECT version FROM schema_version`).Scan(&version); err != nil || version != schemaVersion {
		t.Errorf("schema version after Open = %d, %v; want %d", version, err, schemaVersion)
	}
}
