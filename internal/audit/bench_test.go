package audit_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/engine"
	"github.com/jit-policy/jit-policy/internal/audit"
)

// benchRecord is a record of the example pipeline request: ~28 token claims,
// an allowed decision with a grant.
func benchRecord(b *testing.B) engine.AuditRecord {
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "inputs", "pipeline-ssh-allow.json"))
	if err != nil {
		b.Fatal(err)
	}
	in, err := engine.DecodeInput(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	ttl := int64(1800)
	return engine.AuditRecord{
		DecisionID: engine.NewDecisionID(),
		Time:       time.Now().UTC(),
		Input:      in,
		Result: engine.Decision{ID: "d1", Allowed: true, Deny: []string{},
			Grant: &engine.Grant{MaxTTLSeconds: &ttl, Principals: []string{"deploy"}}},
		Duration: 180 * time.Microsecond,
	}
}

// sinks are the writers the benchmarks record to: a real file opened the
// way Open does, and io.Discard to isolate encoding.
var sinks = []struct {
	name string
	open func(b *testing.B) *audit.Log
}{
	{"file", func(b *testing.B) *audit.Log {
		log, err := audit.Open("file://"+filepath.Join(b.TempDir(), "audit.jsonl"), nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = log.Close() })
		return log
	}},
	{"discard", func(*testing.B) *audit.Log { return audit.New(io.Discard) }},
}

func BenchmarkRecord(b *testing.B) {
	for _, s := range sinks {
		b.Run(s.name, func(b *testing.B) {
			log, rec := s.open(b), benchRecord(b)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := log.Record(ctx, rec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRecordParallel records from 16 goroutines, the broker under load.
func BenchmarkRecordParallel(b *testing.B) {
	for _, s := range sinks {
		b.Run(s.name, func(b *testing.B) {
			log, rec := s.open(b), benchRecord(b)
			ctx := context.Background()
			b.SetParallelism((16 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := log.Record(ctx, rec); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
