package main

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/jit-policy/jit-policy/internal/lease/sqlitestore"
)

// serveRegistry is the broker's metrics registry: the Go and process
// collectors and, for the file lease store, its group commits (how many,
// how many writes they carried, time in COMMIT with its fsync).
func serveRegistry(leases any) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	st, ok := leases.(*sqlitestore.Store)
	if !ok {
		return reg
	}
	stat := func(f func(sqlitestore.Stats) float64) func() float64 {
		return func() float64 { return f(st.Stats()) }
	}
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "jit_lease_commits_total", Help: "Durable group commits of the file lease store."},
			stat(func(s sqlitestore.Stats) float64 { return float64(s.Commits) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "jit_lease_commit_writes_total", Help: "Writes carried by the file lease store's commits."},
			stat(func(s sqlitestore.Stats) float64 { return float64(s.Ops) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "jit_lease_commit_seconds_total", Help: "Time spent in COMMIT (with its fsync)."},
			stat(func(s sqlitestore.Stats) float64 { return s.CommitTime.Seconds() })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "jit_lease_commit_median_seconds", Help: "Median COMMIT time over the last 1024 commits."},
			stat(func(s sqlitestore.Stats) float64 { return s.CommitMedian.Seconds() })),
	)
	return reg
}
