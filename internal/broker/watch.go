// Watching the policy folders: reloads on change (debounced) and on SIGHUP.

package broker

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// reloadDebounce is how long Watch waits after the last change in a policy
// folder before it reloads, so that an editor's or a checkout's burst of
// writes yields one reload.
const reloadDebounce = 250 * time.Millisecond

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
