package pgtest

import (
	"context"
	"strings"
	"testing"
	"time"
)

// SuperuserDSN connects as postgres; LogStatements makes ServerLog show
// the statements that run.
func TestSuperuserAndLog(t *testing.T) {
	ctx := context.Background()
	conn := connect(t, SuperuserDSN(t, "postgres"))
	var super bool
	if err := conn.QueryRow(ctx, `SELECT rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&super); err != nil || !super {
		t.Fatalf("SuperuserDSN: superuser %v, %v", super, err)
	}
	LogStatements(t)
	if _, err := connect(t, Start(t)).Exec(ctx, `SELECT 'pgtest-log-marker'`); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second) // the log pipe is copied asynchronously
	for !strings.Contains(ServerLog(t), "pgtest-log-marker") {
		if time.Now().After(deadline) {
			t.Fatal("ServerLog lacks a statement run after LogStatements")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
