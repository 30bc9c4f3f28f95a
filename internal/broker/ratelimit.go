package broker

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxTrackedSubjects is how many subjects' limiters are kept before idle
// ones (bucket full again) are dropped. When that many are busy at once,
// new subjects share one overflow bucket, so the map never grows past it.
const maxTrackedSubjects = 10000

// subjectLimiter is a token bucket per token issuer and subject. Safe for concurrent
// use.
type subjectLimiter struct {
	limit    rate.Limit
	burst    int
	mu       sync.Mutex
	byKey    map[string]*rate.Limiter
	overflow *rate.Limiter // shared by new subjects while the map is full
}

func newSubjectLimiter(limit rate.Limit, burst int) *subjectLimiter {
	return &subjectLimiter{limit: limit, burst: burst, byKey: map[string]*rate.Limiter{}, overflow: rate.NewLimiter(limit, burst)}
}

// allow takes one token for subject at now; when there is none it returns
// false and how long until there will be.
func (l *subjectLimiter) allow(subject string, now time.Time) (bool, time.Duration) {
	if l.limit == rate.Inf {
		return true, 0
	}
	l.mu.Lock()
	lim, ok := l.byKey[subject]
	if !ok {
		if len(l.byKey) >= maxTrackedSubjects {
			l.dropIdle(now)
		}
		if len(l.byKey) < maxTrackedSubjects {
			lim = rate.NewLimiter(l.limit, l.burst)
			l.byKey[subject] = lim
		} else {
			lim = l.overflow
		}
	}
	l.mu.Unlock()
	res := lim.ReserveN(now, 1)
	if !res.OK() {
		return false, time.Minute
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// dropIdle forgets the limiters whose bucket is full: forgetting them
// changes nothing. l.mu is held.
func (l *subjectLimiter) dropIdle(now time.Time) {
	for k, lim := range l.byKey {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.byKey, k)
		}
	}
}

// retryAfter is d in whole seconds, rounded up, at least 1.
func retryAfter(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
