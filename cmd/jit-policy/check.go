package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/jit-policy/jit-policy/action/event"
	"github.com/jit-policy/jit-policy/action/ghcmd"
	"github.com/jit-policy/jit-policy/action/prcheck"
	"github.com/jit-policy/jit-policy/action/prfacts"
	"github.com/jit-policy/jit-policy/action/prreport"
	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/internal/exchange"
)

// checkParams are the inputs of `jit-policy check`.
type checkParams struct {
	config    string
	event     string // payload file; default GITHUB_EVENT_PATH
	eventName string // default GITHUB_EVENT_NAME
	issue     bool
	tokenFile string
	audience  string
	report    bool
	getenv    func(string) string
	now       func() time.Time
	http      *http.Client // GitHub API client; nil: a 30 s timeout
	out, err  io.Writer
}

func newCheckCommand(s streams) *cobra.Command {
	p := checkParams{getenv: os.Getenv, now: time.Now, out: s.out, err: s.err}
	cmd := &cobra.Command{
		Use:   "check --config FILE [--event FILE] [--issue]",
		Short: "Decide the access requests of a pull request (and issue from the default branch)",
		Long: `Read the pull request of a pull_request, pull_request_target,
pull_request_review or workflow_run event through the GitHub API (token:
GITHUB_TOKEN or GH_TOKEN), decide every item of the request files it adds or
changes, and report: a check run on the head commit, one sticky comment, the
job summary. With --issue, and only from a workflow of the default branch
(proven by the job's own OIDC token), issue what was allowed — once per item
and head commit — and revoke the leases of a pull request closed unmerged.
Exit 0 all allowed, 1 something denied, 2 error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return exit(runCheck(cmd.Context(), p)) },
	}
	f := cmd.Flags()
	f.StringVar(&p.config, "config", configFile, "jit-policy.yaml")
	f.StringVar(&p.event, "event", "", "event payload file (default: $GITHUB_EVENT_PATH)")
	f.StringVar(&p.eventName, "event-name", "", "event name (default: $GITHUB_EVENT_NAME)")
	f.BoolVar(&p.issue, "issue", false, "issue what is allowed (default-branch workflows only)")
	f.StringVar(&p.tokenFile, "token", "", "file holding this job's OIDC ID token (default: the GitHub runner's)")
	f.StringVar(&p.audience, "audience", "", "audience to request from the runner (default: the config's)")
	f.BoolVar(&p.report, "report", true, "post the check run and the sticky comment")
	return cmd
}

func runCheck(ctx context.Context, p checkParams) int {
	ev, err := p.readEvent()
	if err != nil {
		fmt.Fprintln(p.err, err)
		return exitError
	}
	rt, x, ok := openExchange(ctx, p.config, p.getenv, p.err, "")
	if !ok {
		return exitError
	}
	defer rt.Close()
	facts, err := prfacts.New(*rt.Config.PullRequests, prfacts.Token(p.getenv), p.http)
	if err != nil {
		fmt.Fprintln(p.err, err)
		return exitError
	}
	c := &prcheck.Checker{Facts: facts, Decider: x.Decider, Config: *rt.Config.PullRequests}
	refused := false
	if p.issue {
		if err := p.trusted(ctx, x, rt.Config, ev); err != nil {
			c.NotIssuing, refused = err.Error(), true
		} else {
			c.Issuer, c.Revoker = x, rt.Revoker()
		}
	}
	res, err := c.Check(ctx, ev, p.now())
	if err != nil {
		fmt.Fprintln(p.err, err)
		return exitError
	}
	code := p.publish(ctx, facts, res)
	switch {
	case refused:
		fmt.Fprintf(p.err, "not issuing: %s\n", c.NotIssuing)
		return exitError
	case code != exitOK:
		return code
	case res.Closed || res.Allowed():
		return exitOK
	}
	return exitDenied
}

// readEvent reads the event payload: --event, else GITHUB_EVENT_PATH.
func (p checkParams) readEvent() (event.Event, error) {
	name, path := p.eventName, p.event
	if name == "" {
		name = p.getenv("GITHUB_EVENT_NAME")
	}
	if path == "" {
		path = p.getenv("GITHUB_EVENT_PATH")
	}
	if name == "" || path == "" {
		return event.Event{}, errors.New("no event: give --event FILE --event-name NAME, or run inside GitHub Actions (GITHUB_EVENT_PATH, GITHUB_EVENT_NAME)")
	}
	return event.ReadFile(name, path)
}

// trusted proves with this job's own OIDC token that it runs a workflow
// of the default branch.
func (p checkParams) trusted(ctx context.Context, x *exchange.Exchange, cfg *config.Config, ev event.Event) error {
	raw, err := issueParams{tokenFile: p.tokenFile, audience: p.audience, getenv: p.getenv}.token(ctx, cfg)
	if err != nil {
		return fmt.Errorf("getting this job's OIDC token (the job needs permissions: id-token: write): %w", err)
	}
	claims, err := x.Verifier.Verify(ctx, raw)
	if err != nil {
		return fmt.Errorf("verifying this job's OIDC token: %w", err)
	}
	return prcheck.TrustedToIssue(ev, claims.All)
}

// publish prints the result, writes the job summary and posts the report.
func (p checkParams) publish(ctx context.Context, facts *prfacts.Client, res prcheck.Result) int {
	summary := prreport.Summary(res)
	fmt.Fprintln(p.out, summary)
	code := exitOK
	if path := p.getenv(ghcmd.EnvSummary); path != "" {
		if err := ghcmd.AppendText(path, summary); err != nil {
			fmt.Fprintf(p.err, "writing the job summary: %v\n", err)
			code = exitError
		}
	}
	if p.report {
		if err := prreport.New(facts.GitHub()).Publish(ctx, res); err != nil {
			fmt.Fprintf(p.err, "reporting to the pull request: %v\n", err)
			code = exitError
		}
	}
	return code
}
