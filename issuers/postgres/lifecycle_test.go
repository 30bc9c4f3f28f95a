package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jit-policy/jit-policy/internal/lease"
)

// TestLifecycle issues a role, uses it as its grants allow, revokes it with
// a session open and checks what is left, with a superuser admin and with
// a CREATEROLE admin.
func TestLifecycle(t *testing.T) {
	for _, admin := range []string{"superuser", "createrole"} {
		t.Run(admin, func(t *testing.T) {
			f := newFixture(t)
			dsn := f.superAdmin
			if admin == "createrole" {
				dsn = f.createAdmin
			}
			lifecycle(t, f, f.issuer(dsn))
		})
	}
}

func lifecycle(t *testing.T, f *fixture, iss *Issuer) {
	ctx := context.Background()
	l, outs := issue(t, iss, "app", 10*time.Minute)
	role := l.Credential.RoleName
	if outs[OutputDatabase] != f.dbA || outs[OutputHost] != f.host || outs[OutputPort] != f.port {
		t.Errorf("outputs %s=%q %s=%q %s=%q, want %s %s %s", OutputDatabase, outs[OutputDatabase],
			OutputHost, outs[OutputHost], OutputPort, outs[OutputPort], f.dbA, f.host, f.port)
	}
	urlA := withDB(t, outs[OutputDatabaseURL], f.dbA)
	if err := tryLogin(f.loginDSN(role, outs[OutputPassword]+"x", f.dbA)); !isAuthError(err) {
		t.Errorf("login with a wrong password: %v, want an authentication error", err)
	}
	a, err := pgx.Connect(ctx, urlA)
	if err != nil {
		t.Fatalf("login with the issued password: %v", err)
	}
	defer a.Close(ctx)
	var n int
	if err := a.QueryRow(ctx, `SELECT count(*) FROM items`).Scan(&n); err != nil || n != 2 {
		t.Errorf("SELECT on the granted table: %d rows, %v; want 2", n, err)
	}
	for _, sql := range []string{`SELECT * FROM secret`, `CREATE TABLE public.mine (x int)`, `ALTER TABLE items ADD COLUMN y int`, `DROP TABLE items`, `CREATE ROLE sneaky`} {
		if _, err := a.Exec(ctx, sql); err == nil {
			t.Errorf("%s succeeded, want permission denied", sql)
		}
	}
	// Objects in two databases, and a way around the grants for PUBLIC.
	if _, err := a.Exec(ctx, `CREATE TABLE scratch.made_a (x int)`); err != nil {
		t.Fatalf("creating a table in scratch of %s: %v", f.dbA, err)
	}
	for _, sql := range []string{
		`CREATE VIEW scratch.leak_view AS SELECT * FROM items`,
		`CREATE FUNCTION scratch.leak_fn() RETURNS bigint LANGUAGE sql SECURITY DEFINER AS 'SELECT count(*) FROM public.items'`,
		`GRANT SELECT ON scratch.leak_view TO PUBLIC`,
		`GRANT EXECUTE ON FUNCTION scratch.leak_fn() TO PUBLIC`,
	} {
		if _, err := a.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	b, err := pgx.Connect(ctx, withDB(t, outs[OutputDatabaseURL], f.dbB))
	if err != nil {
		t.Fatalf("login to %s (CONNECT granted to the role): %v", f.dbB, err)
	}
	if _, err := b.Exec(ctx, `CREATE TABLE scratch.made_b (x int)`); err != nil {
		t.Fatalf("creating a table in scratch of %s: %v", f.dbB, err)
	}
	b.Close(ctx)
	by, err := pgx.Connect(ctx, f.loginDSN(f.bystander, f.bystanderPW, f.dbA))
	if err != nil {
		t.Fatal(err)
	}
	defer by.Close(ctx)
	if err := by.QueryRow(ctx, `SELECT scratch.leak_fn()`).Scan(&n); err != nil || n != 2 {
		t.Errorf("bystander through the function during the lease: %d, %v; want 2 (the leak the owner check closes)", n, err)
	}

	if err := iss.Revoke(ctx, l); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if err := a.QueryRow(ctx, `SELECT count(*) FROM items`).Scan(&n); err == nil {
		t.Error("the session opened before revoke still runs queries")
	}
	if err := tryLogin(urlA); err == nil {
		t.Error("login after revoke succeeded")
	}
	if f.roleExists(role) {
		t.Errorf("role %s exists after revoke", role)
	}
	for _, c := range []struct{ db, table string }{{f.dbA, "made_a"}, {f.dbA, "leak_view"}, {f.dbB, "made_b"}} {
		conn := f.connect(f.superuserDSN(c.db))
		var owner string
		err := conn.QueryRow(ctx, `SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = $1::regclass`, "scratch."+c.table).Scan(&owner)
		conn.Close(ctx)
		if err != nil || owner != f.owner {
			t.Errorf("%s.scratch.%s: owner %q (%v), want %s", c.db, c.table, owner, err, f.owner)
		}
	}
	for _, sql := range []string{`SELECT scratch.leak_fn()`, `SELECT count(*) FROM scratch.leak_view`} {
		if err := by.QueryRow(ctx, sql).Scan(&n); err == nil {
			t.Errorf("bystander after revoke: %s gave %d rows, want permission denied", sql, n)
		}
	}
	if err := iss.Revoke(ctx, l); err != nil {
		t.Errorf("second Revoke: %v, want nil", err)
	}
	if _, err := New(ctx, f.config(f.createAdmin), "test-store"); err != nil {
		t.Errorf("New after revoke (the owner must still hold nothing granted): %v", err)
	}
}

// TestValidUntil: with revocation skipped, VALID UNTIL refuses the login.
func TestValidUntil(t *testing.T) {
	f := newFixture(t)
	iss := f.issuer(f.superAdmin)
	l, outs := issue(t, iss, "app", 2*time.Second)
	defer iss.Revoke(context.Background(), l)
	if err := tryLogin(withDB(t, outs[OutputDatabaseURL], f.dbA)); err != nil {
		t.Fatalf("login before expiry: %v", err)
	}
	time.Sleep(3 * time.Second)
	if err := tryLogin(withDB(t, outs[OutputDatabaseURL], f.dbA)); !isAuthError(err) {
		t.Errorf("login after VALID UNTIL: %v, want an authentication error", err)
	}
}

// TestParallel: two leases of one role are independent roles.
func TestParallel(t *testing.T) {
	f := newFixture(t)
	iss := f.issuer(f.createAdmin)
	type result struct {
		l    lease.Lease
		outs map[string]string
		err  error
	}
	results := make(chan result, 2)
	for range 2 {
		go func() {
			l, outs, err := issueLease(iss, "app", time.Minute)
			results <- result{l, outs, err}
		}()
	}
	r1, r2 := <-results, <-results
	if r1.err != nil || r2.err != nil {
		t.Fatalf("Issue: %v, %v", r1.err, r2.err)
	}
	if r1.outs[OutputUsername] == r2.outs[OutputUsername] {
		t.Fatalf("both leases got role %s", r1.outs[OutputUsername])
	}
	if err := iss.Revoke(context.Background(), r1.l); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if err := tryLogin(withDB(t, r1.outs[OutputDatabaseURL], f.dbA)); err == nil {
		t.Error("the revoked role still logs in")
	}
	conn, err := pgx.Connect(context.Background(), withDB(t, r2.outs[OutputDatabaseURL], f.dbA))
	if err != nil {
		t.Fatalf("the other role no longer logs in: %v", err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM items`).Scan(&n); err != nil || n != 2 {
		t.Errorf("the other role: SELECT gave %d, %v", n, err)
	}
}
