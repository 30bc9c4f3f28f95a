// Package audit writes jit-policy's audit log: one JSON line per decision,
// to standard error or to a file opened for appending.
//
// Concurrent records are group-written: the first Record of a batch waits
// for the write before it, while the Records that arrive meanwhile append
// their lines to its batch; it then writes the whole batch with one Write
// and every Record of the batch returns that Write's error. A record never
// returns before its line was written, and a Write holds whole lines only.
package audit

import (
	"bytes"
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
// lines are written whole, by one Write each or batched into one Write
// with other records' lines, so they never interleave or split.
type Log struct {
	mu      sync.Mutex // guards pending
	pending *batch     // the batch Records join; nil when none is open
	wmu     sync.Mutex // held while a batch is written: one Write at a time
	w       io.Writer
	closer  io.Closer
	bufs    sync.Pool // of *bytes.Buffer: encoding and batch buffers
}

// batch is the lines that one Write puts out. Its leader, the Record that
// opened it, writes buf, sets err and marks done; the others wait on done.
type batch struct {
	buf  *bytes.Buffer
	done sync.WaitGroup
	err  error
}

// maxPooledBuf is the largest buffer returned to a Log's pool, so one huge
// record does not stay pinned.
const maxPooledBuf = 64 << 10

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
// redacted. It returns once the line was written, with the error of the
// Write that carried it.
func (l *Log) Record(_ context.Context, rec engine.AuditRecord) error {
	rec.Input.Request.Fields = redact(rec.Input.Request.Fields)
	line := l.getBuf()
	defer l.putBuf(line)
	// An Encoder escapes HTML as json.Marshal does and ends the value with
	// the newline, so the bytes are those of json.Marshal plus "\n".
	if err := json.NewEncoder(line).Encode(rec); err != nil {
		return fmt.Errorf("encoding the audit record: %w", err)
	}
	if err := l.write(line.Bytes()); err != nil {
		return fmt.Errorf("writing the audit record: %w", err)
	}
	return nil
}

// write adds line to the open batch, opening one if there is none, and
// returns the error of the batch's Write once it is done.
func (l *Log) write(line []byte) error {
	l.mu.Lock()
	b := l.pending
	leader := b == nil
	if leader {
		b = &batch{buf: l.getBuf()}
		b.done.Add(1)
		l.pending = b
	}
	b.buf.Write(line)
	l.mu.Unlock()
	if !leader {
		b.done.Wait()
		return b.err
	}
	l.wmu.Lock()
	l.mu.Lock()
	l.pending = nil // the batch is closed: later lines open the next one
	l.mu.Unlock()
	_, b.err = l.w.Write(b.buf.Bytes())
	l.wmu.Unlock()
	l.putBuf(b.buf)
	b.buf = nil
	b.done.Done()
	return b.err
}

// getBuf returns an empty buffer from the log's pool, or a new one.
func (l *Log) getBuf() *bytes.Buffer {
	if b, ok := l.bufs.Get().(*bytes.Buffer); ok {
		return b
	}
	return new(bytes.Buffer)
}

// putBuf returns b to the log's pool, unless it grew too large.
func (l *Log) putBuf(b *bytes.Buffer) {
	if b.Cap() > maxPooledBuf {
		return
	}
	b.Reset()
	l.bufs.Put(b)
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

// redact returns fields with the values of secret-looking names replaced,
// in a copy: fields itself, unchanged, when no name looks secret.
func redact(fields map[string]any) map[string]any {
	var out map[string]any
	for k := range fields {
		if !secretName(k) {
			continue
		}
		if out == nil {
			out = make(map[string]any, len(fields))
			for k, v := range fields {
				out[k] = v
			}
		}
		out[k] = "[redacted]"
	}
	if out == nil {
		return fields
	}
	return out
}

func secretName(k string) bool {
	lk := strings.ToLower(k)
	for _, m := range secretMarkers {
		if strings.Contains(lk, m) {
			return true
		}
	}
	return false
}

var _ engine.AuditSink = (*Log)(nil)
