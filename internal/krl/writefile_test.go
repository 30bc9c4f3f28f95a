package krl

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

// dirNames lists the names in dir, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("reading directory: %v", err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFile(t *testing.T) {
	tests := []struct {
		name     string
		existing []byte // nil: no file before the write
		data     []byte
	}{
		{name: "creates", data: []byte("new")},
		{name: "replaces longer file", existing: bytes.Repeat([]byte("old"), 1000), data: []byte("new")},
		{name: "replaces shorter file", existing: []byte("old"), data: bytes.Repeat([]byte("new"), 1000)},
		{name: "empty data", existing: []byte("old"), data: []byte{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "revoked_keys")
			if tt.existing != nil {
				if err := os.WriteFile(path, tt.existing, 0o600); err != nil {
					t.Fatalf("writing existing file: %v", err)
				}
			}
			if err := WriteFile(path, tt.data); err != nil {
				t.Fatalf("WriteFile: %v", err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("reading back: %v", err)
			}
			if !bytes.Equal(got, tt.data) {
				t.Errorf("contents = %q, want %q", got, tt.data)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatalf("stat: %v", err)
			}
			if mode := fi.Mode(); mode != 0o644 {
				t.Errorf("mode = %v, want -rw-r--r--", mode)
			}
			if names := dirNames(t, dir); !slices.Equal(names, []string{"revoked_keys"}) {
				t.Errorf("directory holds %q, want only revoked_keys (no temporary files)", names)
			}
		})
	}
}

func TestWriteFileRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := WriteFile("krl", []byte("x")); err != nil {
		t.Fatalf("WriteFile: %v", err)
	}
	if names := dirNames(t, "."); !slices.Equal(names, []string{"krl"}) {
		t.Errorf("directory holds %q, want only krl", names)
	}
}

// TestWriteFileConcurrentReaders rewrites the file repeatedly while readers
// read it in a loop: every read must succeed and return one whole version.
func TestWriteFileConcurrentReaders(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "revoked_keys")
	versions := [][]byte{
		bytes.Repeat([]byte("a"), 100),
		bytes.Repeat([]byte("b"), 64<<10),
	}
	if err := WriteFile(path, versions[0]); err != nil {
		t.Fatalf("WriteFile: %v", err)
	}

	var stop atomic.Bool
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	var reads atomic.Int64
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				got, err := os.ReadFile(path)
				reads.Add(1)
				var failure string
				switch {
				case err != nil:
					failure = "read failed: " + err.Error()
				case !bytes.Equal(got, versions[0]) && !bytes.Equal(got, versions[1]):
					failure = fmt.Sprintf("read a partial or mixed file of %d bytes", len(got))
				}
				if failure != "" {
					mu.Lock()
					failures = append(failures, failure)
					mu.Unlock()
					return
				}
			}
		})
	}
	for i := range 50 {
		if err := WriteFile(path, versions[(i+1)%2]); err != nil {
			t.Errorf("WriteFile #%d: %v", i, err)
			break
		}
	}
	stop.Store(true)
	wg.Wait()

	for _, f := range failures {
		t.Errorf("reader: %s", f)
	}
	if reads.Load() == 0 {
		t.Errorf("readers never ran")
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"revoked_keys"}) {
		t.Errorf("directory holds %q, want only revoked_keys (no temporary files)", names)
	}
}

func TestWriteFileErrors(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(t *testing.T, dir string) string // returns the path to write
		wantErrIs error                                 // nil: any error
	}{
		{
			name:      "directory does not exist",
			setup:     func(t *testing.T, dir string) string { return filepath.Join(dir, "missing", "krl") },
			wantErrIs: fs.ErrNotExist,
		},
		{
			name: "path is a directory",
			setup: func(t *testing.T, dir string) string {
				p := filepath.Join(dir, "krl")
				if err := os.Mkdir(p, 0o755); err != nil {
					t.Fatalf("mkdir: %v", err)
				}
				if err := os.WriteFile(filepath.Join(p, "keep"), []byte("x"), 0o644); err != nil {
					t.Fatalf("writing file in directory: %v", err)
				}
				return p
			},
		},
		{
			name:  "path ends in a separator",
			setup: func(t *testing.T, dir string) string { return dir + string(filepath.Separator) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := tt.setup(t, dir)
			before := dirNames(t, dir)
			err := WriteFile(path, []byte("data"))
			if err == nil {
				t.Fatalf("WriteFile(%q) succeeded, want an error", path)
			}
			if tt.wantErrIs != nil && !errors.Is(err, tt.wantErrIs) {
				t.Errorf("WriteFile error = %v, want one wrapping %v", err, tt.wantErrIs)
			}
			if after := dirNames(t, dir); !slices.Equal(after, before) {
				t.Errorf("directory went from %q to %q: a temporary file was left behind", before, after)
			}
		})
	}
}
