package engine

import (
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/loader"

	"github.com/jit-policy/jit-policy/policies"
)

// LibraryPackage is the package of the shipped Rego library.
const LibraryPackage = "data.jit.lib"

// Files is a loaded policy tree: parsed modules by file name and the data
// document merged from data.json/data.yaml files.
type Files struct {
	Modules map[string]*ast.Module
	Data    map[string]any
}

// LoadFiles loads policy paths the way OPA loads bundles: a directory
// yields every *.rego file below it and data only from data.json and
// data.yaml (other YAML and JSON, such as request files, workflows or
// jit-policy.yaml, is never data); a file path must be a .rego file.
// *_test.rego files are kept only when withTests is set. When no loaded
// module is in package jit.lib, the shipped library (without its tests) is
// added, so policies can import data.jit.lib.
func LoadFiles(paths []string, withTests bool) (*Files, error) {
	f := &Files{Modules: map[string]*ast.Module{}, Data: map[string]any{}}
	for _, p := range paths {
		if err := f.loadPath(p); err != nil {
			return nil, err
		}
	}
	if !withTests {
		maps.DeleteFunc(f.Modules, func(name string, _ *ast.Module) bool { return isTestFile(name) })
	}
	if !f.hasPackage(LibraryPackage) {
		if err := f.addLibrary(); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func (f *Files) loadPath(p string) error {
	info, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("loading policy: %w", err)
	}
	fl := loader.NewFileLoader().
		WithRegoVersion(ast.RegoV1).
		WithCapabilities(Capabilities()).
		WithProcessAnnotation(true).
		WithSkipBundleVerification(true)
	if !info.IsDir() {
		if !strings.HasSuffix(p, ".rego") {
			return fmt.Errorf("loading policy: %s is not a .rego file or a directory", p)
		}
		res, err := fl.All([]string{p})
		if err != nil {
			return fmt.Errorf("loading policy: %w", err)
		}
		for _, m := range res.Modules {
			f.Modules[m.Name] = m.Parsed
		}
		return nil
	}
	b, err := fl.AsBundle(p)
	if err != nil {
		return fmt.Errorf("loading policy from %s: %w", p, err)
	}
	for _, m := range b.Modules {
		f.Modules[m.Path] = m.Parsed
	}
	return mergeData(f.Data, b.Data, "data")
}

func (f *Files) hasPackage(pkg string) bool {
	for _, m := range f.Modules {
		if m.Package.Path.String() == pkg {
			return true
		}
	}
	return false
}

func (f *Files) addLibrary() error {
	lib := policies.FS()
	names, err := fs.Glob(lib, "*.rego")
	if err != nil {
		return fmt.Errorf("reading the embedded library: %w", err)
	}
	for _, name := range names {
		if isTestFile(name) {
			continue
		}
		src, err := fs.ReadFile(lib, name)
		if err != nil {
			return fmt.Errorf("reading the embedded library: %w", err)
		}
		file := path.Join(embeddedPrefix+"lib", name)
		m, err := ast.ParseModuleWithOpts(file, string(src), ast.ParserOptions{RegoVersion: ast.RegoV1, ProcessAnnotation: true})
		if err != nil {
			return fmt.Errorf("parsing the embedded library: %w", err)
		}
		f.Modules[file] = m
	}
	return nil
}

// embeddedPrefix starts the file name of every module jit-policy adds.
const embeddedPrefix = "jit-policy:"

// IsEmbedded reports whether a module file name is one jit-policy added
// (the shipped library), not one loaded from the user's paths.
func IsEmbedded(name string) bool { return strings.HasPrefix(name, embeddedPrefix) }

func isTestFile(name string) bool { return strings.HasSuffix(name, "_test.rego") }

// mergeData deep-merges src into dst; the same leaf in two data files is
// an error naming its path.
func mergeData(dst, src map[string]any, at string) error {
	for k, v := range src {
		existing, ok := dst[k]
		if !ok {
			dst[k] = v
			continue
		}
		de, dok := existing.(map[string]any)
		sv, sok := v.(map[string]any)
		if !dok || !sok {
			return fmt.Errorf("loading policy data: %s.%s is defined by two data files: keep one", at, k)
		}
		if err := mergeData(de, sv, at+"."+k); err != nil {
			return err
		}
	}
	return nil
}
