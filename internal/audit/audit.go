// Package audit writes jit-policy's audit log: one JSON line per decision,
// to standard error or to a file opened for appending.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/jit-policy/jit-policy/engine"
)

// Log writes audit records as JSON lines. It is safe for concurrent use;
// each record is one Write, so lines never interleave.
type Log struct {
	mu     sync.Mutex
	w      io.Writer
	closer io.Closer
}

// New returns a log that writes to w.
func New(w io.Writer) *Log { return &Log{w: w} }

// Open opens the sink named by the config's `audit:` value: "stderr"
// (also ""), or "file://PATH", appended to and created 0600.
func Open(sink string, stderr io.Writer) (*Log, error) {
	switch {
	case sink == "" || sink == "stderr":
		return New(stderr), nil
	case strings.HasPrefix(sink, "file://"):
		p := strings.TrimPrefix(sink, "file://")
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("opening the audit log: %w", err)
		}
		return &Log{w: f, closer: f}, nil
	}
	return nil, fmt.Errorf("audit sink %q: use stderr or file://PATH", sink)
}

// Record writes rec as one JSON line, with secret-looking request fields
// redacted.
func (l *Log) Record(_ context.Context, rec engine.AuditRecord) error {
	rec.Input.Request.Fields = redact(rec.Input.Request.Fields)
	line, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encoding the audit record: %w", err)
	}
	line = append(line, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.w.Write(line); err != nil {
		return fmt.Errorf("writing the audit record: %w", err)
	}
	return nil
}

// Close closes the file behind the log, if any.
func (l *Log) Close() error {
	if l.closer == nil {
		return nil
	}
	return l.closer.Close()
}

// secretMarkers are substrings of field names whose values never reach the
// log. Requests should carry no secrets; this guards against ones that do.
var secretMarkers = []string{"password", "secret", "private", "token", "credential"}

func redact(fields map[string]any) map[string]any {
	if len(fields) == 0 {
		return fields
	}
	out := make(map[string]any, len(fields))
	for k, v := range fields {
		out[k] = v
		lk := strings.ToLower(k)
		for _, m := range secretMarkers {
			if strings.Contains(lk, m) {
				out[k] = "[redacted]"
				break
			}
		}
	}
	return out
}

var _ engine.AuditSink = (*Log)(nil)
