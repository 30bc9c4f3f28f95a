package leasetest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
)

// GuardedStore is a lease.Store that is also its lease.ReplayGuard, as both
// SQL stores are.
type GuardedStore interface {
	lease.Store
	lease.ReplayGuard
}

// Environment of the helper process, a second runner on the same database.
const (
	helperDBEnv   = "JIT_LEASETEST_HELPER_DB"   // where the database is; unset: not the helper
	helperNEnv    = "JIT_LEASETEST_HELPER_N"    // contend: number of leases and tokens
	helperKeysEnv = "JIT_LEASETEST_HELPER_KEYS" // else: comma-separated token keys to use
)

// Goroutines per process that claim every lease and use every token.
const helperWorkers = 4

// contend claims every lease "l<i>" and uses every token "t<i>", i < n, from
// helperWorkers goroutines, and reports each one it won.
func contend(ctx context.Context, s GuardedStore, n int, won func(kind, id string)) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	for range helperWorkers {
		wg.Go(func() {
			for i := range n {
				id := fmt.Sprintf("l%d", i)
				switch _, err := s.Claim(ctx, id, time.Hour); {
				case err == nil:
					won("claimed", id)
				case !errors.Is(err, lease.ErrClaimed):
					fail(err)
				}
				key := fmt.Sprintf("t%d", i)
				switch err := s.UseToken(ctx, key, time.Now().Add(time.Hour)); {
				case err == nil:
					won("used", key)
				case !errors.Is(err, lease.ErrReplayed):
					fail(err)
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Opener opens the store on the database at db: a PostgreSQL connection
// string or an SQLite file's path.
type Opener func(ctx context.Context, db string) (GuardedStore, error)

// MultiProcess runs the tests in which two processes share one database:
// this one and a second runner, this test binary run again as the test
// that called MultiProcess (which it must call from a top-level test).
// newDB returns a new, empty database for open.
func MultiProcess(t *testing.T, newDB func(t testing.TB) string, open Opener) {
	if os.Getenv(helperDBEnv) != "" {
		helperProcess(t, open)
		return
	}
	for _, c := range []struct {
		name string
		test func(t *testing.T, r runner)
	}{{"TwoProcesses", twoProcesses}, {"ReplayOnSecondRunner", replayOnSecondRunner}} {
		r := runner{test: t.Name(), db: newDB(t)}
		t.Run(c.name, func(t *testing.T) {
			st, err := open(context.Background(), r.db)
			if err != nil {
				t.Fatalf("open %s: %v", c.name, err)
			}
			defer st.Close()
			r.st = st
			c.test(t, r)
		})
	}
}

// runner is the first runner of a MultiProcess test.
type runner struct {
	test string       // the top-level test that runs the second runner
	db   string       // the database both share
	st   GuardedStore // the first runner's store on db, empty at first
}

// helperProcess is the second runner. To contend it prints "ready", waits
// for a line on stdin, then contends, printing "claimed ID" / "used KEY"
// for each it won; given keys it uses each and prints "used KEY" or
// "replayed KEY".
func helperProcess(t *testing.T, open Opener) {
	ctx := context.Background()
	s, err := open(ctx, os.Getenv(helperDBEnv))
	if err != nil {
		t.Fatalf("helper: %v", err)
	}
	defer s.Close()
	if keys := os.Getenv(helperKeysEnv); keys != "" {
		for _, key := range strings.Split(keys, ",") {
			switch err := s.UseToken(ctx, key, time.Now().Add(time.Hour)); {
			case err == nil:
				fmt.Println("used", key)
			case errors.Is(err, lease.ErrReplayed):
				fmt.Println("replayed", key)
			default:
				t.Fatalf("helper: UseToken(%s): %v", key, err)
			}
		}
		return
	}
	n, err := strconv.Atoi(os.Getenv(helperNEnv))
	if err != nil {
		t.Fatalf("helper: %s: %v", helperNEnv, err)
	}
	fmt.Println("ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		t.Fatalf("helper: waiting for go: %v", err)
	}
	var mu sync.Mutex
	err = contend(ctx, s, n, func(kind, id string) {
		mu.Lock()
		fmt.Println(kind, id)
		mu.Unlock()
	})
	if err != nil {
		t.Fatalf("helper: %v", err)
	}
}

// helper is a second runner: this test binary run as helperProcess.
type helper struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *bufio.Scanner
	stderr strings.Builder
}

// startHelper starts r's second runner with env added.
func (r runner) startHelper(ctx context.Context, t *testing.T, env ...string) *helper {
	t.Helper()
	h := &helper{cmd: exec.CommandContext(ctx, os.Args[0], "-test.run=^"+r.test+"$", "-test.count=1")}
	h.cmd.Env = append(append(os.Environ(), helperDBEnv+"="+r.db), env...)
	stdin, err := h.cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := h.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	h.cmd.Stderr = &h.stderr
	if err := h.cmd.Start(); err != nil {
		t.Fatalf("start the second runner: %v", err)
	}
	h.stdin, h.out = stdin, bufio.NewScanner(stdout)
	return h
}

// wait waits for the second runner to exit, failing the test if it failed.
func (h *helper) wait(t *testing.T) {
	t.Helper()
	if err := h.cmd.Wait(); err != nil {
		t.Fatalf("second runner: %v\n%s", err, h.stderr.String())
	}
}
