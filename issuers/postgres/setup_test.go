package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/pgtest"
	"github.com/jit-policy/jit-policy/issuers"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var seq atomic.Int64

// fixture is a cluster set up for one test: two databases, an owner, two
// group roles, a bystander login role and two admins.
type fixture struct {
	t            *testing.T
	n            string // suffix of the test's role names
	dbA, dbB     string
	owner        string
	reader       string // SELECT on items in dbA
	writer       string // CREATE on schema scratch in dbA and dbB
	bystander    string // a login role with no grants
	bystanderPW  string
	superAdmin   string // DSN of a superuser admin over TCP
	createAdmin  string // DSN of a CREATEROLE admin over TCP
	host, port   string
	superuserDSN func(db string) string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	n := fmt.Sprintf("%d", seq.Add(1))
	t.Cleanup(func() { // after the databases are dropped
		conn, err := pgx.Connect(context.Background(), pgtest.SuperuserDSN(t, "postgres"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		_, err = conn.Exec(context.Background(), fmt.Sprintf(`DROP ROLE IF EXISTS su%[1]s, cr%[1]s, by%[1]s, own%[1]s, rd%[1]s, wr%[1]s`, n),
			pgx.QueryExecModeSimpleProtocol)
		if err != nil {
			t.Errorf("dropping the test's roles: %v", err)
		}
	})
	a, b := pgtest.NewDatabase(t), pgtest.NewDatabase(t)
	ua, _ := url.Parse(a)
	ub, _ := url.Parse(b)
	f := &fixture{
		t: t, n: n, dbA: strings.TrimPrefix(ua.Path, "/"), dbB: strings.TrimPrefix(ub.Path, "/"),
		owner: "own" + n, reader: "rd" + n, writer: "wr" + n, bystander: "by" + n, bystanderPW: "bypw" + n,
		host: ua.Hostname(), port: ua.Port(),
		superuserDSN: func(db string) string { return pgtest.SuperuserDSN(t, db) },
	}
	f.superAdmin = f.loginDSN("su"+n, "supw"+n, f.dbA)
	f.createAdmin = f.loginDSN("cr"+n, "crpw"+n, f.dbA)
	f.super("postgres", fmt.Sprintf(`CREATE ROLE %[1]s NOLOGIN;
		CREATE ROLE %[2]s NOLOGIN; CREATE ROLE %[3]s NOLOGIN;
		CREATE ROLE %[4]s LOGIN PASSWORD '%[5]s';
		CREATE ROLE su%[6]s LOGIN SUPERUSER PASSWORD 'supw%[6]s';
		CREATE ROLE cr%[6]s LOGIN CREATEROLE PASSWORD 'crpw%[6]s';
		GRANT %[1]s TO cr%[6]s; GRANT %[2]s, %[3]s TO cr%[6]s WITH ADMIN OPTION;
		GRANT pg_signal_backend TO cr%[6]s;
		REVOKE CONNECT ON DATABASE %[7]s FROM PUBLIC;
		GRANT CONNECT ON DATABASE %[7]s TO cr%[6]s WITH GRANT OPTION;
		GRANT CONNECT ON DATABASE %[7]s TO %[4]s`, f.owner, f.reader, f.writer, f.bystander, f.bystanderPW, n, f.dbB))
	for _, db := range []string{f.dbA, f.dbB} {
		f.super(db, fmt.Sprintf(`CREATE SCHEMA scratch; GRANT USAGE, CREATE ON SCHEMA scratch TO %[1]s;
			GRANT USAGE ON SCHEMA scratch TO PUBLIC; GRANT CREATE ON SCHEMA scratch TO cr%[2]s WITH GRANT OPTION`, f.writer, n))
	}
	f.super(f.dbA, fmt.Sprintf(`CREATE TABLE items (id int); INSERT INTO items VALUES (1), (2);
		CREATE TABLE secret (x text); INSERT INTO secret VALUES ('s3cr3t');
		GRANT SELECT ON items TO %[1]s`, f.reader))
	return f
}

// loginDSN returns a TCP DSN for user with password to db.
func (f *fixture) loginDSN(user, password, db string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(user, password), Host: f.host + ":" + f.port, Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// super runs statements (simple protocol) as the superuser in db.
func (f *fixture) super(db, sql string) {
	f.t.Helper()
	conn := f.connect(f.superuserDSN(db))
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql, pgx.QueryExecModeSimpleProtocol); err != nil {
		f.t.Fatalf("setting up %s: %v", db, err)
	}
}

func (f *fixture) connect(dsn string) *pgx.Conn {
	f.t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		f.t.Fatalf("connecting: %v", err)
	}
	return conn
}

// config returns an issuer config for admin dsn with the role "app".
func (f *fixture) config(dsn string) *config.PostgresIssuer {
	return &config.PostgresIssuer{
		DSN: dsn, Owner: f.owner, MaxTTL: config.Duration{Duration: time.Hour},
		Roles: map[string]config.PostgresRole{
			"app": {Grants: []string{f.reader, f.writer}, Databases: []string{f.dbA, f.dbB}, ConnectionLimit: 5},
		},
	}
}

func (f *fixture) issuer(dsn string) *Issuer {
	f.t.Helper()
	i, err := New(context.Background(), f.config(dsn), "test-store")
	if err != nil {
		f.t.Fatalf("New: %v", err)
	}
	return i
}

// issue issues role for a fresh lease.
func issue(t *testing.T, i *Issuer, role string, ttl time.Duration) (lease.Lease, map[string]string) {
	t.Helper()
	l, outs, err := issueLease(i, role, ttl)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return l, outs
}

// issueLease issues role for a fresh lease and checks the outputs' shape.
func issueLease(i *Issuer, role string, ttl time.Duration) (lease.Lease, map[string]string, error) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	now := time.Now()
	l := lease.Lease{ID: hex.EncodeToString(b[:]), Issuer: "postgres", Role: role, IssuedAt: now, ExpiresAt: now.Add(ttl)}
	cred, err := i.Issue(context.Background(), issuers.Request{Lease: l, Now: now, TTL: ttl})
	if err != nil {
		return l, nil, err
	}
	l.Credential = cred.Identity
	outs := map[string]string{}
	for _, o := range cred.Outputs {
		outs[o.Name] = o.Value
		if (o.Name == OutputPassword || o.Name == OutputDatabaseURL) != o.Secret {
			return l, outs, fmt.Errorf("output %s: secret %v", o.Name, o.Secret)
		}
	}
	if outs[OutputUsername] != l.Credential.RoleName || l.Credential.RoleName != "jit_"+l.ID[:12] {
		return l, outs, fmt.Errorf("username %q, identity %q, want jit_%s", outs[OutputUsername], l.Credential.RoleName, l.ID[:12])
	}
	return l, outs, nil
}

// roleExists reports whether role exists.
func (f *fixture) roleExists(role string) bool {
	f.t.Helper()
	conn := f.connect(f.superuserDSN("postgres"))
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_roles WHERE rolname = $1`, role).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n == 1
}

// tryLogin connects with dsn and closes the connection.
func tryLogin(dsn string) error {
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		return err
	}
	return conn.Close(context.Background())
}

// withDB returns the database-url output pointing at another database.
func withDB(t *testing.T, dbURL, db string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + db
	u.RawQuery = "sslmode=disable"
	return u.String()
}

// isAuthError reports whether err is a failed login (28P01/28000).
func isAuthError(err error) bool {
	var pe interface{ SQLState() string }
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.SQLState(), "28")
	}
	return err != nil && strings.Contains(err.Error(), "SQLSTATE 28")
}
