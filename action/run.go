package action

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"github.com/jit-policy/jit-policy/action/ghcmd"
	"github.com/jit-policy/jit-policy/action/idtoken"
	"github.com/jit-policy/jit-policy/action/sshagent"
	"github.com/jit-policy/jit-policy/internal/app"
	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/internal/exchange"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/issuers"
)

// Exit codes of Run (DESIGN.md, "Command line", as `issue`).
const (
	ExitOK     = 0
	ExitDenied = 1 // denied: one ::error:: line per reason
	ExitError  = 2 // anything else (also a denial): one ::error:: line
)

// RunParams are what Run needs besides the step's inputs, which it reads
// through Getenv.
type RunParams struct {
	Getenv func(string) string
	// Stdout receives workflow commands (masks, errors) and progress;
	// Stderr the audit log when the config sends it to stderr.
	Stdout, Stderr io.Writer
	Now            func() time.Time // nil: time.Now
	HTTPClient     *http.Client     // the runner's token endpoint; nil: a 10 s client
	BrokerClient   *http.Client     // the broker (input broker); nil: brokerclient's default
	AgentBin       string           // the ssh-agent program; "": ssh-agent on PATH
}

// envFiles are the runner's files Run writes.
type envFiles struct {
	output, state, env, summary string
}

// Run is `jit-policy action run`: issue the credential the inputs ask for
// and hand it to the runner. It first saves every state the post step
// reads, blank (blankState), so that the post step never reads a value
// this step did not write. Nothing secret is ever printed: each secret
// is registered with ::add-mask:: (a line at a time) before anything else
// is written, and only then go files, outputs and state.
func Run(ctx context.Context, p RunParams) int {
	if p.Now == nil {
		p.Now = time.Now
	}
	if err := clearPostState(p.Getenv); err != nil {
		return p.fail(err)
	}
	in, err := ReadInputs(p.Getenv)
	if err != nil {
		return p.fail(err)
	}
	files, err := requireFiles(p.Getenv, in)
	if err != nil {
		return p.fail(err)
	}
	keys, err := readKeys(in)
	if err != nil {
		return p.fail(err)
	}
	if in.Broker != "" {
		return p.runBroker(ctx, in, keys, files)
	}
	cfgPath, err := filepath.Abs(in.Config)
	if err != nil {
		return p.fail(err)
	}
	rt, err := app.Open(ctx, cfgPath, p.Getenv)
	if err != nil {
		return p.fail(err)
	}
	defer rt.Close()
	// The account of the role (like aws-actions/configure-aws-credentials),
	// before anything could print it.
	if in.Issuer == issuerAWS && in.MaskAWSAccountID {
		if acct := awsAccountID(rt.Config, in.Role); acct != "" {
			if err := ghcmd.Mask(p.Stdout, acct); err != nil {
				return p.fail(err)
			}
		}
	}
	x, err := rt.Exchange(ctx, p.Stderr)
	if err != nil {
		return p.fail(err)
	}
	token, err := p.token(ctx, in, rt.Config)
	if err != nil {
		return p.fail(err)
	}
	if err := ghcmd.Mask(p.Stdout, token); err != nil {
		return p.fail(err)
	}
	req := exchange.Request{Issuer: in.Issuer, Role: in.Role, TTL: in.TTL, Principals: in.Principals, PublicKey: keys.public, GenerateKey: in.GenerateKey}
	res, err := x.Issue(ctx, token, req, p.Now())
	switch {
	case errors.Is(err, exchange.ErrDenied):
		return p.denied(in, res, files)
	case err != nil:
		return p.fail(err)
	}
	id := res.Lease.ID
	// Secrets first, then the state, so that the post step revokes the
	// lease whatever fails next; if even that fails, revoke it now.
	err = maskSecrets(p.Stdout, res.Credential.Outputs)
	if err == nil {
		err = checkLeaseID(id)
	}
	if err == nil {
		err = ghcmd.Append(files.state, ghcmd.Pair{Name: StateLeaseIDs, Value: FormatLeaseIDs([]string{id})}, ghcmd.Pair{Name: StateConfig, Value: cfgPath})
	}
	if err != nil {
		rep := rt.Revoker().Revoke(context.WithoutCancel(ctx), []string{id}, lease.ByManual, p.Now())
		return p.fail(errors.Join(fmt.Errorf("lease %s issued, but handing it to the post step failed: %w", id, err), rep.Err()))
	}
	if err := p.deliver(ctx, in, keys, res, files); err != nil {
		return p.fail(fmt.Errorf("lease %s (the post step revokes it): %w", id, err))
	}
	fmt.Fprintf(p.Stdout, "jit-policy: lease %s: %s/%s until %s\n", id, in.Issuer, in.Role, res.Credential.ExpiresAt.UTC().Format(time.RFC3339))
	return ExitOK
}

// deliver writes the credential's files, the step outputs, the ssh-agent,
// the exported environment and the summary. With aws-profile the aws
// issuer's session also goes to shared credentials and config files, and
// AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE to GITHUB_ENV; with
// export-env also the standard AWS_* variables.
func (p RunParams) deliver(ctx context.Context, in Inputs, keys keySource, res exchange.Result, files envFiles) error {
	outs := res.Credential.Outputs
	principals := in.Principals
	c, isCert, err := parseCert(outs)
	if err != nil {
		return err
	}
	if isCert {
		principals = c.cert.ValidPrincipals
		if outs, err = writeSSHFiles(leaseDir(p.Getenv, res.Lease.ID), keys, c, outs); err != nil {
			return fmt.Errorf("writing the certificate files: %w", err)
		}
	}
	var exported []ghcmd.Pair // to GITHUB_ENV whatever export-env says
	if in.Issuer == issuerAWS && in.AWSProfile != "" {
		if outs, exported, err = writeAWSFiles(leaseDir(p.Getenv, res.Lease.ID), in.AWSProfile, outs); err != nil {
			return fmt.Errorf("writing the AWS credentials files: %w", err)
		}
	}
	pairs := make([]ghcmd.Pair, len(outs))
	env := make([]ghcmd.Pair, len(outs))
	for i, o := range outs {
		pairs[i] = ghcmd.Pair{Name: o.Name, Value: o.Value}
		env[i] = ghcmd.Pair{Name: EnvName(in.Issuer, o.Name), Value: o.Value}
	}
	if err := ghcmd.Append(files.output, pairs...); err != nil {
		return fmt.Errorf("writing the step outputs: %w", err)
	}
	if in.SSHAgent {
		if !isCert {
			return errors.New("ssh-agent: the issuer returned no certificate")
		}
		private := keys.private
		if private == nil {
			private = []byte(outputValue(outs, outputPrivateKey))
		}
		if err := p.startAgent(ctx, files, private, c.line, res.Credential.ExpiresAt); err != nil {
			return err
		}
	}
	if in.ExportEnv {
		exported = append(env, exported...)
		if in.Issuer == issuerAWS {
			exported = append(exported, awsStandardEnv(outs)...)
		}
	}
	if len(exported) > 0 {
		if err := ghcmd.Append(files.env, exported...); err != nil {
			return fmt.Errorf("exporting the environment: %w", err)
		}
	}
	if files.summary != "" {
		if err := ghcmd.AppendText(files.summary, grantedSummary(res.Lease, principals, res.Credential.ExpiresAt)); err != nil {
			return fmt.Errorf("writing the job summary: %w", err)
		}
	}
	return nil
}

// startAgent starts an ssh-agent, saves it in the state (so the post step
// stops it), loads the key and certificate, and exports SSH_AUTH_SOCK and
// SSH_AGENT_PID to the job's later steps.
func (p RunParams) startAgent(ctx context.Context, files envFiles, private []byte, cert string, expires time.Time) error {
	a, err := sshagent.Start(ctx, p.AgentBin)
	if err != nil {
		return err
	}
	pid := strconv.Itoa(a.PID)
	if err := ghcmd.Append(files.state, ghcmd.Pair{Name: StateAgentPID, Value: pid}, ghcmd.Pair{Name: StateAgentSocket, Value: a.Sock}); err != nil {
		return errors.Join(fmt.Errorf("saving the ssh-agent in the state: %w", err), sshagent.Stop(a.Sock, a.PID))
	}
	if err := sshagent.Add(a.Sock, private, cert, expires, p.Now()); err != nil {
		return err
	}
	return ghcmd.Append(files.env, ghcmd.Pair{Name: "SSH_AUTH_SOCK", Value: a.Sock}, ghcmd.Pair{Name: "SSH_AGENT_PID", Value: pid})
}

// requireFiles reads the runner's file variables Run needs, before
// anything is issued: GITHUB_OUTPUT and GITHUB_STATE always, GITHUB_ENV
// for export-env, ssh-agent and aws-profile; GITHUB_STEP_SUMMARY when set.
func requireFiles(getenv func(string) string, in Inputs) (envFiles, error) {
	f := envFiles{output: getenv(ghcmd.EnvOutput), state: getenv(ghcmd.EnvState), env: getenv(ghcmd.EnvEnv), summary: getenv(ghcmd.EnvSummary)}
	var errs []error
	need := func(name, v string) {
		if v == "" {
			errs = append(errs, fmt.Errorf("%s is not set: run this inside a GitHub Actions step", name))
		}
	}
	need(ghcmd.EnvOutput, f.output)
	need(ghcmd.EnvState, f.state)
	if in.ExportEnv || in.SSHAgent || in.AWSProfile != "" {
		need(ghcmd.EnvEnv, f.env)
	}
	return f, errors.Join(errs...)
}

// token reads the token file, or asks the runner for a token for the
// audience input (default: the config's single OIDC audience; cfg is nil
// with the broker, whose audience is a required input).
func (p RunParams) token(ctx context.Context, in Inputs, cfg *config.Config) (string, error) {
	if in.TokenFile != "" {
		return idtoken.FromFile(in.TokenFile)
	}
	aud := in.Audience
	if aud == "" && cfg != nil && len(cfg.OIDC) == 1 {
		aud = cfg.OIDC[0].Audience
	}
	if aud == "" {
		return "", fmt.Errorf("several OIDC issuers are configured: say which audience to request with the %s input", InputAudience)
	}
	return idtoken.FromGitHubRunner(ctx, p.HTTPClient, aud, p.Getenv)
}

// maskSecrets masks every secret output.
func maskSecrets(w io.Writer, outs []issuers.Output) error {
	for _, o := range outs {
		if o.Secret {
			if err := ghcmd.Mask(w, o.Value); err != nil {
				return err
			}
		}
	}
	return nil
}

// denied reports each deny reason as an ::error:: line and in the summary.
func (p RunParams) denied(in Inputs, res exchange.Result, files envFiles) int {
	reasons := res.Decision.Deny
	if len(reasons) == 0 {
		reasons = []string{"no allow rule of the policy matched"}
	}
	for _, r := range reasons {
		ghcmd.Error(p.Stdout, "denied: "+r)
	}
	if files.summary != "" {
		if err := ghcmd.AppendText(files.summary, deniedSummary(in.Issuer, in.Role, res.Decision.ID, reasons)); err != nil {
			ghcmd.Warning(p.Stdout, "writing the job summary: "+err.Error())
		}
	}
	return ExitDenied
}

// fail reports err as ::error:: lines (one per joined error) and returns
// ExitError.
func (p RunParams) fail(err error) int {
	errorLines(p.Stdout, err)
	return ExitError
}

// errorLines writes one ::error:: line per error joined in err.
func errorLines(w io.Writer, err error) {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			errorLines(w, e)
		}
		return
	}
	ghcmd.Error(w, err.Error())
}
