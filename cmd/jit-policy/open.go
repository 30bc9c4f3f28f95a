package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/jit-policy/jit-policy/internal/app"
	"github.com/jit-policy/jit-policy/internal/exchange"
	"github.com/jit-policy/jit-policy/internal/lease"
)

// openExchange opens the config file at path and the exchange that
// decides and issues with it, as check and issue do. On failure it prints
// why to errOut (an exchange's failure after exchangePrefix), closes what
// it opened and returns ok false; otherwise the caller closes rt.
func openExchange(ctx context.Context, path string, getenv func(string) string, errOut io.Writer, exchangePrefix string) (rt *app.App, x *exchange.Exchange, ok bool) {
	rt, err := app.Open(ctx, path, getenv)
	if err != nil {
		fmt.Fprintln(errOut, err)
		return nil, nil, false
	}
	x, err = rt.Exchange(ctx, errOut)
	if err != nil {
		rt.Close()
		fmt.Fprintf(errOut, "%s%v\n", exchangePrefix, err)
		return nil, nil, false
	}
	return rt, x, true
}

// openForJob parses jobFlag (--job: REPO/RUN_ID/ATTEMPT[/JOB_ID], or ""
// for every job) and opens the config file at path, as the lease
// commands (leases, revoke) do. On failure it prints why to errOut and
// returns ok false (their exit code is exitUsage); otherwise the caller
// closes rt.
func openForJob(ctx context.Context, path, jobFlag string, errOut io.Writer) (rt *app.App, job lease.Job, ok bool) {
	job, err := parseJob(jobFlag)
	if err != nil {
		fmt.Fprintln(errOut, err)
		return nil, lease.Job{}, false
	}
	rt, err = app.Open(ctx, path, os.Getenv)
	if err != nil {
		fmt.Fprintln(errOut, err)
		return nil, lease.Job{}, false
	}
	return rt, job, true
}
