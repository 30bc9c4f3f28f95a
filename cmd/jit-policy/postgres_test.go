package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/jit-policy/jit-policy/internal/oidctest"
	"github.com/jit-policy/jit-policy/internal/pgtest"
)

// TestIssuePostgresRole: `jit-policy issue --issuer postgres` creates a
// login role that can read what its group grants; `revoke` drops it and the
// password stops working.
func TestIssuePostgresRole(t *testing.T) {
	dbName := ordersDatabase(t, "cli", 1)

	e := newPipelineEnv(t, "")
	cfg, err := os.ReadFile(e.config)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, e.config, string(cfg)+fmt.Sprintf(`  postgres:
    dsn: ${JIT_PG_DSN}
    owner: cli_owner
    max_ttl: 1h
    roles:
      orders-readonly: {grants: [cli_reader], databases: [%q], connection_limit: 2}
`, dbName))
	mustWrite(t, filepath.Join(e.dir, "policies", "postgres.rego"), "package jit\n\nallow if {\n\tinput.request.issuer == \"postgres\"\n\tinput.request.role == \"orders-readonly\"\n}\n")

	code, out, errOut := e.issue(t, e.oidc.Mint(t, oidctest.MintOptions{}), func(p *issueParams) {
		p.issuer, p.role, p.format = "postgres", "orders-readonly", "json"
	})
	if code != 0 {
		t.Fatalf("issue: exit %d\n%s", code, errOut)
	}
	var issued struct {
		LeaseID string            `json:"lease_id"`
		Outputs map[string]string `json:"outputs"`
	}
	if err := json.Unmarshal([]byte(out), &issued); err != nil {
		t.Fatalf("issue output: %v\n%s", err, out)
	}
	dsn := issued.Outputs["database-url"]
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatalf("logging in with the issued credentials: %v", err)
	}
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM orders").Scan(&n); err != nil || n != 1 {
		t.Errorf("SELECT on the granted table: %d, %v", n, err)
	}
	conn.Close(context.Background())

	var rout bytes.Buffer
	if code := runRevoke(context.Background(), revokeParams{config: e.config, leaseID: issued.LeaseID, out: &rout, err: os.Stderr}); code != 0 {
		t.Fatalf("revoke: exit %d\n%s", code, rout.String())
	}
	if c, err := pgx.Connect(context.Background(), dsn); err == nil {
		c.Close(context.Background())
		t.Error("the revoked role still logs in")
	}
}

// ordersDatabase makes a database with an orders table of rows rows that
// <prefix>_reader may read, the roles <prefix>_owner (NOLOGIN) and
// <prefix>_admin (a superuser with a password), points JIT_PG_DSN at the
// admin, and returns the database's name. The roles are dropped after the
// test.
func ordersDatabase(t *testing.T, prefix string, rows int) string {
	t.Helper()
	roles := fmt.Sprintf("%[1]s_admin, %[1]s_owner, %[1]s_reader", prefix)
	// Registered first, so it runs after the database is dropped.
	t.Cleanup(func() { superSQL(t, "postgres", "DROP ROLE IF EXISTS "+roles) })
	u, err := url.Parse(pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	dbName := strings.TrimPrefix(u.Path, "/")
	superSQL(t, "postgres", fmt.Sprintf(`DROP ROLE IF EXISTS %[2]s;
		CREATE ROLE %[1]s_owner NOLOGIN; CREATE ROLE %[1]s_reader NOLOGIN;
		CREATE ROLE %[1]s_admin LOGIN SUPERUSER PASSWORD '%[1]s-admin-pw'`, prefix, roles))
	superSQL(t, dbName, fmt.Sprintf(`CREATE TABLE orders (id int); INSERT INTO orders SELECT generate_series(1, %d);
		GRANT SELECT ON orders TO %s_reader`, rows, prefix))
	admin := url.URL{Scheme: "postgres", User: url.UserPassword(prefix+"_admin", prefix+"-admin-pw"), Host: u.Host, Path: "/" + dbName, RawQuery: "sslmode=disable"}
	t.Setenv("JIT_PG_DSN", admin.String())
	return dbName
}

// superSQL runs sql as the test server's superuser in database db.
func superSQL(t *testing.T, db, sql string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), pgtest.SuperuserDSN(t, db))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql, pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatalf("%s: %v", db, err)
	}
}
