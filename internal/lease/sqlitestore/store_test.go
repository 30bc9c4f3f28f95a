package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/lease/leasetest"
)

func open(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return s
}

func TestContract(t *testing.T) {
	leasetest.Run(t, func(t *testing.T) lease.Store {
		return open(t, filepath.Join(t.TempDir(), "leases.db"))
	})
}

func testLease(id string) lease.Lease {
	now := time.Now()
	return lease.Lease{
		ID: id, Issuer: "ssh", Role: "deploy", Subject: "alice",
		Job:        lease.Job{Repository: "acme/app", RunID: "1", Attempt: "1"},
		Credential: lease.Credential{Serial: 42, KeyID: "jit/" + id},
		IssuedAt:   now, ExpiresAt: now.Add(time.Hour),
	}
}

// A second Store on the file (another process, later) sees the leases, the
// claim and its earlier state, and the spent tokens.
func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "leases.db")
	leasetest.ReopenKeepsData(t, func(t *testing.T) leasetest.GuardedStore { return open(t, path) })
}

func TestFileModesAndWAL(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "state", ".jit")
	path := filepath.Join(dir, "leases.db")
	s := open(t, path)
	defer s.Close()
	if err := s.Put(ctx, testLease("a")); err != nil {
		t.Fatalf("Put: %v", err)
	}

	if fi, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	} else if m := fi.Mode().Perm(); m != 0o700 {
		t.Errorf("directory mode %v, want 0700", m)
	}
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Errorf("stat %s: %v", name, err)
			continue
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s mode %v, want 0600", filepath.Base(name), m)
		}
	}

	var mode string
	var timeout int
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	if err := s.db.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&timeout); err != nil || timeout != 5000 {
		t.Errorf("busy_timeout = %d, %v; want 5000", timeout, err)
	}
	var stored int64
	if err := s.db.QueryRowContext(ctx, "SELECT issued_at FROM leases WHERE id = 'a'").Scan(&stored); err != nil {
		t.Errorf("issued_at is not an integer: %v", err)
	}
}

func TestPathWithOddCharacters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a dir?x=1#y", "leases%20.db")
	s := open(t, path)
	defer s.Close()
	if err := s.Put(context.Background(), testLease("a")); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the database is not at %s: %v", path, err)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "leases.db")
	open(t, path).Close()

	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE schema_version SET version = 99`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	leasetest.NewerSchemaRefused(t, func() (lease.Store, error) { return Open(context.Background(), path) })
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Open(ctx, ""); err == nil {
		t.Error("Open(\"\") succeeded, want an error")
	}
	dir := t.TempDir()
	if _, err := Open(ctx, dir); err == nil {
		t.Error("Open of a directory succeeded, want an error")
	}
	notDB := filepath.Join(dir, "not.db")
	if err := os.WriteFile(notDB, []byte("this is not a SQLite database, not at all"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(ctx, notDB); err == nil {
		s.Close()
		t.Error("Open of a file that is not SQLite succeeded, want an error")
	}
}

// Concurrent Opens of a new file create and migrate it once.
func TestConcurrentOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "leases.db")
	leasetest.ConcurrentOpen(t, func() (*Store, error) { return Open(context.Background(), path) })
}

// Two Stores on one file share no Go lock: SQLite's lock alone must make
// exactly one Claim win.
func TestTwoStoresOneFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "leases.db")
	s1, s2 := open(t, path), open(t, path)
	defer s1.Close()
	defer s2.Close()

	const leases, workers = 10, 8
	for i := range leases {
		if err := s1.Put(ctx, testLease(string(rune('a'+i)))); err != nil {
			t.Fatal(err)
		}
	}
	var (
		mu   sync.Mutex
		wins = map[string]int{}
		wg   sync.WaitGroup
	)
	for w := range workers {
		s := s1
		if w%2 == 1 {
			s = s2
		}
		wg.Go(func() {
			for i := range leases {
				id := string(rune('a' + i))
				_, err := s.Claim(ctx, id, time.Hour)
				switch {
				case err == nil:
					mu.Lock()
					wins[id]++
					mu.Unlock()
				case !errors.Is(err, lease.ErrClaimed):
					t.Errorf("Claim(%s): %v", id, err)
				}
			}
		})
	}
	wg.Wait()
	for i := range leases {
		if id := string(rune('a' + i)); wins[id] != 1 {
			t.Errorf("lease %s was claimed %d times, want 1", id, wins[id])
		}
	}
}
