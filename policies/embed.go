// Package policies holds jit-policy's shipped Rego library, package jit.lib
// (lib.rego), and its unit tests (lib_test.rego).
package policies

import (
	"embed"
	"io/fs"
)

//go:embed *.rego
var files embed.FS

// FS returns the shipped Rego library: lib.rego (package jit.lib) and its
// unit tests. Files named *_test.rego are the library's unit tests and are
// never part of a decision.
func FS() fs.FS { return files }
