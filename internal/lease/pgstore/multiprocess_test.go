package pgstore

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
	"github.com/jit-policy/jit-policy/internal/pgtest"
)

// Environment of the helper process, a second runner on the same database.
const (
	helperDSNEnv  = "JIT_PGSTORE_HELPER_DSN"  // connection string; unset: not the helper
	helperNEnv    = "JIT_PGSTORE_HELPER_N"    // contend: number of leases and tokens
	helperKeysEnv = "JIT_PGSTORE_HELPER_KEYS" // else: comma-separated token keys to use
)

// Goroutines per process that claim every lease and use every token.
const helperWorkers = 4

// contend claims every lease "l<i>" and uses every token "t<i>", i < n, from
// helperWorkers goroutines, and reports each one it won.
func contend(ctx context.Context, s *Store, n int, won func(kind, id string)) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for range helperWorkers {
		wg.Go(func() {
			for i := range n {
				id, key := fmt.Sprintf("l%d", i), fmt.Sprintf("t%d", i)
				_, cerr := s.Claim(ctx, id, time.Hour)
				if cerr == nil {
					won("claimed", id)
				}
				uerr := s.UseToken(ctx, key, time.Now().Add(time.Hour))
				if uerr == nil {
					won("used", key)
				}
				mu.Lock()
				if cerr != nil && !errors.Is(cerr, lease.ErrClaimed) {
					errs = append(errs, cerr)
				}
				if uerr != nil && !errors.Is(uerr, lease.ErrReplayed) {
					errs = append(errs, uerr)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// TestHelperProcess is the second runner of the tests below; alone it does
// nothing. With helperNEnv it prints "ready", waits for a line on stdin,
// then contends, printing "claimed ID" / "used KEY" for each it won. With
// helperKeysEnv it uses each key and prints "used KEY" or "replayed KEY".
func TestHelperProcess(t *testing.T) {
	dsn := os.Getenv(helperDSNEnv)
	if dsn == "" {
		return
	}
	ctx := context.Background()
	s, err := Open(ctx, dsn)
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

// helper starts this test binary as the second runner with env added.
func helper(ctx context.Context, t *testing.T, env ...string) (*exec.Cmd, io.WriteCloser, *bufio.Scanner, *strings.Builder) {
	t.Helper()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &strings.Builder{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the second runner: %v", err)
	}
	return cmd, stdin, bufio.NewScanner(stdout), stderr
}

// Two processes claim the same leases and use the same tokens at once over
// one database: each lease is claimed, and each token used, exactly once.
func TestTwoProcesses(t *testing.T) {
	const n = 100
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dsn := pgtest.NewDatabase(t)
	s := open(t, dsn)
	defer s.Close()
	for i := range n {
		if err := s.Put(ctx, testLease(fmt.Sprintf("l%d", i))); err != nil {
			t.Fatal(err)
		}
	}

	cmd, stdin, out, stderr := helper(ctx, t, helperDSNEnv+"="+dsn, helperNEnv+"="+strconv.Itoa(n))
	for out.Scan() && out.Text() != "ready" {
	}
	if _, err := io.WriteString(stdin, "go\n"); err != nil { // both contend from here on
		t.Fatalf("start the second runner: %v", err)
	}
	wins := map[string][]string{} // "claimed l3" -> ["parent", "child"]
	var mu sync.Mutex
	record := func(who, kind, id string) {
		mu.Lock()
		wins[kind+" "+id] = append(wins[kind+" "+id], who)
		mu.Unlock()
	}
	childDone := make(chan struct{})
	go func() {
		defer close(childDone)
		for out.Scan() {
			if kind, id, ok := strings.Cut(out.Text(), " "); ok && (kind == "claimed" || kind == "used") {
				record("child", kind, id)
			}
		}
	}()
	if err := contend(ctx, s, n, func(kind, id string) { record("parent", kind, id) }); err != nil {
		t.Errorf("parent: %v", err)
	}
	<-childDone
	if err := cmd.Wait(); err != nil {
		t.Fatalf("second runner: %v\n%s", err, stderr.String())
	}

	perProcess := map[string]int{}
	for i := range n {
		for _, key := range []string{fmt.Sprintf("claimed l%d", i), fmt.Sprintf("used t%d", i)} {
			if len(wins[key]) != 1 {
				t.Errorf("%s by %v, want exactly one process", key, wins[key])
			}
			for _, who := range wins[key] {
				perProcess[who+" "+strings.Fields(key)[0]]++
			}
		}
		if l, err := s.Get(ctx, fmt.Sprintf("l%d", i)); err != nil || l.State != lease.Revoking {
			t.Errorf("lease l%d: %v, %v; want revoking", i, l.State, err)
		}
	}
	t.Logf("wins: %v", perProcess)
}

// A token spent on one runner is refused on a second runner (another
// process sharing the database), and the other way round.
func TestReplayOnSecondRunner(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn := pgtest.NewDatabase(t)
	s := open(t, dsn)
	defer s.Close()
	if err := s.UseToken(ctx, "jti-runner-1", time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("UseToken on the first runner: %v", err)
	}

	cmd, stdin, out, stderr := helper(ctx, t, helperDSNEnv+"="+dsn, helperKeysEnv+"=jti-runner-1,jti-runner-2")
	stdin.Close()
	var lines []string
	for out.Scan() {
		if kind, _, _ := strings.Cut(out.Text(), " "); kind == "used" || kind == "replayed" {
			lines = append(lines, out.Text())
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("second runner: %v\n%s", err, stderr.String())
	}
	if got := strings.Join(lines, "; "); got != "replayed jti-runner-1; used jti-runner-2" {
		t.Errorf("second runner: %q, want the first runner's token replayed and its own used", got)
	}
	if err := s.UseToken(ctx, "jti-runner-2", time.Now().Add(time.Hour)); !errors.Is(err, lease.ErrReplayed) {
		t.Errorf("first runner using the second's token: got %v, want ErrReplayed", err)
	}
}
