package action

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jit-policy/jit-policy/action/ghcmd"
	"github.com/jit-policy/jit-policy/action/sshagent"
	"github.com/jit-policy/jit-policy/internal/app"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/revocation"
)

// Exit codes of Post (DESIGN.md, "Command line", as `revoke`).
const (
	ExitPostOK         = 0 // every lease revoked, or nothing to do
	ExitPostUnrevoked  = 1 // one ::error:: line per lease left unrevoked
	ExitPostUnreadable = 2 // the state or the config could not be read
)

// PostParams are what Post needs; it reads its step's state (and the
// config input as a fallback) through Getenv.
type PostParams struct {
	Getenv         func(string) string
	Stdout, Stderr io.Writer
	Now            func() time.Time // nil: time.Now
	// With the broker state: the runner's token endpoint (nil: a 10 s
	// client) and the broker (nil: brokerclient's default).
	HTTPClient, BrokerClient *http.Client
}

// Post is `jit-policy action post`: revoke exactly the leases named in
// this step's state (STATE_lease-ids; never a lease of another job or
// step: without the broker, a lease whose job is not this run's is
// refused), stop the ssh-agent Run started, delete the leases' files and
// append what was revoked to the job summary.
func Post(ctx context.Context, p PostParams) int {
	if p.Now == nil {
		p.Now = time.Now
	}
	code := ExitPostOK
	ids, err := ParseLeaseIDs(p.Getenv(StateEnv(StateLeaseIDs)))
	if err != nil {
		ghcmd.Error(p.Stdout, "state "+StateLeaseIDs+": "+err.Error())
		code = ExitPostUnreadable
	} else if len(ids) > 0 {
		code = p.revoke(ctx, ids)
		for _, id := range ids {
			if err := os.RemoveAll(leaseDir(p.Getenv, id)); err != nil {
				ghcmd.Warning(p.Stdout, fmt.Sprintf("lease %s: deleting its files: %v", id, err))
			}
		}
	} else {
		fmt.Fprintln(p.Stdout, "jit-policy: no lease to revoke")
	}
	if err := p.stopAgent(); err != nil {
		ghcmd.Warning(p.Stdout, err.Error())
	}
	return code
}

// revoke revokes ids with the config Run used, reports every lease left
// unrevoked as ::error::, and writes the summary.
func (p PostParams) revoke(ctx context.Context, ids []string) int {
	if broker := p.Getenv(StateEnv(StateBroker)); broker != "" {
		return p.revokeBroker(ctx, ids, broker)
	}
	cfg := p.Getenv(StateEnv(StateConfig))
	if cfg == "" {
		cfg = strings.TrimSpace(p.Getenv(InputEnv(InputConfig)))
	}
	if cfg == "" {
		cfg = DefaultConfig
	}
	rt, err := app.Open(ctx, cfg, p.Getenv)
	if err != nil {
		for _, id := range ids {
			ghcmd.Error(p.Stdout, fmt.Sprintf("lease %s was not revoked: %v", id, err))
		}
		return ExitPostUnreadable
	}
	defer rt.Close()
	own, refused := p.ownLeases(ctx, rt.Leases, ids)
	var rep revocation.Report
	if len(own) > 0 {
		rep = rt.Revoker().Revoke(context.WithoutCancel(ctx), own, lease.ByPostStep, p.Now())
	}
	rows, failed := p.report(ctx, rt, ids, rep, refused)
	return p.summarize(rows, failed)
}

// The variables naming the run the post step runs in. The runner sets
// them; a step cannot overwrite them through GITHUB_ENV (GitHub's default
// GITHUB_* variables cannot be overwritten).
const (
	envRepository = "GITHUB_REPOSITORY"
	envRunID      = "GITHUB_RUN_ID"
	envRunAttempt = "GITHUB_RUN_ATTEMPT"
)

// ownLeases splits ids into the leases of this run (repository, run id
// and attempt as the runner names them) and the refused ones, each with
// why. The state names the leases the main step issued, but the post
// step does not take the state's word for whose they are. A lease the
// store does not know stays in own: revoking it fails, and the report
// says so.
func (p PostParams) ownLeases(ctx context.Context, leases lease.Store, ids []string) (own []string, refused map[string]error) {
	refused = map[string]error{}
	run := lease.Job{Repository: p.Getenv(envRepository), RunID: p.Getenv(envRunID), Attempt: p.Getenv(envRunAttempt)}
	var runErr error
	if run.Repository == "" || run.RunID == "" || run.Attempt == "" {
		runErr = fmt.Errorf("%s, %s and %s are not all set, so the lease cannot be checked to be this run's: run the post step in the GitHub Actions job that issued it", envRepository, envRunID, envRunAttempt)
	}
	for _, id := range ids {
		l, err := leases.Get(ctx, id)
		switch {
		case errors.Is(err, lease.ErrNotFound):
			own = append(own, id)
		case err != nil:
			refused[id] = fmt.Errorf("reading it to check it is this run's: %w (run the post step again, or revoke it with jit-policy revoke)", err)
		case runErr != nil:
			refused[id] = runErr
		case l.Job.Repository != run.Repository || l.Job.RunID != run.RunID || l.Job.Attempt != run.Attempt:
			refused[id] = fmt.Errorf("it belongs to %s, not to this run, %s: the post step revokes only its own run's leases (revoke it with jit-policy revoke --lease %s if it must go)", jobName(l.Job), jobName(run), id)
		default:
			own = append(own, id)
		}
	}
	return own, refused
}

// jobName names a run for messages: "org/app run 123 attempt 1", with
// "(none)" for an empty field.
func jobName(j lease.Job) string {
	orNone := func(s string) string {
		if s == "" {
			return "(none)"
		}
		return s
	}
	return fmt.Sprintf("%s run %s attempt %s", orNone(j.Repository), orNone(j.RunID), orNone(j.Attempt))
}

// summarize appends the revoked table to the job summary and returns the
// exit code.
func (p PostParams) summarize(rows []revokedRow, failed bool) int {
	if s := p.Getenv(ghcmd.EnvSummary); s != "" {
		if err := ghcmd.AppendText(s, revokedSummary(rows)); err != nil {
			ghcmd.Warning(p.Stdout, "writing the job summary: "+err.Error())
		}
	}
	if failed {
		return ExitPostUnrevoked
	}
	return ExitPostOK
}

// report turns the revocation report and the leases refused as not this
// run's into summary rows and ::error:: lines; failed is true when a
// lease (or a revocation list) was left unrevoked.
func (p PostParams) report(ctx context.Context, rt *app.App, ids []string, rep revocation.Report, refused map[string]error) (rows []revokedRow, failed bool) {
	for _, id := range ids {
		r := revokedRow{id: id}
		l, getErr := rt.Leases.Get(ctx, id)
		if getErr == nil {
			r.issuer, r.role = l.Issuer, l.Role
		}
		switch {
		case refused[id] != nil:
			r.result = "not revoked: " + refused[id].Error()
		case rep.Failed[id] != nil:
			r.result = "not revoked: " + rep.Failed[id].Error()
		case slices.Contains(rep.Revoked, id):
			r.result = "revoked"
		case slices.Contains(rep.Pending, id):
			r.result = beingRevoked
		case getErr == nil && l.State == lease.Revoked:
			r.result = "already revoked (" + l.RevokedBy + ")"
		case getErr != nil:
			r.result = "not revoked: " + getErr.Error()
		default:
			r.result = "not revoked: another revoker holds it (state " + string(l.State) + ")"
		}
		switch {
		case strings.HasPrefix(r.result, "not revoked"):
			failed = true
			ghcmd.Error(p.Stdout, "lease "+id+" "+r.result)
		case r.result == beingRevoked:
			// As with a broker: not this step's failure, but the credential
			// may still be live, so say so where it is seen.
			ghcmd.Warning(p.Stdout, "lease "+id+": "+r.result)
		default:
			fmt.Fprintf(p.Stdout, "jit-policy: lease %s: %s\n", id, r.result)
		}
		rows = append(rows, r)
	}
	for _, k := range slices.Sorted(maps.Keys(rep.Failed)) {
		if name, ok := strings.CutPrefix(k, "list:"); ok {
			failed = true
			ghcmd.Error(p.Stdout, fmt.Sprintf("the %s revocation list was not republished, so revoked credentials still work: %v", name, rep.Failed[k]))
		}
	}
	return rows, failed
}

// beingRevoked explains a lease another process is revoking.
const beingRevoked = "being revoked by another process (the sweep finishes it if that one died)"

// stopAgent stops the ssh-agent named in the state, if any.
func (p PostParams) stopAgent() error {
	pid, err := parsePID(p.Getenv(StateEnv(StateAgentPID)))
	if err != nil {
		return err
	}
	sock := p.Getenv(StateEnv(StateAgentSocket))
	if pid == 0 && sock == "" {
		return nil
	}
	if sock != "" && !filepath.IsAbs(sock) {
		return errors.New("state " + StateAgentSocket + " is not an absolute path")
	}
	if err := sshagent.Stop(sock, pid); err != nil {
		return err
	}
	fmt.Fprintln(p.Stdout, "jit-policy: ssh-agent stopped")
	return nil
}
