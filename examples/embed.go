// Package examples holds a complete example policy repository for jit-policy:
// jit-policy.yaml, a policy with its tests and data, input documents and a
// request file.
package examples

import (
	"embed"
	"io/fs"
)

//go:embed jit-policy.yaml policies inputs requests
var files embed.FS

// FS returns the example repository, rooted at its top (jit-policy.yaml,
// policies/, inputs/, requests/).
func FS() fs.FS { return files }
