package pgstore

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/lease/leasetest"
	"github.com/jit-policy/jit-policy/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func open(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestContract(t *testing.T) {
	leasetest.Run(t, func(t *testing.T) lease.Store {
		return open(t, pgtest.NewDatabase(t))
	})
}

func testLease(id string) lease.Lease {
	now := time.Now()
	return lease.Lease{
		ID: id, Issuer: "ssh", Role: "deploy", Subject: "alice",
		Job:        lease.Job{Provider: "github", Repository: "acme/app", RunID: "1", Attempt: "1"},
		Credential: lease.Credential{Serial: 42, KeyID: "jit/" + id},
		IssuedAt:   now, ExpiresAt: now.Add(time.Hour),
	}
}

// A second Store on the database (another process, later) sees the leases,
// the claim and its earlier state, and the spent tokens.
func TestReopenKeepsData(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	leasetest.ReopenKeepsData(t, func(t *testing.T) leasetest.GuardedStore { return open(t, dsn) })
}

// Concurrent Opens of a new database migrate it once.
func TestConcurrentOpen(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	stores := leasetest.ConcurrentOpen(t, func() (*Store, error) { return Open(ctx, dsn) })
	if stores[0] == nil {
		t.FailNow()
	}
	var rows, version int
	err := stores[0].pool.QueryRow(ctx, `SELECT count(*), max(version) FROM jit_schema_version`).Scan(&rows, &version)
	if err != nil || rows != 1 || version != schemaVersion {
		t.Errorf("jit_schema_version: %d rows, version %d, %v; want 1 row, version %d", rows, version, err, schemaVersion)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	s := open(t, dsn)
	if _, err := s.pool.Exec(ctx, `UPDATE jit_schema_version SET version = 99`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	leasetest.NewerSchemaRefused(t, func() (lease.Store, error) { return Open(ctx, dsn) })
}

// Times and serials are stored as sqlitestore stores them: bigint Unix
// nanoseconds and the serial's int64 bit pattern.
func TestStorage(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtest.NewDatabase(t))
	defer s.Close()
	l := testLease("a")
	l.IssuedAt = time.Date(2026, 11, 28, 10, 0, 0, 123456789, time.UTC)
	l.Credential.Serial = 1<<63 + 1
	if err := s.Put(ctx, l); err != nil {
		t.Fatal(err)
	}
	var issued, serial int64
	if err := s.pool.QueryRow(ctx, `SELECT issued_at, cred_serial FROM jit_leases`).Scan(&issued, &serial); err != nil {
		t.Fatal(err)
	}
	if issued != l.IssuedAt.UnixNano() || serial != -1<<63+1 {
		t.Errorf("stored issued_at %d, cred_serial %d; want %d, %d", issued, serial, l.IssuedAt.UnixNano(), int64(-1<<63+1))
	}
}

// No error shows the password or the connection string.
func TestErrorsHideThePassword(t *testing.T) {
	ctx := context.Background()
	u, err := url.Parse(pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	password, _ := u.User.Password()
	check := func(what string, err error, secrets ...string) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: no error, want one", what)
			return
		}
		for _, secret := range secrets {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: error %q shows %q", what, err, secret)
			}
		}
	}

	wrong := *u
	wrong.User = url.UserPassword(pgtest.Role, "Wr0ng-pa55word")
	_, err = Open(ctx, wrong.String())
	check("wrong password", err, "Wr0ng-pa55word", wrong.String())

	noDB := *u
	noDB.Path = "/no_such_database"
	_, err = Open(ctx, noDB.String())
	check("unknown database", err, password, noDB.String())

	for _, bad := range []string{
		"postgres://jit:S3cret-x@127.0.0.1:notaport/jit",
		"postgres://jit:S3cret-x@[::1/jit",
		"host=127.0.0.1 password=S3cret-x port=x",
		"host=127.0.0.1 password='S3cret-x",
	} {
		_, err := Open(ctx, bad)
		check("unparsable "+bad, err, "S3cret-x")
	}

	s := open(t, u.String())
	s.Close()
	_, err = s.Get(ctx, "a")
	check("Get after Close", err, password, u.String())
}
