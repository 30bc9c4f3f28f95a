package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
)

// wtx is the committer's write transaction: a connection of its own on which
// it runs BEGIN IMMEDIATE, the batch and COMMIT, and the statements it has
// prepared on that connection, so that each statement is compiled once per
// connection rather than once per write. Only the committer goroutine uses
// it.
type wtx struct {
	db    *sql.DB
	conn  *sql.Conn            // nil until the first batch, or after a broken one
	stmts map[string]*sql.Stmt // prepared on conn, by query
}

// begin takes a connection if need be and starts a BEGIN IMMEDIATE
// transaction on it, waiting for the write lock up to busy_timeout.
func (t *wtx) begin(ctx context.Context) error {
	if t.conn == nil {
		c, err := t.db.Conn(ctx)
		if err != nil {
			return err
		}
		t.conn, t.stmts = c, map[string]*sql.Stmt{}
	}
	_, err := t.ExecContext(ctx, `BEGIN IMMEDIATE`)
	return err
}

// commit commits the transaction; on failure it rolls it back.
func (t *wtx) commit(ctx context.Context) error {
	if _, err := t.ExecContext(ctx, `COMMIT`); err != nil {
		return errors.Join(err, t.rollback(ctx))
	}
	return nil
}

// rollback abandons the transaction. If that fails the connection is
// dropped, so that the next batch starts on a clean one.
func (t *wtx) rollback(ctx context.Context) error {
	if _, err := t.ExecContext(ctx, `ROLLBACK`); err != nil {
		t.close()
		return err
	}
	return nil
}

// close returns the connection and frees its statements.
func (t *wtx) close() {
	if t.conn == nil {
		return
	}
	for _, st := range t.stmts {
		st.Close()
	}
	t.conn.Close()
	t.conn, t.stmts = nil, nil
}

// stmt returns query prepared on the connection.
func (t *wtx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := t.stmts[query]; ok {
		return st, nil
	}
	st, err := t.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	t.stmts[query] = st
	return st, nil
}

// ExecContext runs one prepared statement in the transaction.
func (t *wtx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := t.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// QueryRowContext runs one prepared query in the transaction.
func (t *wtx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := t.stmt(ctx, query)
	if err != nil {
		// A Row carrying err: the statement cannot prepare, so neither can
		// this query, and Scan reports why.
		return t.conn.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// ExecScript runs query, which may hold several statements, without keeping
// it prepared: for one-off statements such as migrations.
func (t *wtx) ExecScript(ctx context.Context, query string) error {
	_, err := t.conn.ExecContext(ctx, query)
	return err
}
