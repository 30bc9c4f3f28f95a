package main

import (
	"errors"
	"os"

	"github.com/spf13/cobra"

	"github.com/jit-policy/jit-policy/action"
)

// newActionCommand is `jit-policy action run|post`, what action.yml's
// JavaScript shim runs in the main and the post step. Both take no flags:
// they read the step's INPUT_* and STATE_* variables and the runner's
// files (package action).
func newActionCommand(s streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "action",
		Short: "The GitHub Action's steps (run by action.yml)",
		Args:  cobra.NoArgs,
		RunE:  func(*cobra.Command, []string) error { return errors.New("action: give run or post") },
	}
	run := &cobra.Command{
		Use:   "run",
		Short: "Issue the credential the step's inputs ask for (the action's main step)",
		Long: `Read the step's inputs (INPUT_ISSUER, INPUT_ROLE, …), get the job's OIDC
token from the runner, issue, mask every secret, and write the step outputs,
the post step's state, the job summary and, when asked, GITHUB_ENV and an
ssh-agent. Exit 0 issued, 1 denied (one ::error:: per reason), 2 error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return exit(action.Run(cmd.Context(), action.RunParams{Getenv: os.Getenv, Stdout: s.out, Stderr: s.err}))
		},
	}
	post := &cobra.Command{
		Use:   "post",
		Short: "Revoke the leases the main step issued (the action's post step)",
		Long: `Revoke exactly the leases in this step's state (STATE_lease-ids), stop
the ssh-agent the main step started, and add what was revoked to the job
summary. Exit 0 all revoked (or nothing to do), 1 a lease stayed unrevoked
(one ::error:: each), 2 the state or the config could not be read.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return exit(action.Post(cmd.Context(), action.PostParams{Getenv: os.Getenv, Stdout: s.out, Stderr: s.err}))
		},
	}
	cmd.AddCommand(run, post)
	return cmd
}
