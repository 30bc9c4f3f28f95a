package sqlitestore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
)

// Environment of the helper process that TestTwoProcesses starts.
const (
	helperDBEnv = "JIT_LEASE_HELPER_DB" // database path; unset: not the helper
	helperNEnv  = "JIT_LEASE_HELPER_N"  // number of leases and tokens
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

// TestHelperProcess is the child of TestTwoProcesses; alone it does nothing.
// It opens the database, prints "ready", waits for a line on stdin, then
// contends for the leases and tokens, printing "claimed ID" / "used KEY" for
// each it won.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(helperDBEnv)
	if path == "" {
		return
	}
	n, err := strconv.Atoi(os.Getenv(helperNEnv))
	if err != nil {
		t.Fatalf("helper: %s: %v", helperNEnv, err)
	}
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("helper: %v", err)
	}
	defer s.Close()
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

// Two processes claim the same leases and use the same tokens at once over
// one file: each lease is claimed, and each token used, exactly once.
func TestTwoProcesses(t *testing.T) {
	if os.Getenv(helperDBEnv) != "" {
		t.Skip("in the helper process")
	}
	const n = 100
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	path := filepath.Join(t.TempDir(), "leases.db")
	s := open(t, path)
	defer s.Close()
	for i := range n {
		if err := s.Put(ctx, testLease(fmt.Sprintf("l%d", i))); err != nil {
			t.Fatal(err)
		}
	}

	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperDBEnv+"="+path, helperNEnv+"="+strconv.Itoa(n))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start helper process: %v", err)
	}
	out := bufio.NewScanner(stdout)
	for out.Scan() && out.Text() != "ready" {
	}

	// Go: both processes contend from here on.
	if _, err := io.WriteString(stdin, "go\n"); err != nil {
		t.Fatalf("start the helper: %v", err)
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
		t.Fatalf("helper process: %v\n%s", err, stderr.String())
	}

	perProcess := map[string]int{}
	for _, kind := range []string{"claimed", "used"} {
		prefix := "l"
		if kind == "used" {
			prefix = "t"
		}
		for i := range n {
			key := fmt.Sprintf("%s %s%d", kind, prefix, i)
			if len(wins[key]) != 1 {
				t.Errorf("%s by %v, want exactly one process", key, wins[key])
			}
			for _, who := range wins[key] {
				perProcess[who+" "+kind]++
			}
		}
	}
	t.Logf("wins: %v", perProcess)
	for i := range n {
		if l, err := s.Get(ctx, fmt.Sprintf("l%d", i)); err != nil || l.State != lease.Revoking {
			t.Errorf("lease l%d: %v, %v; want revoking", i, l.State, err)
		}
	}
}
