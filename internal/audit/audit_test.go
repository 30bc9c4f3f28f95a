package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
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
