package pgtest

import (
	"context"
	"fmt"
	"testing"
)

// SuperuserDSN returns a keyword/value DSN that connects to database db as
// the superuser postgres over the server's socket (trusted, no password).
// Tests use it to set up what the role jit may not: other roles, grants,
// server settings.
func SuperuserDSN(t testing.TB, db string) string {
	t.Helper()
	Start(t)
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=%s sslmode=disable", srv.data, srv.port, db)
}

// LogStatements sets log_statement = 'all' for the whole server (ALTER
// SYSTEM and a reload) until the test ends, so [ServerLog] shows every
// statement that any session runs from then on.
func LogStatements(t testing.TB) {
	t.Helper()
	Start(t)
	ctx := context.Background()
	for _, sql := range []string{`ALTER SYSTEM SET log_statement = 'all'`, `SELECT pg_reload_conf()`} {
		if err := srv.admin(ctx, "setting log_statement", sql); err != nil {
			t.Fatalf("pgtest: %v", err)
		}
	}
	t.Cleanup(func() {
		for _, sql := range []string{`ALTER SYSTEM RESET log_statement`, `SELECT pg_reload_conf()`} {
			if err := srv.admin(ctx, "resetting log_statement", sql); err != nil {
				t.Errorf("pgtest: %v", err)
			}
		}
	})
}

// ServerLog returns what the server wrote to its log (stderr) so far.
func ServerLog(t testing.TB) string {
	t.Helper()
	Start(t)
	return srv.log.String()
}
