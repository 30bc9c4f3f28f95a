package broker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jit-policy/jit-policy/engine"
)

// loadAttempts bounds how often a load is retried when the policy files
// change while they are being read.
const loadAttempts = 3

// Policy is a Decider (see
// [github.com/jit-policy/jit-policy/internal/exchange.Decider]) whose engine can be replaced
// while requests run: [Policy.Reload] compiles the policy folders anew and
// swaps the engine in atomically; a reload that fails keeps the previous
// policy in force. [Policy.Watch] reloads on SIGHUP and when the folders
// change.
//
// A Policy is safe for concurrent use. Decide takes no lock: it reads the
// current engine with one atomic load, so requests in flight during a
// reload finish on the engine they started with.
type Policy struct {
	dirs []string
	opts engine.Options

	cur atomic.Pointer[loadedPolicy]

	// reloadMu serialises reloads, so that a slow compile of older files
	// never replaces the engine of a newer one, and guards attempted.
	reloadMu sync.Mutex
	// attempted is the revision of the files the last load attempt read,
	// successful or not ("" when they could not be read). Watch skips a
	// reload when the files on disk still hash to it.
	attempted string
}

// loadedPolicy is one compiled policy and what Loaded reports about it;
// it is replaced as a whole, never modified.
type loadedPolicy struct {
	eng      *engine.Engine
	at       time.Time
	revision string
}

// LoadPolicy loads and compiles the policy paths (folders, or single .rego
// files) with [engine.Load]. This first load must succeed: its error is
// returned as is. opts (the audit sink, the timeout) are kept for every
// reload.
func LoadPolicy(ctx context.Context, dirs []string, opts engine.Options) (*Policy, error) {
	if len(dirs) == 0 {
		return nil, errors.New("loading policy: no policy folder given")
	}
	p := &Policy{dirs: append([]string(nil), dirs...), opts: opts}
	l, attempted, err := load(ctx, p.dirs, p.opts)
	if err != nil {
		return nil, err
	}
	p.attempted = attempted
	p.cur.Store(l)
	return p, nil
}

// Decide evaluates in against the current policy (see [engine.Engine.Decide]).
// It takes no lock and allocates nothing beyond the engine's own work.
func (p *Policy) Decide(ctx context.Context, in engine.Input) (engine.Decision, error) {
	return p.cur.Load().eng.Decide(ctx, in)
}

// Loaded reports when the policy in force was loaded and its revision: the
// hex SHA-256 of the loaded files (their paths and contents: every .rego
// file other than *_test.rego, and data.json, data.yaml, data.yml and
// .manifest files), for readiness checks and logs.
func (p *Policy) Loaded() (at time.Time, revision string) {
	l := p.cur.Load()
	return l.at, l.revision
}

// Reload loads and compiles the policy folders anew and puts the result in
// force. If that fails, the previous policy stays in force and the error,
// which says so and names the file and line of each problem, is returned.
// Reloads are serialised; decisions go on during a reload.
func (p *Policy) Reload(ctx context.Context) error {
	p.reloadMu.Lock()
	defer p.reloadMu.Unlock()
	return p.reloadLocked(ctx)
}

func (p *Policy) reloadLocked(ctx context.Context) error {
	l, attempted, err := load(ctx, p.dirs, p.opts)
	p.attempted = attempted
	if err != nil {
		prev := p.cur.Load()
		return fmt.Errorf("policy reload failed; the previous policy (revision %s, loaded %s) stays in force: %w",
			shortRevision(prev.revision), prev.at.Format(time.RFC3339), err)
	}
	p.cur.Store(l)
	return nil
}

// reloadIfChanged reloads unless the policy files on disk still hash to
// the revision the last attempt read (an unrelated file, a chmod or an
// editor's swap file changed); it reports whether it reloaded.
func (p *Policy) reloadIfChanged(ctx context.Context) (bool, error) {
	p.reloadMu.Lock()
	defer p.reloadMu.Unlock()
	if rev, err := revision(p.dirs); err == nil && rev == p.attempted {
		return false, nil
	}
	return true, p.reloadLocked(ctx)
}

// load compiles the policy and hashes its files before and after, retrying
// when they changed in between so that the revision describes the engine.
// It returns the revision it read even when compiling fails.
func load(ctx context.Context, dirs []string, opts engine.Options) (*loadedPolicy, string, error) {
	for range loadAttempts {
		before, err := revision(dirs)
		if err != nil {
			return nil, "", fmt.Errorf("loading policy: %w", err)
		}
		eng, err := engine.Load(ctx, dirs, opts)
		if err != nil {
			return nil, before, err
		}
		after, err := revision(dirs)
		if err != nil {
			return nil, "", fmt.Errorf("loading policy: %w", err)
		}
		if after == before {
			return &loadedPolicy{eng: eng, at: time.Now(), revision: before}, before, nil
		}
	}
	return nil, "", fmt.Errorf("loading policy: the files kept changing while they were read (%d attempts): try again", loadAttempts)
}
