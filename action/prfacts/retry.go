package prfacts

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// retryPolicy: how often and how long to retry (the approach of
// internal/jobstate).
type retryPolicy struct {
	attempts int
	backoff  time.Duration
	maxAfter time.Duration
}

// outcome is what one attempt tells the retry loop.
type outcome struct {
	retryable  bool
	retryAfter time.Duration // the server's reset or Retry-After, if any
	// hard: no retry can succeed before retryAfter (GitHub's primary rate
	// limit), so a retryAfter beyond the cap means giving up now.
	hard bool
}

// do calls try until it succeeds, fails for good, or the attempts are
// spent, sleeping backoff·2^n (or the server's longer wait, capped at
// maxAfter) between attempts. It returns try's last error.
func (p retryPolicy) do(ctx context.Context, try func() (outcome, error)) error {
	for n := 0; ; n++ {
		o, err := try()
		if err == nil || !o.retryable || n+1 >= p.attempts || ctx.Err() != nil ||
			(o.hard && o.retryAfter > p.maxAfter) {
			return err
		}
		wait := p.backoff << n
		if o.retryAfter > wait {
			wait = o.retryAfter
		}
		wait = min(wait, p.maxAfter)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (retry interrupted: %w)", err, ctx.Err())
		case <-t.C:
		}
	}
}

// rateLimitSlack is added to GitHub's reset time, which has whole-second
// precision.
const rateLimitSlack = 250 * time.Millisecond

// classify says whether a failed request may succeed if repeated: network
// errors, HTTP 429 and 5xx may; other statuses and a cancelled context may
// not. GitHub signals rate limits with 403 too; go-github turns those into
// RateLimitError (retried after its reset) and AbuseRateLimitError
// (retried after its RetryAfter).
func classify(ctx context.Context, resp *http.Response, err error) outcome {
	var rl *github.RateLimitError
	var abuse *github.AbuseRateLimitError
	switch {
	case ctx.Err() != nil, errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return outcome{}
	case errors.As(err, &rl):
		return outcome{retryable: true, retryAfter: time.Until(rl.Rate.Reset.Time) + rateLimitSlack, hard: true}
	case errors.As(err, &abuse):
		return outcome{retryable: true, retryAfter: abuse.GetRetryAfter()}
	case resp == nil:
		return outcome{retryable: err != nil} // no answer: a network error
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return outcome{retryable: true, retryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now())}
	}
	return outcome{}
}

// retryAfter parses a Retry-After value: delay-seconds or an HTTP-date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(min(s, 86400)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
