// The revision of a policy: a hash of the files the loader reads.

package broker

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

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
