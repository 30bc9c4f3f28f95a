package pgtest

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// Start's DSN logs in as jit, a plain role, with its password over TCP.
func TestStart(t *testing.T) {
	ctx := context.Background()
	dsn := Start(t)
	if !strings.HasPrefix(dsn, "postgres://jit:") || !strings.Contains(dsn, "@127.0.0.1:") || !strings.HasSuffix(dsn, "/jit?sslmode=disable") {
		t.Errorf("DSN %q is not postgres://jit:PW@127.0.0.1:PORT/jit?sslmode=disable", strings.Replace(dsn, srv.password, "PW", 1))
	}
	var (
		user, db, version string
		super             bool
	)
	err := connect(t, dsn).QueryRow(ctx, `SELECT current_user, current_database(),
		current_setting('server_version_num'), rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&user, &db, &version, &super)
	if err != nil {
		t.Fatal(err)
	}
	if user != Role || db != Role || super {
		t.Errorf("connected as %s to %s (superuser %v), want %s to %s, no superuser", user, db, super, Role, Role)
	}
	t.Logf("PostgreSQL %s", version)

	// Over TCP the password is checked (scram), not trusted.
	u, _ := url.Parse(dsn)
	u.User = url.UserPassword(Role, "wrong")
	if conn, err := pgx.Connect(ctx, u.String()); err == nil {
		conn.Close(ctx)
		t.Error("connecting with a wrong password succeeded, want an authentication error")
	}
	if again := Start(t); again != dsn {
		t.Error("a second Start returned another server")
	}
}

// NewDatabase gives each test its own empty database.
func TestNewDatabase(t *testing.T) {
	ctx := context.Background()
	a, b := NewDatabase(t), NewDatabase(t)
	if a == b {
		t.Fatalf("two NewDatabase calls returned the same DSN")
	}
	if _, err := connect(t, a).Exec(ctx, `CREATE TABLE only_in_a (x int)`); err != nil {
		t.Fatalf("the role cannot create a table in its database: %v", err)
	}
	var n int
	if err := connect(t, b).QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("database b sees %d tables of a (%v), want 0", n, err)
	}
}
