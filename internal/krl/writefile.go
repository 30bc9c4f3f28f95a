package krl

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// WriteFile atomically replaces the file at path with data, readable by
// everyone (mode 0644) so that sshd can read it whatever user it checks
// keys as.
//
// The data is written to a temporary file in the same directory, flushed
// to disk, made 0644 and renamed over path; the directory is then synced
// so the rename itself is durable. A reader of path therefore sees either
// the old contents or the new, never a partial or missing file. On error
// path is left untouched and the temporary file is removed.
//
// If path is a symbolic link, the link itself is replaced by a regular
// file. The directory must be writable by the caller.
func WriteFile(path string, data []byte) (err error) {
	dir, base := filepath.Split(path)
	if base == "" {
		return fmt.Errorf("krl: write %q: path names a directory", path)
	}
	if dir == "" {
		dir = "."
	}

	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("krl: write %s: creating temporary file: %w", path, err)
	}
	tmpName := tmp.Name()
	renamed := false
	defer func() {
		if err != nil && !renamed {
			_ = tmp.Close() // may already be closed; the error is not news
			_ = os.Remove(tmpName)
		}
	}()

	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("krl: write %s: writing temporary file: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("krl: write %s: syncing temporary file: %w", path, err)
	}
	// CreateTemp makes the file 0600; Chmod is not subject to the umask.
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("krl: write %s: setting mode of temporary file: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("krl: write %s: closing temporary file: %w", path, err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("krl: write %s: renaming temporary file into place: %w", path, err)
	}
	renamed = true
	if err := syncDir(dir); err != nil {
		// The new file is in place; only its durability across a crash
		// is in doubt. Report it, but there is nothing left to clean up.
		return fmt.Errorf("krl: write %s: syncing directory: %w", path, err)
	}
	return nil
}

// syncDir fsyncs a directory so that a rename inside it survives a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	serr := d.Sync()
	cerr := d.Close()
	return errors.Join(serr, cerr)
}
