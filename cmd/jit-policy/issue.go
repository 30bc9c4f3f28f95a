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

	"github.com/jit-policy/jit-policy/action/idtoken"
	"github.com/jit-policy/jit-policy/internal/brokerapi"
	"github.com/jit-policy/jit-policy/internal/brokerclient"
	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/internal/exchange"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/issuers"
)

// issueParams are the inputs of `jit-policy issue`.
type issueParams struct {
	config      string
	issuer      string
	role        string
	ttl         time.Duration
	principals  []string
	publicKey   string
	csr         string
	generateKey bool
	tokenFile   string
	tokenEnv    string
	audience    string
	outDir      string
	format      string
	dryRun      bool
	broker      string // URL of `jit-policy serve`; "" issues locally
	getenv      func(string) string
	out, err    io.Writer
}

func newIssueCommand(s streams) *cobra.Command {
	p := issueParams{getenv: os.Getenv, out: s.out, err: s.err}
	cmd := &cobra.Command{
		Use:   "issue (--config FILE | --broker URL) --issuer KIND --role ROLE",
		Short: "Exchange this job's OIDC token for a short-lived credential",
		Long: `Verify the job's OIDC ID token, decide with the policy, record a lease and
issue the credential. The token comes from --token FILE, --token-env NAME
(a GitLab id_tokens variable), or the GitHub runner (ACTIONS_ID_TOKEN_REQUEST_URL;
the job needs permissions: id-token: write). A token is single-use.
With --broker URL the token goes to the broker (jit-policy serve), which
decides and issues; no local config, key or lease store is opened, and
--audience (the broker's) is needed unless --token or --token-env is given.
Exit 0 issued, 1 denied (every reason printed), 2 error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return exit(runIssue(cmd.Context(), p)) },
	}
	f := cmd.Flags()
	f.StringVar(&p.config, "config", configFile, "jit-policy.yaml")
	f.StringVar(&p.issuer, "issuer", "", "credential kind: ssh, x509, postgres or aws")
	f.StringVar(&p.role, "role", "", "role under issuers.KIND.roles")
	f.DurationVar(&p.ttl, "ttl", 0, "lifetime (default: the longest allowed)")
	f.StringArrayVar(&p.principals, "principal", nil, "SSH principal (repeatable; default: all allowed)")
	f.StringVar(&p.publicKey, "public-key", "", "public key file to certify")
	f.StringVar(&p.csr, "csr", "", "certificate signing request (x509)")
	f.BoolVar(&p.generateKey, "generate-key", false, "generate a fresh key pair; the private key is a secret output")
	f.StringVar(&p.tokenFile, "token", "", "file holding the OIDC ID token")
	f.StringVar(&p.tokenEnv, "token-env", "", "environment variable holding the OIDC ID token (GitLab id_tokens)")
	f.StringVar(&p.audience, "audience", "", "audience to request from the GitHub runner (default: the config's)")
	f.StringVar(&p.outDir, "out", "", "folder for credential files")
	f.StringVar(&p.format, "format", "text", "text (the lease id) or json")
	f.BoolVar(&p.dryRun, "dry-run", false, "decide and print; issue and record nothing")
	f.StringVar(&p.broker, "broker", "", "send the token to this broker (https://HOST[:PORT], http only on loopback) instead of issuing locally")
	_ = cmd.MarkFlagRequired("issuer")
	_ = cmd.MarkFlagRequired("role")
	return cmd
}

func runIssue(ctx context.Context, p issueParams) int {
	if p.format != "text" && p.format != "json" {
		fmt.Fprintf(p.err, "--format %q: use text or json\n", p.format)
		return exitError
	}
	if p.broker != "" {
		return runIssueBroker(ctx, p)
	}
	rt, x, ok := openExchange(ctx, p.config, p.getenv, p.err, "denied: ")
	if !ok {
		return exitError
	}
	defer rt.Close()
	req, token, err := p.request(ctx, rt.Config)
	if err != nil {
		fmt.Fprintln(p.err, err)
		return exitError
	}
	res, err := x.Issue(ctx, token, req, time.Now())
	switch {
	case errors.Is(err, exchange.ErrDenied):
		for _, r := range res.Decision.Deny {
			fmt.Fprintf(p.err, "denied: %s\n", r)
		}
		return exitDenied
	case err != nil:
		fmt.Fprintf(p.err, "denied: %v\n", err)
		return exitError
	case p.dryRun:
		fmt.Fprintf(p.out, "allowed (dry run, decision %s): would issue %s/%s until %s\n", res.Decision.ID, p.issuer, p.role, res.Lease.ExpiresAt.Format(time.RFC3339))
		return exitOK
	}
	outputs, err := p.writeFiles(res.Credential.Outputs)
	if err != nil {
		fmt.Fprintf(p.err, "lease %s issued, but writing its files failed: %v\n", res.Lease.ID, err)
		return exitError
	}
	return p.print(res, outputs)
}

// runIssueBroker is `issue --broker URL`: the token and the request go
// to the broker; output and files are those of a local issue.
func runIssueBroker(ctx context.Context, p issueParams) int {
	if p.dryRun {
		fmt.Fprintln(p.err, "--dry-run is not available with --broker")
		return exitError
	}
	c, err := brokerclient.New(p.broker, nil)
	if err != nil {
		fmt.Fprintf(p.err, "--broker: %v\n", err)
		return exitError
	}
	req, token, err := p.request(ctx, nil)
	if err != nil {
		fmt.Fprintln(p.err, err)
		return exitError
	}
	breq, err := brokerRequest(req)
	if err != nil {
		fmt.Fprintln(p.err, err)
		return exitError
	}
	resp, err := c.Issue(ctx, token, breq)
	if d, ok := brokerclient.IsDenied(err); ok {
		reasons := d.Reasons
		if len(reasons) == 0 {
			reasons = []string{d.Message}
		}
		for _, r := range reasons {
			fmt.Fprintf(p.err, "denied: %s\n", r)
		}
		return exitDenied
	} else if err != nil {
		fmt.Fprintf(p.err, "denied: %v\n", err)
		return exitError
	}
	res := exchange.Result{Lease: lease.Lease{ID: resp.LeaseID, Issuer: p.issuer, Role: p.role},
		Credential: issuers.Credential{ExpiresAt: resp.ExpiresAt, Outputs: brokerclient.Outputs(resp)}}
	outputs, err := p.writeFiles(res.Credential.Outputs)
	if err != nil {
		fmt.Fprintf(p.err, "lease %s issued, but writing its files failed: %v\n", res.Lease.ID, err)
		return exitError
	}
	return p.print(res, outputs)
}

// brokerRequest is req on the wire.
func brokerRequest(req exchange.Request) (brokerapi.IssueRequest, error) {
	secs := int64(req.TTL / time.Second)
	if req.TTL < 0 || (req.TTL > 0 && req.TTL%time.Second != 0) {
		return brokerapi.IssueRequest{}, fmt.Errorf("--ttl %v: give whole seconds", req.TTL)
	}
	return brokerapi.IssueRequest{Issuer: req.Issuer, Role: req.Role, TTLSeconds: secs, Principals: req.Principals,
		PublicKey: string(req.PublicKey), CSR: string(req.CSR), GenerateKey: req.GenerateKey}, nil
}

// request reads the request's files and the token (cfg nil: the broker's
// audience must be given).
func (p issueParams) request(ctx context.Context, cfg *config.Config) (exchange.Request, string, error) {
	req := exchange.Request{Issuer: p.issuer, Role: p.role, TTL: p.ttl, Principals: p.principals, GenerateKey: p.generateKey, DryRun: p.dryRun}
	var err error
	if p.publicKey != "" {
		if req.PublicKey, err = readSmall(p.publicKey); err != nil {
			return req, "", err
		}
	}
	if p.csr != "" {
		if req.CSR, err = readSmall(p.csr); err != nil {
			return req, "", err
		}
	}
	if p.publicKey == "" && p.csr == "" && !p.generateKey && (p.issuer == "ssh" || p.issuer == "x509") {
		return req, "", errors.New("give --public-key FILE, --csr FILE or --generate-key")
	}
	token, err := p.token(ctx, cfg)
	return req, token, err
}

// token is the job's OIDC ID token; the GitHub runner is asked for
// --audience, else for the audience of the config's only OIDC issuer
// (cfg nil: a broker's, which --audience must give).
func (p issueParams) token(ctx context.Context, cfg *config.Config) (string, error) {
	aud := p.audience
	if aud == "" && cfg != nil && len(cfg.OIDC) == 1 {
		aud = cfg.OIDC[0].Audience
	}
	noAudience := errors.New("several OIDC issuers are configured: say which audience to request with --audience")
	if cfg == nil {
		noAudience = errors.New("--broker: say which audience to request from the runner with --audience (the broker's), or give --token or --token-env")
	}
	return jobToken(ctx, p.tokenFile, p.tokenEnv, aud, p.getenv, noAudience)
}

// jobToken returns the job's OIDC ID token: from the file tokenFile
// (--token), else from the variable tokenEnv (--token-env, GitLab
// id_tokens), else from the GitHub runner for audience (--audience);
// with no audience it returns noAudience, which says what to give.
func jobToken(ctx context.Context, tokenFile, tokenEnv, audience string, getenv func(string) string, noAudience error) (string, error) {
	switch {
	case tokenFile != "":
		return idtoken.FromFile(tokenFile)
	case tokenEnv != "":
		return idtoken.FromGitLab(tokenEnv, getenv)
	case audience == "":
		return "", noAudience
	}
	return idtoken.FromGitHubRunner(ctx, &http.Client{Timeout: 10 * time.Second}, audience, getenv)
}

func readSmall(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 64<<10+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(data) > 64<<10 {
		return nil, fmt.Errorf("%s is larger than 64 KiB", name)
	}
	return data, nil
}
