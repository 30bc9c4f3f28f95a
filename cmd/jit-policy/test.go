package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"regexp"
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
