package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/cover"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
	"github.com/open-policy-agent/opa/v1/topdown"
	"github.com/open-policy-agent/opa/v1/topdown/lineage"
	"github.com/spf13/cobra"

	"github.com/jit-policy/jit-policy/engine"
	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/internal/request"
)

// configFile is the name of jit-policy's configuration file.
const configFile = "jit-policy.yaml"

// testParams are the inputs of `jit-policy test`.
type testParams struct {
	paths     []string
	format    string // pretty or json
	verbose   bool
	run       string
	coverage  bool
	threshold float64
	timeout   time.Duration
	out, err  io.Writer
}

func newTestCommand(s streams) *cobra.Command {
	p := testParams{out: s.out, err: s.err}
	cmd := &cobra.Command{
		Use:   "test [PATH...]",
		Short: "Run the Rego unit tests of a policy tree, as `opa test` does",
		Long: `Run the Rego unit tests (rules named test_*) of the given policy folders or
.rego files after a strict compile against jit-policy's capabilities.

Folders load like OPA bundles: every *.rego file, and data only from files
named data.json or data.yaml; other YAML and JSON (request files, workflows,
jit-policy.yaml) is never data. Without PATH it tests the policy: folder of
./jit-policy.yaml, else the current folder. Every jit-policy.yaml found is
validated, and so is every *.yaml or *.yml request file in a folder named
requests (hidden folders skipped). Exit codes as opa test: 0 pass, 2 a test failed or coverage is
under the threshold, 1 nothing could run.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			p.paths = args
			return exit(runTest(cmd.Context(), p))
		},
	}
	f := cmd.Flags()
	f.StringVar(&p.format, "format", "pretty", "output format: pretty or json")
	f.BoolVarP(&p.verbose, "verbose", "v", false, "print every test and its trace on failure")
	f.StringVar(&p.run, "run", "", "run only tests whose name matches this regular expression")
	f.BoolVar(&p.coverage, "coverage", false, "print a JSON coverage report instead of test results")
	f.Float64Var(&p.threshold, "threshold", 0, "with --coverage, fail (exit 2) under this percentage")
	f.DurationVar(&p.timeout, "timeout", 5*time.Second, "timeout for each test")
	return cmd
}

// runTest runs the tests and returns opa test's exit code.
func runTest(ctx context.Context, p testParams) int {
	if p.format != "pretty" && p.format != "json" {
		fmt.Fprintf(p.err, "--format %q: use pretty or json\n", p.format)
		return 1
	}
	if p.threshold < 0 || p.threshold > 100 {
		fmt.Fprintln(p.err, "--threshold must be between 0 and 100")
		return 1
	}
	if p.threshold > 0 {
		p.coverage = true
	}
	if _, err := regexp.Compile(p.run); err != nil {
		fmt.Fprintf(p.err, "--run: %v\n", err)
		return 1
	}
	paths, requests, err := testPaths(p.paths)
	if err != nil {
		fmt.Fprintln(p.err, err)
		return 1
	}
	p.paths = paths
	if err := validateFiles(paths, requests); err != nil {
		fmt.Fprintln(p.err, err)
		return 1
	}
	files, err := engine.LoadFiles(paths, true)
	if err != nil {
		fmt.Fprintln(p.err, err)
		return 1
	}
	return runTester(ctx, p, files)
}

// testPaths is what to test: the given paths, else the policy folder of
// ./jit-policy.yaml, with its request files' folder (pull_requests.requests)
// to validate, else ".". The config is read without the environment
// (config.CheckFile): tests run in pull requests, which hold no secrets.
func testPaths(args []string) (paths []string, requests string, err error) {
	if len(args) > 0 {
		return args, "", nil
	}
	checked, err := config.CheckFile(configFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return []string{"."}, "", nil
	case err != nil:
		return nil, "", err
	}
	return []string{checked.Policy}, checked.Requests, nil
}

// validateFiles decodes every jit-policy.yaml under paths strictly, without
// the environment (values holding ${NAME} are not checked), and every
// request file: each *.yaml or *.yml file inside a folder named
// requests, outside hidden folders, other than data.yaml (which is policy
// data), and, when requests is set, every *.yaml or *.yml file in that
// folder (the config's pull_requests.requests; missing is fine).
func validateFiles(paths []string, requests string) error {
	var errs []error
	for _, root := range paths {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == ".git" || (requests != "" && filepath.Clean(path) == filepath.Clean(requests))) {
				return filepath.SkipDir // the requests folder is read below
			}
			switch {
			case d.IsDir():
			case d.Name() == configFile:
				if _, err := config.CheckFile(path); err != nil {
					errs = append(errs, err)
				}
			case isRequestFile(root, path):
				if err := validateRequest(path); err != nil {
					errs = append(errs, err)
				}
			}
			return nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("reading %s: %w", root, err))
		}
	}
	if requests != "" {
		errs = append(errs, validateRequestDir(requests))
	}
	return errors.Join(errs...)
}

// validateRequestDir decodes every *.yaml or *.yml file under dir, outside
// hidden folders, as a request file. A missing dir holds none.
func validateRequestDir(dir string) error {
	var errs []error
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && path != dir && strings.HasPrefix(d.Name(), "."):
			return filepath.SkipDir
		case !d.IsDir() && isYAML(d.Name()):
			if err := validateRequest(path); err != nil {
				errs = append(errs, err)
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, fmt.Errorf("reading the request files in %s: %w", dir, err))
	}
	return errors.Join(errs...)
}

// isYAML reports whether a file name ends in .yaml or .yml.
func isYAML(name string) bool {
	ext := filepath.Ext(name)
	return ext == ".yaml" || ext == ".yml"
}

// isRequestFile reports whether path, found under root, is a request file:
// a *.yaml or *.yml file (not data.yaml or data.yml) in a folder named
// requests, with no hidden folder between root and it.
func isRequestFile(root, path string) bool {
	name := filepath.Base(path)
	if !isYAML(name) || name == "data.yaml" || name == "data.yml" {
		return false
	}
	if rel, err := filepath.Rel(root, path); err == nil {
		for _, dir := range strings.Split(filepath.ToSlash(filepath.Dir(rel)), "/") {
			if strings.HasPrefix(dir, ".") && dir != "." && dir != ".." {
				return false
			}
		}
	}
	return slices.Contains(strings.Split(filepath.ToSlash(filepath.Dir(filepath.Clean(path))), "/"), "requests")
}

// validateRequest decodes the request file at path strictly.
func validateRequest(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = request.Read(path, f)
	return err
}

func runTester(ctx context.Context, p testParams, files *engine.Files) int {
	store := inmem.NewFromObject(files.Data)
	txn, err := store.NewTransaction(ctx, storage.WriteParams)
	if err != nil {
		fmt.Fprintln(p.err, err)
		return 1
	}
	defer store.Abort(ctx, txn)

	compiler := ast.NewCompiler().
		WithStrict(true).
		WithCapabilities(engine.Capabilities()).
		WithEnablePrintStatements(true)
	var cov *cover.Cover
	var tracer topdown.QueryTracer
	if p.coverage {
		cov = cover.New()
		tracer = cov
	}
	runner := tester.NewRunner().
		SetCompiler(compiler).
		SetStore(store).
		SetModules(files.Modules).
		CapturePrintOutput(true).
		EnableTracing(p.verbose).
		SetCoverageQueryTracer(tracer).
		SetTimeout(p.timeout).
		Filter(p.run)
	ch, err := runner.RunTests(ctx, txn)
	if err != nil {
		fmt.Fprintln(p.err, err)
		return 1
	}
	exitCode, ran := 0, 0
	results := make(chan *tester.Result)
	go func() {
		defer close(results)
		for r := range ch {
			ran++
			if !r.Pass() {
				exitCode = 2
			}
			if p.verbose {
				r.Trace = lineage.Filter(r.Trace, func(ev *topdown.Event) bool {
					return ev.Op == topdown.NoteOp || ev.Op == topdown.FailOp
				})
			}
			results <- r
		}
	}()
	// Coverage is of the user's own modules, not of the shipped library.
	own := maps.Clone(files.Modules)
	maps.DeleteFunc(own, func(name string, _ *ast.Module) bool { return engine.IsEmbedded(name) })
	if err := reporter(p, cov, own).Report(results); err != nil {
		fmt.Fprintln(p.err, err)
		if _, ok := errors.AsType[*cover.CoverageThresholdError](err); ok {
			return 2
		}
		return 1
	}
	// Report returns once results is closed: exitCode and ran are final.
	if ran == 0 {
		fmt.Fprintln(p.err, noTestsMessage(p, files))
		return 1
	}
	return exitCode
}

// noTestsMessage says why no test ran.
func noTestsMessage(p testParams, files *engine.Files) string {
	where := strings.Join(p.paths, ", ")
	hasTestFile := false
	for name := range files.Modules {
		hasTestFile = hasTestFile || strings.HasSuffix(name, "_test.rego")
	}
	switch {
	case !hasTestFile:
		return "no tests ran: no *_test.rego files under " + where + "; add tests, or pass the folder that holds them"
	case p.run != "":
		return fmt.Sprintf("no tests ran: no test matches --run %q; check it against the test names (-v lists them)", p.run)
	}
	return "no tests ran: no rules named test_* under " + where + "; name each test rule test_…"
}

func reporter(p testParams, cov *cover.Cover, modules map[string]*ast.Module) tester.Reporter {
	switch {
	case p.coverage:
		return tester.JSONCoverageReporter{Cover: cov, Modules: modules, Output: p.out, Threshold: p.threshold, Verbose: p.verbose}
	case p.format == "json":
		return tester.JSONReporter{Output: p.out}
	}
	return tester.PrettyReporter{Output: p.out, Verbose: p.verbose}
}
