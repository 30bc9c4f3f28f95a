package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jit-policy/jit-policy/internal/app"
	"github.com/jit-policy/jit-policy/internal/brokerapi"
	"github.com/jit-policy/jit-policy/internal/brokerclient"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/revocation"
)

// revokeParams are the inputs of `jit-policy revoke`.
type revokeParams struct {
	config, leaseID, job string
	expired              bool
	// With broker: revoke through `jit-policy serve`, proving the job with
	// a token from tokenFile, tokenEnv or the GitHub runner (audience).
	broker, tokenFile, tokenEnv, audience string
	getenv                                func(string) string
	out, err                              io.Writer
}

func newRevokeCommand(s streams) *cobra.Command {
	p := revokeParams{getenv: os.Getenv, out: s.out, err: s.err}
	cmd := &cobra.Command{
		Use:   "revoke (--config FILE (--lease ID | --job REPO/RUN_ID/ATTEMPT[/JOB_ID] | --expired) | --broker URL --lease ID)",
		Short: "Revoke leases and republish the revocation lists",
		Long: `Revoke one lease, every lease of a job, or every expired lease, then
republish the revocation lists (the KRL). Exit 0 done, 1 something stayed
unrevoked (listed), 2 usage or config error.
With --broker URL the broker revokes --lease ID, which must belong to the
job of the OIDC ID token sent (--token FILE, --token-env NAME, or the GitHub
runner with --audience); nothing local is opened.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return exit(runRevoke(cmd.Context(), p)) },
	}
	cmd.Flags().StringVar(&p.config, "config", configFile, "jit-policy.yaml")
	cmd.Flags().StringVar(&p.leaseID, "lease", "", "lease id")
	cmd.Flags().StringVar(&p.job, "job", "", "REPO/RUN_ID/ATTEMPT[/JOB_ID] (REPO is owner/name)")
	cmd.Flags().BoolVar(&p.expired, "expired", false, "every expired lease")
	cmd.Flags().StringVar(&p.broker, "broker", "", "revoke through this broker (https://HOST[:PORT], http only on loopback); only with --lease")
	cmd.Flags().StringVar(&p.tokenFile, "token", "", "with --broker: file holding the job's OIDC ID token")
	cmd.Flags().StringVar(&p.tokenEnv, "token-env", "", "with --broker: environment variable holding the job's OIDC ID token")
	cmd.Flags().StringVar(&p.audience, "audience", "", "with --broker: audience to request from the GitHub runner (the broker's)")
	return cmd
}

func runRevoke(ctx context.Context, p revokeParams) int {
	n := 0
	for _, set := range []bool{p.leaseID != "", p.job != "", p.expired} {
		if set {
			n++
		}
	}
	if n != 1 {
		fmt.Fprintln(p.err, "give exactly one of --lease, --job, --expired")
		return exitUsage
	}
	if p.broker != "" {
		return runRevokeBroker(ctx, p)
	}
	if p.tokenFile != "" || p.tokenEnv != "" || p.audience != "" {
		fmt.Fprintln(p.err, "--token, --token-env and --audience go with --broker")
		return exitUsage
	}
	rt, job, ok := openForJob(ctx, p.config, p.job, p.err)
	if !ok {
		return exitUsage
	}
	defer rt.Close()
	f := lease.Filter{Job: job}
	now := time.Now()
	var rep revocation.Report
	switch {
	case p.leaseID != "":
		if _, err := rt.Leases.Get(ctx, p.leaseID); err != nil {
			fmt.Fprintf(p.err, "lease %s: %v\n", p.leaseID, err)
			return exitUsage
		}
		rep = rt.Revoker().Revoke(ctx, []string{p.leaseID}, lease.ByManual, now)
	default:
		if p.expired {
			f.ExpiresBefore = now
		}
		var err error
		if rep, err = rt.Revoker().RevokeMatching(ctx, f, lease.ByManual, now); err != nil {
			fmt.Fprintln(p.err, err)
			return exitLeftUnrevoked
		}
	}
	return report(p.out, p.err, rep)
}

// runRevokeBroker is `revoke --broker URL --lease ID`.
func runRevokeBroker(ctx context.Context, p revokeParams) int {
	if p.leaseID == "" {
		fmt.Fprintln(p.err, "--broker revokes one --lease ID of the token's own job (--job and --expired are local)")
		return exitUsage
	}
	c, err := brokerclient.New(p.broker, nil)
	if err != nil {
		fmt.Fprintf(p.err, "--broker: %v\n", err)
		return exitUsage
	}
	if p.getenv == nil {
		p.getenv = os.Getenv
	}
	token, err := jobToken(ctx, p.tokenFile, p.tokenEnv, p.audience, p.getenv,
		errors.New("--broker: give --token FILE, --token-env NAME, or --audience (the broker's) to request a token from the GitHub runner"))
	if err != nil {
		fmt.Fprintln(p.err, err)
		return exitUsage
	}
	res, err := c.Revoke(ctx, token, []string{p.leaseID})
	if err != nil {
		fmt.Fprintf(p.err, "left unrevoked:\nlease %s: %v\n", p.leaseID, err)
		return exitLeftUnrevoked
	}
	return brokerReport(p.out, p.err, []string{p.leaseID}, res)
}

// brokerReport prints what the broker did with ids and returns revoke's
// exit code: a lease neither revoked nor skipped stayed unrevoked. A lease
// being revoked by another process is not this run's failure: it is
// reported, and the exit code stays 0 (a retry would find it claimed).
func brokerReport(out, errOut io.Writer, ids []string, res brokerapi.RevokeResponse) int {
	code := exitOK
	for _, id := range ids {
		switch {
		case slices.Contains(res.Revoked, id):
			fmt.Fprintf(out, "revoked %s\n", id)
		case slices.Contains(res.Pending, id): // before Skipped, which lists it too
			fmt.Fprintf(out, "pending %s: %s\n", id, beingRevoked)
		case slices.Contains(res.Skipped, id):
			fmt.Fprintf(out, "skipped %s (already revoked)\n", id)
		default:
			fmt.Fprintf(errOut, "left unrevoked:\nlease %s: the broker did not report it revoked\n", id)
			code = exitLeftUnrevoked
		}
	}
	return code
}

// parseJob reads REPO/RUN_ID/ATTEMPT[/JOB_ID], where REPO is owner/name;
// an empty string is no job (matches every lease).
func parseJob(s string) (lease.Job, error) {
	if s == "" {
		return lease.Job{}, nil
	}
	parts := strings.Split(s, "/")
	if len(parts) != 4 && len(parts) != 5 {
		return lease.Job{}, fmt.Errorf("--job %q: want OWNER/REPO/RUN_ID/ATTEMPT[/JOB_ID]", s)
	}
	for _, part := range parts {
		if part == "" {
			return lease.Job{}, fmt.Errorf("--job %q: empty part", s)
		}
	}
	j := lease.Job{Repository: parts[0] + "/" + parts[1], RunID: parts[2], Attempt: parts[3]}
	if len(parts) == 5 {
		j.JobID = parts[4]
	}
	return j, nil
}

// beingRevoked explains a lease another process is revoking.
const beingRevoked = "being revoked by another process (the sweep finishes it if that one died)"

// report prints what a revocation run did and returns its exit code. Leases
// being revoked by another process are printed but are not failures: a
// retry would find them claimed, and the sweep finishes them.
func report(out, errOut io.Writer, rep revocation.Report) int {
	for _, id := range rep.Revoked {
		if why := rep.Reasons[id]; why != "" {
			fmt.Fprintf(out, "revoked %s (%s)\n", id, why)
			continue
		}
		fmt.Fprintf(out, "revoked %s\n", id)
	}
	for _, id := range rep.Skipped {
		fmt.Fprintf(out, "skipped %s (already revoked)\n", id)
	}
	for _, id := range rep.Pending {
		fmt.Fprintf(out, "pending %s: %s\n", id, beingRevoked)
	}
	for _, n := range rep.Notes {
		fmt.Fprintln(out, n)
	}
	if err := rep.Err(); err != nil {
		fmt.Fprintf(errOut, "left unrevoked:\n%v\n", err)
		return exitLeftUnrevoked
	}
	return exitOK
}

// sweepParams are the inputs of `jit-policy sweep`.
type sweepParams struct {
	config   string
	grace    time.Duration
	out, err io.Writer
}

func newSweepCommand(s streams) *cobra.Command {
	p := sweepParams{out: s.out, err: s.err}
	cmd := &cobra.Command{
		Use:   "sweep --config FILE",
		Short: "Revoke expired leases and what crashed jobs left behind",
		Long: `Revoke every lease that expired, every lease still pending --grace after it
was recorded (the process issuing it died), and every revocation left half
done; then republish the revocation lists. Run it on a schedule.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return exit(runSweep(cmd.Context(), p)) },
	}
	cmd.Flags().StringVar(&p.config, "config", configFile, "jit-policy.yaml")
	cmd.Flags().DurationVar(&p.grace, "grace", 2*time.Minute, "how long a lease may stay pending while it is issued")
	return cmd
}

func runSweep(ctx context.Context, p sweepParams) int {
	rt, err := app.Open(ctx, p.config, os.Getenv)
	if err != nil {
		fmt.Fprintln(p.err, err)
		return exitUsage
	}
	defer rt.Close()
	rev, err := rt.SweepRevoker()
	if err != nil {
		fmt.Fprintln(p.err, err)
		return exitUsage
	}
	rep, err := rev.Sweep(ctx, time.Now(), p.grace)
	if err != nil {
		fmt.Fprintln(p.err, err)
		return exitLeftUnrevoked
	}
	return report(p.out, p.err, rep)
}
