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
	// Registered first, so it runs after the database is dropped.
	t.Cleanup(func() { superSQL(t, "postgres", `DROP ROLE IF EXISTS cli_admin, cli_owner, cli_reader`) })
	db := pgtest.NewDatabase(t)
	u, err := url.Parse(db)
	if err != nil {
		t.Fatal(err)
	}
	dbName := strings.TrimPrefix(u.Path, "/")
	superSQL(t, "postgres", `DROP ROLE IF EXISTS cli_admin, cli_owner, cli_reader;
		CREATE ROLE cli_owner NOLOGIN; CREATE ROLE cli_reader NOLOGIN;
		CREATE ROLE cli_admin LOGIN SUPERUSER PASSWORD 'cli-admin-pw'`)
	superSQL(t, dbName, `CREATE TABLE orders (id int); INSERT INTO orders VALUES (1);
		GRANT SELECT ON orders TO cli_reader`)
	admin := url.URL{Scheme: "postgres", User: url.UserPassword("cli_admin", "cli-admin-pw"), Host: u.Host, Path: "/" + dbName, RawQuery: "sslmode=disable"}
	t.Setenv("JIT_PG_DSN", admin.String())

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
