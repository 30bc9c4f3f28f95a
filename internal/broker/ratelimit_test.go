package broker

import (
	"fmt"
	"testing"
	"time"
)

// TestSubjectLimiterBounded: however many subjects are busy at once, the
// limiter tracks at most maxTrackedSubjects; new ones share the overflow
// bucket, and idle ones are forgotten.
func TestSubjectLimiterBounded(t *testing.T) {
	l := newSubjectLimiter(1, 1) // one request per second, no burst beyond it
	now := time.Now()
	for i := range maxTrackedSubjects {
		if ok, _ := l.allow(fmt.Sprint("busy-", i), now); !ok {
			t.Fatalf("subject %d refused its first request", i)
		}
	}
	// Every tracked bucket is empty (busy): new subjects share one bucket.
	if ok, _ := l.allow("new-1", now); !ok {
		t.Fatal("the first new subject past the cap was refused")
	}
	if ok, _ := l.allow("new-2", now); ok {
		t.Fatal("a second new subject past the cap got its own budget")
	}
	if n := len(l.byKey); n != maxTrackedSubjects {
		t.Fatalf("tracking %d subjects, want at most %d", n, maxTrackedSubjects)
	}
	// Once the buckets refill, idle subjects are dropped and new ones tracked.
	later := now.Add(2 * time.Second)
	if ok, _ := l.allow("new-3", later); !ok {
		t.Fatal("a new subject after the others went idle was refused")
	}
	if n := len(l.byKey); n != 1 {
		t.Fatalf("tracking %d subjects after the idle ones were dropped, want 1", n)
	}
}
