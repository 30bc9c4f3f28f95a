package leasetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
)

func (s *suite) testReplayGuard(t *testing.T) {
	st := s.store(t)
	rg, ok := st.(lease.ReplayGuard)
	if !ok {
		t.Skipf("%T does not implement lease.ReplayGuard", st)
	}
	ctx := context.Background()
	later := time.Now().Add(time.Hour)

	t.Run("Once", func(t *testing.T) {
		if err := rg.UseToken(ctx, "jti-once", later); err != nil {
			t.Fatalf("first UseToken: %v", err)
		}
		if err := rg.UseToken(ctx, "jti-once", later); !errors.Is(err, lease.ErrReplayed) {
			t.Errorf("second UseToken: got %v, want ErrReplayed", err)
		}
		// A different expiry does not make the same key new.
		if err := rg.UseToken(ctx, "jti-once", later.Add(time.Hour)); !errors.Is(err, lease.ErrReplayed) {
			t.Errorf("UseToken with a later expiry: got %v, want ErrReplayed", err)
		}
		// Keys are independent.
		if err := rg.UseToken(ctx, "jti-other", later); err != nil {
			t.Errorf("UseToken of another key: %v", err)
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		const n = 20
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			errs  = make(chan error, n)
		)
		for range n {
			wg.Go(func() {
				<-start
				errs <- rg.UseToken(ctx, "jti-race", later)
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		oks := 0
		for err := range errs {
			switch {
			case err == nil:
				oks++
			case !errors.Is(err, lease.ErrReplayed):
				t.Errorf("concurrent UseToken: got %v, want nil or ErrReplayed", err)
			}
		}
		if oks != 1 {
			t.Errorf("%d of %d concurrent UseTokens succeeded, want exactly 1", oks, n)
		}
	})

	t.Run("Expired", func(t *testing.T) {
		exp := time.Now().Add(50 * time.Millisecond)
		if err := rg.UseToken(ctx, "jti-short", exp); err != nil {
			t.Fatalf("first UseToken: %v", err)
		}
		if err := rg.UseToken(ctx, "jti-short", exp); !errors.Is(err, lease.ErrReplayed) && time.Now().Before(exp) {
			t.Errorf("UseToken before expiry: got %v, want ErrReplayed", err)
		}
		time.Sleep(time.Until(exp) + 10*time.Millisecond)
		// The key may be forgotten after expiresAt (the token itself is then
		// refused as expired by the verifier).
		if err := rg.UseToken(ctx, "jti-short", later); err != nil {
			t.Errorf("UseToken after the key expired: %v", err)
		}
		if err := rg.UseToken(ctx, "jti-short", later); !errors.Is(err, lease.ErrReplayed) {
			t.Errorf("UseToken after re-use: got %v, want ErrReplayed", err)
		}
	})
}
