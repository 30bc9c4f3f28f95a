// Package sqlitestore keeps leases in a SQLite database file: the store behind
// the configuration's default `leases: file://PATH`.
//
// Why SQLite in WAL mode: the post step, `jit-policy revoke` and `sweep` may
// run as separate processes on one runner at the same moment, and the lease
// record must survive a crash (a lost lease is a credential nobody revokes).
// SQLite gives durable, transactional storage in one file with no server to
// run; write-ahead logging lets readers proceed while one writer commits, and
// every read-modify-write (Put, Activate, Claim, Release, MarkRevoked,
// UseToken) runs in a BEGIN IMMEDIATE transaction, so it takes the database's
// single write lock before it reads. Two processes claiming the same lease
// are therefore serialised by SQLite's file locks, and exactly one wins. A
// writer waits up to five seconds (busy_timeout) for another. Within one
// process, concurrent writes share transactions (group commit, commit.go):
// one fsync makes many of them durable.
//
// Its limit: one machine. SQLite's locks need a local filesystem (not NFS or
// a volume shared between hosts), so the file cannot coordinate many runners
// or a fleet of brokers. The store shared by many runners is PostgreSQL
// (package pgstore).
//
// The file is created 0600 in a directory created 0700 (SQLite gives its -wal
// and -shm files the database file's mode). Times are stored as integer Unix
// nanoseconds in UTC, NULL for a zero time. The schema is created, or
// migrated, when the store is opened; its version is kept in schema_version.
package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"

	"modernc.org/sqlite" // also registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"
)

// BusyTimeout is how long an operation waits for another connection or
// process that holds the database's write lock before it fails.
const BusyTimeout = 5 * time.Second

// Store is a lease.Store and lease.ReplayGuard in one SQLite file. It is safe
// for concurrent use by many goroutines and by several processes that open
// the same file.
type Store struct {
	db   *sql.DB
	path string
	// ops hands writes to the committer goroutine (commitLoop), which runs
	// them in batches; this process's writers thus queue here instead of in
	// SQLite's busy handler, which polls with sleeps. Other processes are
	// kept out by SQLite's own lock.
	ops chan *op
	// handing holds a read lock while a writer hands its op over, and
	// Close the write lock while it sets closed, so that Close lets every
	// writer already waiting hand its op over (and have it committed) first.
	handing   sync.RWMutex
	closed    bool
	closing   chan struct{} // closed by Close: the committer stops
	stopped   chan struct{} // closed by the committer when it has stopped
	closeOnce sync.Once
	closeErr  error
	stats     commitStats
}

var (
	_ lease.Store       = (*Store)(nil)
	_ lease.ReplayGuard = (*Store)(nil)
)

// Open opens the lease database at path, a filesystem path (the PATH of
// `file://PATH`), creating it, its parent directory and its schema if need
// be, and migrating an older schema. The caller must Close the store.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("open lease database: empty path; set leases: file://PATH in jit-policy.yaml")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open lease database %s: %w", path, err)
	}
	if err := createFile(abs); err != nil {
		return nil, err
	}

	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
	// FULL: a committed lease survives a power loss, not only a crash.
	q.Add("_pragma", "synchronous(FULL)")
	q.Set("_txlock", "immediate") // every BeginTx is BEGIN IMMEDIATE
	dsn := (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}).String()

	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open lease database %s: %w", abs, err)
	}
	s := &Store{
		db: db, path: abs,
		ops:     make(chan *op), // unbuffered: a queued op is one the committer can take
		closing: make(chan struct{}),
		stopped: make(chan struct{}),
	}
	go s.commitLoop()
	if err := s.init(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// createFile makes the database file's parent directory (0700) and the file
// itself (0600) unless they exist, so that SQLite never creates them with
// the process's default modes.
func createFile(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create the lease database directory %s: %w; create it or choose another leases: path", dir, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open lease database %s: %w; check that it is a writable file", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("create lease database %s: %w", path, err)
	}
	return nil
}

// init switches the database to WAL mode and brings its schema up to date.
func (s *Store) init(ctx context.Context) error {
	if err := s.enableWAL(ctx); err != nil {
		return err
	}
	return s.migrate(ctx)
}

// enableWAL puts the database in WAL mode, a property of the file that
// stays once set. Switching needs the file to itself and SQLite reports
// SQLITE_BUSY at once, without waiting, if another connection has it open
// (say a second process opening a new file at the same moment), so the
// switch is retried until BusyTimeout.
func (s *Store) enableWAL(ctx context.Context) error {
	deadline := time.Now().Add(BusyTimeout)
	for {
		var mode string
		err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode)
		if err == nil && mode != "wal" {
			err = s.db.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode)
		}
		switch {
		case err == nil && mode == "wal":
			return nil
		case err == nil:
			// A filesystem that cannot hold the shared-memory index keeps the
			// old mode.
			return fmt.Errorf("open lease database %s: journal mode is %q, not wal; keep the file on a local filesystem", s.path, mode)
		case !isBusy(err) || time.Now().After(deadline):
			return fmt.Errorf("open lease database %s: switching to WAL mode: %w; is it a SQLite file on a local filesystem, not held by another program?", s.path, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("open lease database %s: %w", s.path, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// isBusy reports whether err is SQLite's SQLITE_BUSY or SQLITE_LOCKED (or
// one of their extended codes).
func isBusy(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	code := e.Code() & 0xff
	return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
}

// Path returns the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// Close drains the writes in progress (they are committed or fail as usual),
// stops the committer and closes the database. Writes begun after Close
// fail without being applied. Close is idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.handing.Lock()
		s.closed = true
		s.handing.Unlock()
		close(s.closing)
		<-s.stopped
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("close lease database %s: %w", s.path, err)
		}
	})
	return s.closeErr
}
