package sqlitestore

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
)

// issueClients is the number of concurrent issuers BenchmarkIssueWrites
// models: the broker's target load of 16 clients.
const issueClients = 16

// BenchmarkIssueWrites runs the durable writes of one certificate issue
// (UseToken, Put, Activate) from 16 goroutines on a file store.
func BenchmarkIssueWrites(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "leases.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var seq atomic.Int64
	exp := time.Now().Add(time.Hour)
	b.SetParallelism((issueClients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := fmt.Sprintf("l%d", seq.Add(1))
			if err := s.UseToken(ctx, "t"+id, exp); err != nil {
				b.Error(err)
				return
			}
			l := lease.Lease{ID: id, Issuer: "ssh", Role: "deploy", Subject: "alice",
				IssuedAt: exp.Add(-time.Hour), ExpiresAt: exp}
			if err := s.Put(ctx, l); err != nil {
				b.Error(err)
				return
			}
			if err := s.Activate(ctx, id, lease.Credential{Serial: uint64(len(id)), KeyID: id}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "issues/s")
	b.ReportMetric(float64(3*b.N)/elapsed.Seconds(), "ops/s")
	reportCommits(b, s, 3*b.N)
}

// reportCommits reports the commits per write operation and the median
// time in COMMIT.
func reportCommits(b *testing.B, s *Store, ops int) {
	st := s.Stats()
	b.ReportMetric(float64(st.Commits)/float64(st.Ops), "commits/op")
	b.ReportMetric(float64(st.Ops)/float64(st.Commits), "ops/commit")
	b.ReportMetric(float64(st.CommitMedian.Microseconds()), "commit-p50-µs")
	b.ReportMetric(float64(st.CommitTime.Microseconds())/float64(st.Commits), "commit-mean-µs")
}
