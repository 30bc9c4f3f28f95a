// Package testproc helps tests run real servers (PostgreSQL, MinIO, the
// broker) as child processes: a buffer their output can be copied into while
// the test reads it, and a start that ties a child's life to the test
// process's.
package testproc

import (
	"bytes"
	"fmt"
	"net"
	"os/exec"
	"runtime"
	"sync"
)

// Buffer is a bytes.Buffer safe for a process's output goroutines and the
// test's reads at once. The zero value is ready to use.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// StartTied starts cmd from a goroutine locked to its OS thread until cmd
// has exited, and returns a channel closed when it has. Linux sends a
// child its SysProcAttr.Pdeathsig when the thread that started it exits, so
// with the thread held, only the test process's death sends it: a child
// never outlives a killed test run, and is never signalled early.
func StartTied(cmd *exec.Cmd) (exited <-chan struct{}, err error) {
	started := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return done, nil
}

// FreePort returns a TCP port of 127.0.0.1 that was free a moment ago.
// Another process may take it before the caller binds it, so a server
// started on it may have to be retried on another.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port of 127.0.0.1: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
