package sqlitestore

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"
)

// Group commit. Every write (Put, Activate, Claim, Release, MarkRevoked,
// UseToken, and the schema migration) is handed to the store's one committer
// goroutine. The committer takes the first operation that arrives and,
// without waiting for more, every other one already waiting (up to
// maxBatch), runs them in one BEGIN IMMEDIATE transaction, each inside its
// own SAVEPOINT, and commits that transaction once: one fsync
// (synchronous=FULL) makes the whole batch durable. Under load the batch
// grows to the number of concurrent writers; an idle store commits a lone
// operation at once, as before.
//
// Results:
//   - An operation that fails (ErrReplayed, ErrExists, ErrNotFound, ...) is
//     rolled back to its savepoint and fails alone; the rest of the batch
//     commits.
//   - A failed BEGIN or COMMIT, or an error that leaves the transaction
//     unusable, fails every operation of the batch: none was recorded.
//   - No operation returns before its batch's COMMIT has returned.
//
// Cancellation: an operation whose context is done before the committer
// starts it is not applied and returns the context's error. Once started it
// runs to completion, unaffected by its context, and reports its true
// result: success means it is recorded, even if the context ended
// meanwhile. A started operation never waits for more than one batch (the
// batch's lock wait is bounded by BusyTimeout), so writes stay bounded.
//
// The write lock is held only while a batch runs, so other processes'
// writers interleave with this one's batches through SQLite's own locking.

// maxBatch bounds the operations of one transaction.
const maxBatch = 256

// op is one write waiting for the committer.
type op struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx *wtx) error
	done chan error // receives the result once the batch is committed
}

var errClosed = errors.New("the lease store is closed")

// write runs fn in a transaction shared with other waiting writes, inside
// its own savepoint, and returns fn's error, or the transaction's, once the
// transaction is committed. fn must do all its work with the context and
// transaction it is given.
func (s *Store) write(ctx context.Context, fn func(ctx context.Context, tx *wtx) error) error {
	o := &op{ctx: ctx, fn: fn, done: make(chan error, 1)}
	s.handing.RLock()
	if s.closed {
		s.handing.RUnlock()
		return fmt.Errorf("write to lease database %s: %w", s.path, errClosed)
	}
	select {
	case s.ops <- o:
		s.handing.RUnlock()
	case <-ctx.Done():
		s.handing.RUnlock()
		return fmt.Errorf("wait for lease database %s: %w", s.path, ctx.Err())
	}
	// The committer has it: wait for the true result, whatever ctx does.
	return <-o.done
}

// commitLoop is the committer goroutine. It stops when Close, having let
// every waiting writer hand its op over, closes s.closing.
func (s *Store) commitLoop() {
	defer close(s.stopped)
	tx := &wtx{db: s.db}
	defer tx.close()
	batch := make([]*op, 0, maxBatch)
	for {
		select {
		case o := <-s.ops:
			batch = append(batch[:0], o)
		case <-s.closing:
			return
		}
	drain:
		for len(batch) < maxBatch {
			select {
			case o := <-s.ops:
				batch = append(batch, o)
			default:
				break drain
			}
		}
		s.commit(tx, batch)
		clear(batch) // let the finished ops be collected
		// Let the writers just completed run before the next batch is
		// taken, so those with another write queue it now and join the
		// next batch, rather than wait out a batch of the others (16
		// writers would otherwise settle into two alternating batches of
		// 8). This waits for no timer: with nothing else runnable it
		// returns at once.
		runtime.Gosched()
	}
}

// commit runs batch in one transaction and completes each op.
func (s *Store) commit(tx *wtx, batch []*op) {
	results := make([]error, len(batch))
	ctx := context.Background()
	if err := tx.begin(ctx); err != nil {
		failAll(batch, fmt.Errorf("lock lease database %s: %w (another process may hold it; retry)", s.path, err))
		return
	}
	started := 0
	for i, o := range batch {
		if err := o.ctx.Err(); err != nil {
			results[i] = fmt.Errorf("wait for lease database %s: %w", s.path, err)
			continue
		}
		started++
		var fatal error
		results[i], fatal = runOp(tx, o)
		if fatal != nil {
			tx.rollback(ctx)
			failAll(batch, fmt.Errorf("write to lease database %s: %w (nothing was recorded; retry)", s.path, fatal))
			return
		}
	}
	if started == 0 {
		tx.rollback(ctx) // nothing to make durable
		complete(batch, results)
		return
	}
	t0 := time.Now()
	err := tx.commit(ctx)
	s.stats.record(started, time.Since(t0))
	if err != nil {
		failAll(batch, fmt.Errorf("commit to lease database %s: %w (nothing was recorded; retry)", s.path, err))
		return
	}
	complete(batch, results)
}

// runOp runs o inside a savepoint of tx. It returns o's own result, and a
// second error if the savepoint could not be set, released or rolled back,
// which leaves the transaction unusable.
func runOp(tx *wtx, o *op) (result, fatal error) {
	ctx := context.WithoutCancel(o.ctx) // started ops run to completion
	if _, err := tx.ExecContext(ctx, `SAVEPOINT op`); err != nil {
		return nil, err
	}
	result = o.fn(ctx, tx)
	if result != nil {
		if _, err := tx.ExecContext(ctx, `ROLLBACK TO op`); err != nil {
			return result, err
		}
	}
	if _, err := tx.ExecContext(ctx, `RELEASE op`); err != nil {
		return result, err
	}
	return result, nil
}

func complete(batch []*op, results []error) {
	for i, o := range batch {
		o.done <- results[i]
	}
}

func failAll(batch []*op, err error) {
	for _, o := range batch {
		o.done <- err
	}
}
