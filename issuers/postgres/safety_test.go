package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/pgtest"
)

// TestPasswordNotLogged: with log_statement = 'all' the server log shows
// the CREATE ROLE with a SCRAM verifier, never the clear password.
func TestPasswordNotLogged(t *testing.T) {
	f := newFixture(t)
	pgtest.LogStatements(t)
	iss := f.issuer(f.superAdmin)
	l, outs := issue(t, iss, "app", time.Minute)
	if err := tryLogin(withDB(t, outs[OutputDatabaseURL], f.dbA)); err != nil {
		t.Fatalf("login: %v", err)
	}
	if err := iss.Revoke(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	log := pgtest.ServerLog(t)
	if !strings.Contains(log, "CREATE ROLE \""+l.Credential.RoleName+"\"") || !strings.Contains(log, "SCRAM-SHA-256$4096:") {
		t.Fatalf("the server log lacks the CREATE ROLE statement with a verifier; is log_statement on?")
	}
	if strings.Contains(log, outs[OutputPassword]) {
		t.Error("the clear password appears in the server log")
	}
}

// TestHostileNames: quotes, semicolons, unicode in configured grants and
// databases are identifiers, never SQL; overlong ones are refused.
func TestHostileNames(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	evilRole := `r"; DROP ROLE ` + f.bystander + `; --` + f.n
	evilDB := `d'b"; DROP DATABASE ` + f.dbB + `; ünï` + f.n
	f.super("postgres", fmt.Sprintf(`CREATE ROLE %s NOLOGIN`, ident(evilRole)))
	f.super("postgres", fmt.Sprintf(`CREATE DATABASE %s`, ident(evilDB)))
	t.Cleanup(func() {
		f.super("postgres", fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, ident(evilDB)))
		f.super("postgres", fmt.Sprintf(`DROP ROLE IF EXISTS %s`, ident(evilRole)))
	})
	cfg := f.config(f.superAdmin)
	cfg.Roles["evil"] = config.PostgresRole{Grants: []string{evilRole, f.reader}, Databases: []string{evilDB, f.dbA}}
	cfg.Roles["missing"] = config.PostgresRole{Grants: []string{`x'); DROP ROLE ` + f.bystander + `; --`}, Databases: []string{f.dbA}}
	cfg.Roles["nodb"] = config.PostgresRole{Grants: []string{f.reader}, Databases: []string{`nope"; DROP DATABASE ` + f.dbA + `; --`}}
	iss, err := New(ctx, cfg, `store 'with' "quotes" \ and ; ünï`)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	l, outs := issue(t, iss, "evil", time.Minute)
	if outs[OutputDatabase] != evilDB {
		t.Errorf("database output %q, want %q", outs[OutputDatabase], evilDB)
	}
	conn := f.connect(f.superuserDSN("postgres"))
	defer conn.Close(ctx)
	var member bool
	var comment string
	err = conn.QueryRow(ctx, `SELECT pg_has_role($1, $2, 'MEMBER'), shobj_description((SELECT oid FROM pg_roles WHERE rolname = $1), 'pg_authid')`,
		l.Credential.RoleName, evilRole).Scan(&member, &comment)
	if err != nil || !member || comment != iss.comment(l.ID) {
		t.Errorf("role %s: member of the hostile role %v, comment %q (%v)", l.Credential.RoleName, member, comment, err)
	}
	if err := tryLogin(withDB(t, outs[OutputDatabaseURL], evilDB)); err != nil {
		t.Errorf("login to the hostile-named database: %v", err)
	}
	if err := iss.Revoke(ctx, l); err != nil {
		t.Errorf("Revoke: %v", err)
	}
	for _, role := range []string{"missing", "nodb"} {
		if _, _, err := issueLease(iss, role, time.Minute); err == nil {
			t.Errorf("issuing %s succeeded, want an error", role)
		}
	}
	var dbs, roles int
	err = conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM pg_database WHERE datname = ANY($1)),
		(SELECT count(*) FROM pg_roles WHERE rolname = $2 OR rolname LIKE 'jit\_%' AND shobj_description(oid, 'pg_authid') LIKE '%quotes%')`,
		[]string{f.dbA, f.dbB, evilDB}, f.bystander).Scan(&dbs, &roles)
	if err != nil || dbs != 3 || roles != 1 {
		t.Errorf("after hostile names: %d of 3 databases, %d roles (bystander and no leftover jit role: want 1), %v", dbs, roles, err)
	}

	long := strings.Repeat("ü", 32) // 64 bytes: PostgreSQL would truncate it
	for name, r := range map[string]config.PostgresRole{
		"long grant":    {Grants: []string{long}},
		"long database": {Grants: []string{f.reader}, Databases: []string{long}},
		"NUL":           {Grants: []string{"a\x00b"}},
		"empty":         {Grants: []string{""}},
	} {
		cfg := f.config(f.superAdmin)
		cfg.Roles["bad"] = r
		if _, err := New(ctx, cfg, "s"); err == nil {
			t.Errorf("%s: New succeeded, want an error", name)
		}
	}
}

// TestOwnerRefused: New refuses an owner that could act or leak.
func TestOwnerRefused(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	for _, c := range []struct{ name, setup, undo string }{
		{"login", "ALTER ROLE %s LOGIN", "ALTER ROLE %s NOLOGIN"},
		{"createdb", "ALTER ROLE %s CREATEDB", "ALTER ROLE %s NOCREATEDB"},
		{"superuser", "ALTER ROLE %s SUPERUSER", "ALTER ROLE %s NOSUPERUSER"},
		{"membership", "GRANT " + f.reader + " TO %s", "REVOKE " + f.reader + " FROM %s"},
		{"privilege", "GRANT CONNECT ON DATABASE " + f.dbB + " TO %s", "REVOKE CONNECT ON DATABASE " + f.dbB + " FROM %s"},
	} {
		f.super("postgres", fmt.Sprintf(c.setup, f.owner))
		if _, err := New(ctx, f.config(f.superAdmin), "s"); err == nil {
			t.Errorf("%s: New succeeded, want the owner refused", c.name)
		}
		f.super("postgres", fmt.Sprintf(c.undo, f.owner))
	}
	cfg := f.config(f.superAdmin)
	cfg.Owner = "no_such_owner" + f.n
	if _, err := New(ctx, cfg, "s"); err == nil {
		t.Error("missing owner: New succeeded")
	}
	if _, err := New(ctx, f.config(f.superAdmin), "s"); err != nil {
		t.Errorf("a clean owner: %v", err)
	}
}

// TestRevokeRefusesForeignRole: a role not tagged with the lease and store
// is left alone; bad lease ids are refused.
func TestRevokeRefusesForeignRole(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	iss := f.issuer(f.superAdmin)
	l, _ := issue(t, iss, "app", time.Minute)
	other, err := New(ctx, f.config(f.superAdmin), "another-store")
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Revoke(ctx, l); err == nil {
		t.Error("another store's issuer revoked the role")
	}
	if !f.roleExists(l.Credential.RoleName) {
		t.Error("the role was dropped by another store's issuer")
	}
	if err := iss.Revoke(ctx, l); err != nil || f.roleExists(l.Credential.RoleName) {
		t.Errorf("Revoke: %v", err)
	}
	for _, id := range []string{"", "abc", "ABCDEF0123456789", `0123456789ab"; DROP ROLE x`} {
		if _, err := RoleName(id); err == nil {
			t.Errorf("RoleName(%q) succeeded", id)
		}
	}
}

// TestLeaseIDs lists the roles of this store only.
func TestLeaseIDs(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	mine := f.issuer(f.superAdmin)
	theirs, err := New(ctx, f.config(f.superAdmin), "test-store-other")
	if err != nil {
		t.Fatal(err)
	}
	l1, _ := issue(t, mine, "app", time.Minute)
	l2, _ := issue(t, theirs, "app", time.Minute)
	defer theirs.Revoke(ctx, l2)
	ids, err := mine.LeaseIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(ids, l1.ID) || slices.Contains(ids, l2.ID) {
		t.Errorf("LeaseIDs = %v, want %s and not %s", ids, l1.ID, l2.ID)
	}
	if err := mine.Revoke(ctx, lease.Lease{ID: l1.ID, Role: "app"}); err != nil {
		t.Fatalf("Revoke by id only: %v", err)
	}
	if ids, err := mine.LeaseIDs(ctx); err != nil || slices.Contains(ids, l1.ID) {
		t.Errorf("after revoke LeaseIDs = %v, %v", ids, err)
	}
}
