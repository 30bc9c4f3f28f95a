// Package pgtest runs a real PostgreSQL server for tests: one per test
// binary, started by the first test that asks for it and shared by the
// package's tests, each of which can take a fresh database of its own.
//
// A package that uses it must run its tests through Main:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// Main stops the server and deletes its files when the tests end. The
// server also cannot outlive the test process when that dies without
// running Main's cleanup (a -timeout panic, SIGKILL): it runs as the
// process's child with a parent-death signal, and the next test binary
// deletes the files such a server left behind.
//
// The server is set up as DESIGN.md's PostgreSQL deployments are: local
// (socket) connections are trusted and administer it as the superuser
// postgres, TCP connections on 127.0.0.1 need a SCRAM password. Tests
// connect as the login role jit, which owns its databases and is no
// superuser. As root, initdb and postgres run as the postgres account
// (they refuse root), so the data directory is chowned to it.
//
// The binaries (initdb, postgres) are looked up in PATH, /usr/local/bin and
// /usr/lib/postgresql/*/bin. Without them tests are skipped, or fail when
// CI=true.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/jit-policy/jit-policy/internal/testproc"
)

// Role is the login role that Start's and NewDatabase's DSNs connect as.
const Role = "jit"

var (
	once    sync.Once
	srv     *server
	srvErr  error
	skipMsg string // set when the binaries are missing

	inMain atomic.Bool  // Main is running the tests
	dbSeq  atomic.Int64 // numbers NewDatabase's databases
)

// Main runs the tests of a package that uses Start, then stops the server
// and removes its files, and exits with the tests' status. Call it from
// TestMain. An interrupt (SIGINT, SIGTERM) also stops the server.
func Main(m *testing.M) {
	inMain.Store(true)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sig
		stop()
		fmt.Fprintf(os.Stderr, "pgtest: %v: stopped PostgreSQL\n", s)
		os.Exit(1)
	}()
	code := m.Run()
	stop()
	os.Exit(code)
}

// Start starts the test binary's PostgreSQL server unless it runs, and
// returns a DSN for the role jit and its database jit:
// postgres://jit:PASSWORD@127.0.0.1:PORT/jit?sslmode=disable. The role
// owns the database and is no superuser; the password is random.
func Start(t testing.TB) (adminDSN string) {
	t.Helper()
	if !inMain.Load() {
		t.Fatal("pgtest: the package must run its tests through pgtest.Main: add func TestMain(m *testing.M) { pgtest.Main(m) }")
	}
	once.Do(func() { srv, srvErr = start() })
	switch {
	case skipMsg != "" && os.Getenv("CI") == "true":
		t.Fatalf("pgtest: %s, and CI=true", skipMsg)
	case skipMsg != "":
		t.Skipf("pgtest: %s", skipMsg)
	case srvErr != nil:
		t.Fatalf("pgtest: %v", srvErr)
	}
	return srv.dsn(Role)
}

// NewDatabase creates a fresh, empty database owned by jit for this test
// and returns its DSN (as Start's, with another database name). The
// database is dropped when the test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	Start(t)
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbSeq.Add(1))
	ctx := context.Background()
	if err := srv.admin(ctx, "creating database "+name, fmt.Sprintf("CREATE DATABASE %s OWNER %s", name, Role)); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.admin(ctx, "dropping database "+name, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name)); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return srv.dsn(name)
}

// server is a running PostgreSQL.
type server struct {
	dir      string // temporary directory; the data directory is dir/data
	data     string // data directory, also the socket directory
	port     int
	password string // Role's
	proc     *os.Process
	exited   <-chan struct{}  // closed when the postmaster exits
	log      *testproc.Buffer // the postmaster's stdout and stderr
}

// dsn returns the URL that connects as Role over TCP to database db.
func (s *server) dsn(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(Role, s.password),
		Host:     "127.0.0.1:" + strconv.Itoa(s.port),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// admin runs one statement as the superuser over the socket; errors say
// what it was doing, not the statement (which may hold a password).
func (s *server) admin(ctx context.Context, what, sql string) error {
	conn, err := pgx.Connect(ctx, fmt.Sprintf("host=%s port=%d user=postgres dbname=postgres sslmode=disable", s.data, s.port))
	if err != nil {
		return fmt.Errorf("%s: connecting as postgres over the socket: %w", what, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// binDir finds the directory that holds initdb and postgres.
func binDir() (string, error) {
	var candidates []string
	if p, err := exec.LookPath("initdb"); err == nil {
		candidates = append(candidates, p)
	}
	candidates = append(candidates, "/usr/local/bin/initdb")
	versions, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Sort(sort.Reverse(byVersion(versions)))
	candidates = append(candidates, versions...)
	for _, c := range candidates {
		real, err := filepath.EvalSymlinks(c) // initdb runs the postgres beside its target
		if err != nil {
			continue
		}
		dir := filepath.Dir(real)
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, nil
		}
	}
	return "", fmt.Errorf("initdb and postgres not found in PATH, /usr/local/bin or /usr/lib/postgresql/*/bin")
}

// byVersion sorts /usr/lib/postgresql/N/bin/initdb paths by N.
type byVersion []string

func (v byVersion) Len() int      { return len(v) }
func (v byVersion) Swap(i, j int) { v[i], v[j] = v[j], v[i] }
func (v byVersion) Less(i, j int) bool {
	n := func(p string) int {
		x, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(p))))
		return x
	}
	return n(v[i]) < n(v[j])
}

// randomPassword returns 24 random bytes in hex.
func randomPassword() string {
	var b [24]byte
	_, _ = rand.Read(b[:]) // never fails (Go ≥ 1.24)
	return hex.EncodeToString(b[:])
}
