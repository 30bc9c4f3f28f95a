package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// Exit codes shared by the commands (DESIGN.md, "Command line").
const (
	exitOK     = 0
	exitDenied = 1 // eval/issue/check: denied; test: nothing could run
	exitError  = 2 // eval/issue/check: error (also a denial); test: a test failed
)

// streams are the standard streams a command reads and writes.
type streams struct {
	in  io.Reader
	out io.Writer
	err io.Writer
}

// exitCodeError carries a command's exit code out of cobra's RunE.
type exitCodeError struct{ code int }

func (e exitCodeError) Error() string { return fmt.Sprintf("exit code %d", e.code) }

// run parses args and runs one command, returning its exit code. Usage
// errors exit 2.
func run(ctx context.Context, args []string, s streams) int {
	root := &cobra.Command{
		Use:           "jit-policy",
		Short:         "Just-in-time access decided by Rego policies in git",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(s.in)
	root.SetOut(s.out)
	root.SetErr(s.err)
	root.SetArgs(args)
	root.AddCommand(newTestCommand(s), newEvalCommand(s), newDemoCommand(s), newCheckCommand(s), newServeCommand(s),
		newIssueCommand(s), newLeasesCommand(s), newRevokeCommand(s), newSweepCommand(s), newKRLCommand(s), newCRLCommand(s), newCACommand(s), newActionCommand(s))
	err := root.ExecuteContext(ctx)
	if ec, ok := errors.AsType[exitCodeError](err); ok {
		return ec.code
	}
	if err != nil {
		fmt.Fprintf(s.err, "jit-policy: %v\n", err)
		return exitError
	}
	return exitOK
}

// exit turns a command's exit code into what RunE returns.
func exit(code int) error {
	if code == exitOK {
		return nil
	}
	return exitCodeError{code: code}
}
