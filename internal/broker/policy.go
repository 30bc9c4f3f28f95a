package broker

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/jit-policy/jit-policy/engine"
)

// reloadDebounce is how long Watch waits after the last change in a policy
// folder before it reloads, so that an editor's or a checkout's burst of
// writes yields one reload.
const reloadDebounce = 250 * time.Millisecond

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

// Watch reloads the policy when one of its folders changes (recursively,
// including subfolders created later; bursts of changes are debounced to
// one reload ~250 ms after the last) and whenever the process receives
// SIGHUP. It calls onReload (if not nil) after each reload with its result:
// nil when the new policy is in force, otherwise the error of
// [Policy.Reload] (the previous policy stays in force). Problems of the
// watch itself (such as lost events, after which it reloads anyway) are
// reported through onReload too. A change that leaves the loaded files as
// they were (an editor's swap file, a test file, a chmod) causes no reload.
//
// While Watch runs, SIGHUP no longer terminates the process; the handler is
// removed when Watch returns. Watch blocks until ctx is done and then
// returns nil; it returns an error only when the watch cannot be set up or
// fails for good. onReload is called from Watch's goroutine, one call at a
// time.
func (p *Policy) Watch(ctx context.Context, onReload func(err error)) error {
	if onReload == nil {
		onReload = func(error) {}
	}
	roots, err := watchRoots(p.dirs)
	if err != nil {
		return err
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watching the policy folders: %w", err)
	}
	defer w.Close()
	for _, r := range roots {
		// The parent shows a root being replaced or recreated (a rename
		// into place, a checkout); best effort: the root's own watch is
		// what matters.
		if parent := filepath.Dir(r.path); parent != r.path {
			_ = w.Add(parent)
		}
		if r.dir {
			if err := addTree(w, r.path); err != nil {
				return fmt.Errorf("watching the policy folder %s: %w", r.path, err)
			}
		}
	}

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	debounce := time.NewTimer(reloadDebounce)
	debounce.Stop()
	defer debounce.Stop()

	for {
		select {
		case <-ctx.Done():
			return nil

		case <-hup:
			debounce.Stop() // this reload covers pending changes
			err := p.Reload(ctx)
			if ctx.Err() != nil {
				return nil
			}
			onReload(err)

		case <-debounce.C:
			reloaded, err := p.reloadIfChanged(ctx)
			if ctx.Err() != nil {
				return nil
			}
			if reloaded {
				onReload(err)
			}

		case ev, ok := <-w.Events:
			if !ok {
				return errors.New("watching the policy folders: the watcher stopped")
			}
			name := filepath.Clean(ev.Name)
			r, ok := rootOf(roots, name)
			if !ok || ev.Op == fsnotify.Chmod {
				continue
			}
			if r.dir && ev.Has(fsnotify.Create) {
				// A new subfolder (or the root recreated): watch it and
				// everything already in it. Its files are read by the
				// reload below, so none created before the watch is missed.
				if info, err := os.Lstat(name); err == nil && info.IsDir() {
					if err := addTree(w, name); err != nil {
						onReload(fmt.Errorf("watching the new policy folder %s (its later changes may go unnoticed until SIGHUP): %w", name, err))
					}
				}
			}
			debounce.Reset(reloadDebounce)

		case err, ok := <-w.Errors:
			if !ok {
				return errors.New("watching the policy folders: the watcher stopped")
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				debounce.Reset(reloadDebounce)
				err = fmt.Errorf("%w (reloading to catch up)", err)
			}
			onReload(fmt.Errorf("watching the policy folders: %w", err))
		}
	}
}

// watchRoot is one policy path as Watch sees it: absolute, and whether it
// is a folder (watched with its subfolders) or a single file.
type watchRoot struct {
	path string
	dir  bool
}

func watchRoots(dirs []string) ([]watchRoot, error) {
	roots := make([]watchRoot, 0, len(dirs))
	for _, d := range dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, fmt.Errorf("watching the policy folder %s: %w", d, err)
		}
		info, err := os.Stat(abs)
		if err != nil {
			return nil, fmt.Errorf("watching the policy folder: %w", err)
		}
		roots = append(roots, watchRoot{path: abs, dir: info.IsDir()})
	}
	return roots, nil
}

// rootOf returns the root an event path belongs to: the root itself, or a
// path below a folder root. Events for other files in a root's parent are
// not the policy's.
func rootOf(roots []watchRoot, name string) (watchRoot, bool) {
	for _, r := range roots {
		if name == r.path || (r.dir && strings.HasPrefix(name, r.path+string(filepath.Separator))) {
			return r, true
		}
	}
	return watchRoot{}, false
}

// addTree watches dir and every folder below it. Like the policy loader it
// does not follow symbolic links below dir.
func addTree(w *fsnotify.Watcher, dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == dir {
				return err
			}
			return nil // vanished or unreadable: the loader skips it too
		}
		if !d.IsDir() {
			return nil
		}
		return w.Add(path)
	})
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

// revision hashes the files the policy loader reads below paths: their
// paths (relative to their root) and contents, in a fixed order.
func revision(paths []string) (string, error) {
	h := sha256.New()
	for i, root := range paths {
		info, err := os.Stat(root)
		if err != nil {
			return "", err
		}
		if !info.IsDir() {
			if err := hashFile(h, i, filepath.Base(root), root); err != nil {
				return "", err
			}
			continue
		}
		// WalkDir visits entries in lexical order, so the hash is stable.
		err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if path == root {
					return err
				}
				return nil // the loader skips what it cannot list
			}
			if !d.Type().IsRegular() || !isPolicyFile(d.Name()) {
				return nil
			}
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			return hashFile(h, i, filepath.ToSlash(rel), path)
		})
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// isPolicyFile reports whether the loader reads a file of this name from a
// policy folder (tests are excluded from a served policy).
func isPolicyFile(name string) bool {
	switch name {
	case "data.json", "data.yaml", "data.yml", ".manifest":
		return true
	}
	return strings.HasSuffix(name, ".rego") && !strings.HasSuffix(name, "_test.rego")
}

// hashFile writes one file as root index, name and length-prefixed
// contents, so that no two file sets hash alike by concatenation.
func hashFile(h hash.Hash, root int, name, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var hdr [24]byte
	binary.BigEndian.PutUint64(hdr[0:8], uint64(root))
	binary.BigEndian.PutUint64(hdr[8:16], uint64(len(name)))
	binary.BigEndian.PutUint64(hdr[16:24], uint64(len(data)))
	h.Write(hdr[:])
	io.WriteString(h, name)
	h.Write(data)
	return nil
}

// shortRevision is a revision as logs show it.
func shortRevision(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}
