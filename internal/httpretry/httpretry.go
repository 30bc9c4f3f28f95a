// Package httpretry retries HTTP API calls that may succeed if repeated:
// network errors, HTTP 429 and 5xx answers, and GitHub's rate limits
// (which go-github reports as RateLimitError and AbuseRateLimitError).
// It waits with exponential backoff, honouring the server's Retry-After
// or rate-limit reset up to a cap.
//
// [Classify] turns one attempt's answer into an [Outcome]; [Policy.Do]
// repeats the attempt as the outcomes allow. Callers that must not
// repeat a request the server may have acted on (a create that failed
// with a network error or 5xx) retry only outcomes with
// [Outcome.RateLimited] set. [Policy.GitHub] wraps one go-github call,
// and [BaseURL] checks the base URL of the API such a client calls.
package httpretry

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

// Policy says how often and how long to retry.
type Policy struct {
	// Attempts is the most attempts made, the first included.
	Attempts int
	// Backoff is the wait after the first failed attempt; it doubles
	// after each further one.
	Backoff time.Duration
	// MaxWait caps every wait, the server's requested one included.
	MaxWait time.Duration
}

// Outcome is what one attempt tells the retry loop.
type Outcome struct {
	// Retryable: repeating the attempt may succeed.
	Retryable bool
	// After is the least wait the server asked for (its Retry-After or
	// rate-limit reset), if any.
	After time.Duration
	// Hard: no retry can succeed before After (GitHub's primary rate
	// limit), so an After beyond [Policy.MaxWait] means giving up now.
	Hard bool
	// RateLimited: the server refused the request for a rate limit
	// (go-github's RateLimitError or AbuseRateLimitError, or HTTP 429),
	// so it did not act on it and repeating it cannot duplicate it.
	RateLimited bool
}

// Do calls try until it succeeds, fails for good, or the attempts are
// spent, sleeping Backoff·2^n (or the server's longer After, capped at
// MaxWait) between attempts. It returns try's last error; when ctx ends
// during a wait, that error wraps ctx's error too.
func (p Policy) Do(ctx context.Context, try func() (Outcome, error)) error {
	for n := 0; ; n++ {
		o, err := try()
		if err == nil || !o.Retryable || n+1 >= p.Attempts || ctx.Err() != nil ||
			(o.Hard && o.After > p.MaxWait) {
			return err
		}
		wait := p.Backoff << n
		if o.After > wait {
			wait = o.After
		}
		wait = min(wait, p.MaxWait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (retry interrupted: %w)", err, ctx.Err())
		case <-t.C:
		}
	}
}

// rateLimitSlack is added to GitHub's rate-limit reset time, which has
// whole-second precision.
const rateLimitSlack = 250 * time.Millisecond

// Classify says whether a failed request (its answer resp, nil when there
// was none, and its error err) may succeed if repeated: network errors,
// HTTP 429 and 5xx may; other statuses and an ended context may not.
// GitHub signals rate limits with 403 too; go-github turns those into
// RateLimitError (retried after its reset plus a little slack, and Hard)
// and AbuseRateLimitError (retried after its RetryAfter).
func Classify(ctx context.Context, resp *http.Response, err error) Outcome {
	var rl *github.RateLimitError
	var abuse *github.AbuseRateLimitError
	switch {
	case ctx.Err() != nil, errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return Outcome{}
	case errors.As(err, &rl):
		return Outcome{Retryable: true, After: time.Until(rl.Rate.Reset.Time) + rateLimitSlack, Hard: true, RateLimited: true}
	case errors.As(err, &abuse):
		return Outcome{Retryable: true, After: abuse.GetRetryAfter(), RateLimited: true}
	case resp == nil:
		return Outcome{Retryable: err != nil} // no answer: a network error
	case resp.StatusCode == http.StatusTooManyRequests:
		return Outcome{Retryable: true, After: RetryAfter(resp.Header.Get("Retry-After"), time.Now()), RateLimited: true}
	case resp.StatusCode >= 500:
		return Outcome{Retryable: true, After: RetryAfter(resp.Header.Get("Retry-After"), time.Now())}
	}
	return Outcome{}
}

// RetryAfter parses a Retry-After header value, delay-seconds (at most a
// day) or an HTTP-date (relative to now). It returns 0 for an empty,
// malformed, non-positive or past value.
func RetryAfter(v string, now time.Time) time.Duration {
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
