package httpretry

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
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
		if got := RetryAfter(tc.in, at); got != tc.want {
			t.Errorf("RetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestPolicyDo(t *testing.T) {
	p := Policy{Attempts: 3, Backoff: time.Millisecond, MaxWait: 5 * time.Millisecond}
	fail := errors.New("boom")
	for _, tc := range []struct {
		name  string
		o     Outcome
		calls int
	}{
		{"retryable", Outcome{Retryable: true}, 3},
		{"not retryable", Outcome{}, 1},
		{"long Retry-After capped", Outcome{Retryable: true, After: time.Hour}, 3},
		{"hard limit past the cap", Outcome{Retryable: true, After: time.Hour, Hard: true}, 1},
		{"hard limit within the cap", Outcome{Retryable: true, After: time.Millisecond, Hard: true}, 3},
	} {
		calls := 0
		start := time.Now()
		err := p.Do(context.Background(), func() (Outcome, error) { calls++; return tc.o, fail })
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
	err := p.Do(ctx, func() (Outcome, error) { calls++; return Outcome{Retryable: true}, fail })
	if !errors.Is(err, fail) || calls != 1 {
		t.Errorf("cancelled context: %d calls, err %v; want 1 call", calls, err)
	}
}

func TestPolicyDoSucceeds(t *testing.T) {
	p := Policy{Attempts: 3, Backoff: time.Millisecond, MaxWait: 5 * time.Millisecond}
	calls := 0
	err := p.Do(context.Background(), func() (Outcome, error) {
		calls++
		if calls < 2 {
			return Outcome{Retryable: true}, errors.New("boom")
		}
		return Outcome{}, nil
	})
	if err != nil || calls != 2 {
		t.Errorf("%d calls, err %v; want 2 calls, no error", calls, err)
	}
}

func TestClassify(t *testing.T) {
	ctx := context.Background()
	fail := errors.New("boom")
	status := func(code int, retryAfter string) *http.Response {
		h := http.Header{}
		if retryAfter != "" {
			h.Set("Retry-After", retryAfter)
		}
		return &http.Response{StatusCode: code, Header: h}
	}
	reset := time.Now().Add(time.Hour)
	rl := &github.RateLimitError{Rate: github.Rate{Reset: github.Timestamp{Time: reset}}}
	wait := 3 * time.Second
	abuse := &github.AbuseRateLimitError{RetryAfter: &wait}
	for _, tc := range []struct {
		name string
		resp *http.Response
		err  error
		want Outcome
	}{
		{"network error", nil, fail, Outcome{Retryable: true}},
		{"no error, no answer", nil, nil, Outcome{}},
		{"cancelled", nil, context.Canceled, Outcome{}},
		{"deadline", nil, context.DeadlineExceeded, Outcome{}},
		{"404", status(404, "5"), fail, Outcome{}},
		{"403", status(403, ""), fail, Outcome{}},
		{"429", status(429, "7"), fail, Outcome{Retryable: true, After: 7 * time.Second, RateLimited: true}},
		{"500", status(500, ""), fail, Outcome{Retryable: true}},
		{"503 with Retry-After", status(503, "2"), fail, Outcome{Retryable: true, After: 2 * time.Second}},
		{"abuse rate limit", status(403, ""), abuse, Outcome{Retryable: true, After: 3 * time.Second, RateLimited: true}},
	} {
		if got := Classify(ctx, tc.resp, tc.err); got != tc.want {
			t.Errorf("%s: Classify = %+v, want %+v", tc.name, got, tc.want)
		}
	}

	o := Classify(ctx, status(403, ""), rl)
	if !o.Retryable || !o.Hard || !o.RateLimited {
		t.Errorf("rate limit: Classify = %+v, want retryable, hard, rate-limited", o)
	}
	if lo, hi := time.Hour, time.Hour+rateLimitSlack; o.After <= lo-time.Second || o.After > hi {
		t.Errorf("rate limit: After = %v, want about %v", o.After, hi)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if o := Classify(cancelled, status(503, ""), fail); o != (Outcome{}) {
		t.Errorf("ended context: Classify = %+v, want not retryable", o)
	}
}
