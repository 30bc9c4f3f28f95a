package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/jit-policy/jit-policy/internal/lease"
)

// Exit codes of the lease commands.
const (
	exitLeftUnrevoked = 1 // something stayed unrevoked or unwritten
	exitUsage         = 2 // usage or config error
)

// leasesParams are the inputs of `jit-policy leases`.
type leasesParams struct {
	config, format, state string
	job, subject, issuer  string
	pr                    int
	out, err              io.Writer
}

func newLeasesCommand(s streams) *cobra.Command {
	p := leasesParams{out: s.out, err: s.err}
	cmd := &cobra.Command{
		Use:   "leases --config FILE",
		Short: "List leases",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return exit(runLeases(cmd.Context(), p)) },
	}
	cmd.Flags().StringVar(&p.config, "config", configFile, "jit-policy.yaml")
	cmd.Flags().StringVar(&p.format, "format", "table", "table or json")
	cmd.Flags().StringVar(&p.state, "state", "active", "active, revoked or all")
	cmd.Flags().StringVar(&p.job, "job", "", "only this job: OWNER/REPO/RUN_ID/ATTEMPT[/JOB_ID]")
	cmd.Flags().StringVar(&p.subject, "subject", "", "only this subject (token sub or PR requester)")
	cmd.Flags().StringVar(&p.issuer, "issuer", "", "only this issuer")
	cmd.Flags().IntVar(&p.pr, "pr", 0, "only this pull request")
	return cmd
}

func runLeases(ctx context.Context, p leasesParams) int {
	var states []lease.State
	switch p.state {
	case "active":
		states = []lease.State{lease.Pending, lease.Active, lease.Revoking}
	case "revoked":
		states = []lease.State{lease.Revoked}
	case "all":
	default:
		fmt.Fprintf(p.err, "--state %q: use active, revoked or all\n", p.state)
		return exitUsage
	}
	if p.format != "table" && p.format != "json" {
		fmt.Fprintf(p.err, "--format %q: use table or json\n", p.format)
		return exitUsage
	}
	rt, job, ok := openForJob(ctx, p.config, p.job, p.err)
	if !ok {
		return exitUsage
	}
	defer rt.Close()
	f := lease.Filter{States: states, Subject: p.subject, Issuer: p.issuer, PR: p.pr, Job: job}
	ls, err := rt.Leases.List(ctx, f)
	if err != nil {
		fmt.Fprintln(p.err, err)
		return exitLeftUnrevoked
	}
	if p.format == "json" {
		if ls == nil {
			ls = []lease.Lease{}
		}
		b, _ := json.MarshalIndent(ls, "", "  ")
		fmt.Fprintf(p.out, "%s\n", b)
		return exitOK
	}
	w := tabwriter.NewWriter(p.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "LEASE\tISSUER\tROLE\tSUBJECT\tJOB\tSTATE\tEXPIRES\tREVOKED BY")
	for _, l := range ls {
		job := strings.Trim(strings.Join([]string{l.Job.Repository, l.Job.RunID, l.Job.Attempt, l.Job.JobID}, "/"), "/")
		if l.PR != 0 {
			job = fmt.Sprintf("%s#%d", l.Job.Repository, l.PR)
		}
		revoked := "-"
		if l.RevokedBy != "" {
			revoked = l.RevokedBy + " " + l.RevokedAt.Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.ID, l.Issuer, l.Role, l.Subject, job, l.State, l.ExpiresAt.Format(time.RFC3339), revoked)
	}
	w.Flush()
	return exitOK
}
