package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/engine"
	"github.com/jit-policy/jit-policy/internal/audit"
)

func record() engine.AuditRecord {
	return engine.AuditRecord{
		DecisionID: "d1",
		Time:       time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC),
		Input: engine.Input{Version: engine.Version, Kind: engine.KindPipeline, Request: engine.Request{
			Issuer: "postgres", Role: "ro",
			Fields: map[string]any{"public_key": "ssh-ed25519 AAAA", "db_password": "hunter2", "client_secret": "s3cr3t"},
		}},
		Result:   engine.Decision{ID: "d1", Allowed: true, Deny: []string{}},
		Duration: 1500 * time.Microsecond,
	}
}

func TestRecordRedactsAndWritesOneLine(t *testing.T) {
	var buf bytes.Buffer
	rec := record()
	if err := audit.New(&buf).Record(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	line := buf.String()
	if strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") {
		t.Fatalf("want exactly one line, got %q", line)
	}
	for _, secret := range []string{"hunter2", "s3cr3t"} {
		if strings.Contains(line, secret) {
			t.Errorf("audit line leaks %q: %s", secret, line)
		}
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(line), &got); err != nil {
		t.Fatal(err)
	}
	if got["decision_id"] != "d1" || got["duration_ns"] != float64(1500000) {
		t.Errorf("record = %v", got)
	}
	if rec.Input.Request.Fields["db_password"] != "hunter2" {
		t.Error("Record changed the caller's input")
	}
}

func TestOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	log, err := audit.Open("file://"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := log.Record(context.Background(), record()); err != nil {
			t.Fatal(err)
		}
	}
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), "\n"); n != 2 {
		t.Errorf("file holds %d lines, want 2", n)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("audit file mode = %v, %v; want 0600", info.Mode().Perm(), err)
	}
	if _, err := audit.Open("syslog://x", nil); err == nil {
		t.Error("Open accepted an unknown sink")
	}
}

func TestRecordEncodesAsMarshal(t *testing.T) {
	rec := record()
	rec.Input.Request.Fields = map[string]any{"public_key": "<ssh> & \u2028 \xff"}
	rec.Input.Token = map[string]any{"sub": "repo:a/b:<ref>&", "iat": json.Number("1795512300")}
	var buf bytes.Buffer
	if err := audit.New(&buf).Record(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != string(want)+"\n" {
		t.Errorf("line = %s\nwant   %s", got, want)
	}
}

// TestRecordConcurrent checks that concurrent records each land as one
// whole line.
func TestRecordConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	log, err := audit.Open("file://"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, each = 16, 50
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				rec := record()
				rec.DecisionID = fmt.Sprintf("g%d-%d", g, i)
				if err := log.Record(context.Background(), rec); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for line := range strings.Lines(string(data)) {
		var got engine.AuditRecord
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		seen[got.DecisionID] = true
	}
	if len(seen) != goroutines*each {
		t.Errorf("%d distinct records written, want %d", len(seen), goroutines*each)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestRecordReportsWriteError(t *testing.T) {
	log := audit.New(failWriter{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := log.Record(context.Background(), record()); err == nil || !strings.Contains(err.Error(), "disk full") {
				t.Errorf("Record = %v, want the write error", err)
			}
		})
	}
	wg.Wait()
}
