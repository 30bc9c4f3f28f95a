package exchange_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/exchange"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/lease/pgstore"
	"github.com/jit-policy/jit-policy/internal/pgtest"
)

// TestMain runs the package's tests through pgtest, which stops the
// PostgreSQL server the benchmarks start.
func TestMain(m *testing.M) { pgtest.Main(m) }

// clients is how many exchanges run at once in the IssueAndRecord
// benchmarks, as concurrent pipeline jobs would.
const clients = 8

// BenchmarkIssueAndRecordPostgres measures issue-and-record throughput
// against the shared PostgreSQL store with 8 concurrent clients: each
// exchange decides with the example policy, spends the token, records the
// lease, signs an SSH certificate and activates the lease. It reports
// leases/s.
func BenchmarkIssueAndRecordPostgres(b *testing.B) {
	x := newExchange(b)
	st, err := pgstore.Open(context.Background(), pgtest.NewDatabase(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	x.Leases, x.Replay = st, st
	issueConcurrently(b, x)
}

// BenchmarkIssueAndRecordSQLite is BenchmarkIssueAndRecordPostgres against
// the file store, for comparison.
func BenchmarkIssueAndRecordSQLite(b *testing.B) {
	issueConcurrently(b, newExchange(b))
}

// issueConcurrently runs b.N exchanges from clients goroutines, reports
// leases/s, and checks that every lease was recorded as active.
func issueConcurrently(b *testing.B, x *exchange.Exchange) {
	ctx := context.Background()
	key := userKey(b)
	req := exchange.Request{Issuer: "ssh", Role: "deploy", PublicKey: key}
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if _, err := x.Issue(ctx, "token", req, time.Now()); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "leases/s")

	active, err := x.Leases.List(ctx, lease.Filter{States: []lease.State{lease.Active}})
	if err != nil {
		b.Fatal(err)
	}
	if len(active) != b.N && !b.Failed() {
		b.Errorf("%d active leases after %d exchanges", len(active), b.N)
	}
}
