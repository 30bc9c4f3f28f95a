package leasetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
)

// twoProcesses checks that two processes claiming the same leases and using
// the same tokens at once over one database claim each lease, and use each
// token, exactly once.
func twoProcesses(t *testing.T, r runner) {
	st := r.st
	const n = 100
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i := range n {
		put(t, st, newLease(fmt.Sprintf("l%d", i)))
	}

	h := r.startHelper(ctx, t, fmt.Sprintf("%s=%d", helperNEnv, n))
	for h.out.Scan() && h.out.Text() != "ready" {
	}
	if _, err := io.WriteString(h.stdin, "go\n"); err != nil { // both contend from here on
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
		for h.out.Scan() {
			if kind, id, ok := strings.Cut(h.out.Text(), " "); ok && (kind == "claimed" || kind == "used") {
				record("child", kind, id)
			}
		}
	}()
	if err := contend(ctx, st, n, func(kind, id string) { record("parent", kind, id) }); err != nil {
		t.Errorf("parent: %v", err)
	}
	<-childDone
	h.wait(t)

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
		if l, err := st.Get(ctx, fmt.Sprintf("l%d", i)); err != nil || l.State != lease.Revoking {
			t.Errorf("lease l%d: %v, %v; want revoking", i, l.State, err)
		}
	}
	t.Logf("wins: %v", perProcess)
}

// replayOnSecondRunner checks that a token spent on one runner is refused
// on a second runner (another process sharing the database), and the other
// way round.
func replayOnSecondRunner(t *testing.T, r runner) {
	st := r.st
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := st.UseToken(ctx, "jti-runner-1", time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("UseToken on the first runner: %v", err)
	}

	h := r.startHelper(ctx, t, helperKeysEnv+"=jti-runner-1,jti-runner-2")
	h.stdin.Close()
	var lines []string
	for h.out.Scan() {
		if kind, _, _ := strings.Cut(h.out.Text(), " "); kind == "used" || kind == "replayed" {
			lines = append(lines, h.out.Text())
		}
	}
	h.wait(t)
	if got := strings.Join(lines, "; "); got != "replayed jti-runner-1; used jti-runner-2" {
		t.Errorf("second runner: %q, want the first runner's token replayed and its own used", got)
	}
	if err := st.UseToken(ctx, "jti-runner-2", time.Now().Add(time.Hour)); !errors.Is(err, lease.ErrReplayed) {
		t.Errorf("first runner using the second's token: got %v, want ErrReplayed", err)
	}
}
