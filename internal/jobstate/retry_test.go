package jobstate

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	at := time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"7", 7 * time.Second},
		{" 2 ", 2 * time.Second},
		{"-3", 0},
		{"soon", 0},
		{"99999999999", 24 * time.Hour},
		{at.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{at.Add(-time.Minute).Format(http.TimeFormat), 0},
	} {
		if got := retryAfter(tc.in, at); got != tc.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestRetryPolicy(t *testing.T) {
	p := retryPolicy{attempts: 3, backoff: time.Millisecond, maxAfter: 5 * time.Millisecond}
	fail := errors.New("boom")
	for _, tc := range []struct {
		name  string
		o     outcome
		calls int
	}{
		{"retryable", outcome{retryable: true}, 3},
		{"not retryable", outcome{}, 1},
		{"long Retry-After capped", outcome{retryable: true, retryAfter: time.Hour}, 3},
		{"hard limit past the cap", outcome{retryable: true, retryAfter: time.Hour, hard: true}, 1},
		{"hard limit within the cap", outcome{retryable: true, retryAfter: time.Millisecond, hard: true}, 3},
	} {
		calls := 0
		start := time.Now()
		err := p.do(context.Background(), func() (outcome, error) { calls++; return tc.o, fail })
		if !errors.Is(err, fail) || calls != tc.calls {
			t.Errorf("%s: %d calls, err %v; want %d calls", tc.name, calls, err, tc.calls)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: took %v, want the waits capped", tc.name, d)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := 0
	err := p.do(ctx, func() (outcome, error) { calls++; return outcome{retryable: true}, fail })
	if !errors.Is(err, fail) || calls != 1 {
		t.Errorf("cancelled context: %d calls, err %v; want 1 call", calls, err)
	}
}

func TestHuman(t *testing.T) {
	for d, want := range map[time.Duration]string{
		7 * time.Hour:                   "7h",
		6*time.Hour + 30*time.Minute:    "6h30m",
		45*time.Minute + 10*time.Second: "45m",
		120 * time.Hour:                 "120h",
		20 * time.Second:                "under a minute",
	} {
		if got := human(d); got != want {
			t.Errorf("human(%v) = %q, want %q", d, got, want)
		}
	}
}
