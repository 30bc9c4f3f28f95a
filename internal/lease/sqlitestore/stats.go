package sqlitestore

import (
	"slices"
	"sync"
	"time"
)

// Stats describes the store's group commits since it was opened.
type Stats struct {
	Commits    uint64        // transactions committed or attempted
	Ops        uint64        // write operations they carried
	CommitTime time.Duration // total time spent in COMMIT (including its fsync)
	// CommitMedian is the median time in COMMIT over the last commits (up
	// to commitSamples of them).
	CommitMedian time.Duration
}

// commitSamples is how many recent commit times Stats' median covers.
const commitSamples = 1024

// commitStats accumulates Stats; the committer records, anyone reads.
type commitStats struct {
	mu      sync.Mutex
	commits uint64
	ops     uint64
	total   time.Duration
	recent  [commitSamples]time.Duration // a ring, written at commits % commitSamples
}

func (c *commitStats) record(ops int, d time.Duration) {
	c.mu.Lock()
	c.recent[c.commits%commitSamples] = d
	c.commits++
	c.ops += uint64(ops)
	c.total += d
	c.mu.Unlock()
}

// Stats reports the store's group commits so far.
func (s *Store) Stats() Stats {
	c := &s.stats
	c.mu.Lock()
	st := Stats{Commits: c.commits, Ops: c.ops, CommitTime: c.total}
	recent := slices.Clone(c.recent[:min(c.commits, commitSamples)])
	c.mu.Unlock()
	if len(recent) > 0 {
		slices.Sort(recent)
		st.CommitMedian = recent[len(recent)/2]
	}
	return st
}
