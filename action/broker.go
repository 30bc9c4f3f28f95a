package action

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jit-policy/jit-policy/action/ghcmd"
	"github.com/jit-policy/jit-policy/action/idtoken"
	"github.com/jit-policy/jit-policy/engine"
	"github.com/jit-policy/jit-policy/internal/brokerapi"
	"github.com/jit-policy/jit-policy/internal/brokerclient"
	"github.com/jit-policy/jit-policy/internal/exchange"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/issuers"
)

// runBroker is Run with the broker input: the job's token and the request
// go to the broker, which decides and issues; no config, key or lease
// store is opened here. Masks, files, outputs, state and summary are as
// with a local issue, and the state also names the broker and the
// audience, so that the post step revokes through it with a fresh token.
func (p RunParams) runBroker(ctx context.Context, in Inputs, keys keySource, files envFiles) int {
	c, err := brokerclient.New(in.Broker, p.BrokerClient)
	if err != nil {
		return p.fail(fmt.Errorf("input %s: %w", InputBroker, err))
	}
	token, err := p.token(ctx, in, nil)
	if err != nil {
		return p.fail(err)
	}
	if err := ghcmd.Mask(p.Stdout, token); err != nil {
		return p.fail(err)
	}
	if in.TTL%time.Second != 0 {
		return p.fail(fmt.Errorf("input %s: give whole seconds with %s", InputTTL, InputBroker))
	}
	req := brokerapi.IssueRequest{Issuer: in.Issuer, Role: in.Role, TTLSeconds: int64(in.TTL / time.Second), Principals: in.Principals,
		PublicKey: string(keys.public), GenerateKey: in.GenerateKey}
	resp, err := c.Issue(ctx, token, req)
	if d, ok := brokerclient.IsDenied(err); ok {
		reasons := d.Reasons
		if len(reasons) == 0 && d.Message != "" {
			reasons = []string{d.Message}
		}
		return p.denied(in, exchange.Result{Decision: engine.Decision{Deny: reasons}}, files)
	} else if err != nil {
		return p.fail(err)
	}
	subject, job := claimsOf(token)
	res := exchange.Result{
		Lease:      lease.Lease{ID: resp.LeaseID, Issuer: in.Issuer, Role: in.Role, Subject: subject, Job: job, ExpiresAt: resp.ExpiresAt},
		Credential: issuers.Credential{ExpiresAt: resp.ExpiresAt, Outputs: brokerclient.Outputs(resp)},
	}
	id := res.Lease.ID
	// Secrets first, then the state, so that the post step revokes the
	// lease whatever fails next; if even that fails, revoke it now.
	err = maskSecrets(p.Stdout, res.Credential.Outputs)
	if err == nil {
		err = checkLeaseID(id)
	}
	if err == nil {
		err = ghcmd.Append(files.state, ghcmd.Pair{Name: StateLeaseIDs, Value: FormatLeaseIDs([]string{id})},
			ghcmd.Pair{Name: StateBroker, Value: c.URL()}, ghcmd.Pair{Name: StateAudience, Value: in.Audience})
	}
	if err != nil {
		err = fmt.Errorf("lease %s issued, but handing it to the post step failed: %w", id, err)
		if checkLeaseID(id) == nil {
			err = errors.Join(err, p.revokeNow(ctx, c, in.Audience, id))
		}
		return p.fail(err)
	}
	if err := p.deliver(ctx, in, keys, res, files); err != nil {
		return p.fail(fmt.Errorf("lease %s (the post step revokes it): %w", id, err))
	}
	fmt.Fprintf(p.Stdout, "jit-policy: lease %s: %s/%s until %s (broker %s)\n", id, in.Issuer, in.Role, res.Credential.ExpiresAt.UTC().Format(time.RFC3339), c.URL())
	return ExitOK
}

// revokeNow revokes lease id through the broker with a fresh token (the
// one Run sent is spent).
func (p RunParams) revokeNow(ctx context.Context, c *brokerclient.Client, audience, id string) error {
	ctx = context.WithoutCancel(ctx)
	token, err := idtoken.FromGitHubRunner(ctx, p.HTTPClient, audience, p.Getenv)
	if err != nil {
		return fmt.Errorf("lease %s was not revoked: %w", id, err)
	}
	if err := ghcmd.Mask(p.Stdout, token); err != nil {
		return err
	}
	res, err := c.Revoke(ctx, token, []string{id})
	if err != nil {
		return fmt.Errorf("lease %s was not revoked: %w", id, err)
	}
	if !slices.Contains(res.Revoked, id) && !slices.Contains(res.Skipped, id) {
		return fmt.Errorf("lease %s was not revoked: the broker did not report it", id)
	}
	return nil
}

// claimsOf reads the subject and the job of the token for the job
// summary. The broker verified the token; this only decodes its payload
// (nothing here trusts it). A token it cannot read gives empty values.
func claimsOf(token string) (string, lease.Job) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", lease.Job{}
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return "", lease.Job{}
	}
	var c map[string]any
	if json.Unmarshal(raw, &c) != nil {
		return "", lease.Job{}
	}
	return issuers.ClaimString(c, "sub"), exchange.JobOfClaims(c)
}

// revokeBroker is the post step's revocation through the broker named in
// the state: a fresh OIDC token for the recorded audience proves the job,
// and the broker revokes the leases (it refuses those of other jobs).
// Nothing local (config, CA, lease store) is needed.
func (p PostParams) revokeBroker(ctx context.Context, ids []string, broker string) int {
	notRevoked := func(code int, err error) int {
		rows := make([]revokedRow, len(ids))
		for i, id := range ids {
			ghcmd.Error(p.Stdout, fmt.Sprintf("lease %s was not revoked: %v", id, err))
			rows[i] = revokedRow{id: id, result: "not revoked: " + err.Error()}
		}
		p.summarize(rows, true)
		return code
	}
	c, err := brokerclient.New(broker, p.BrokerClient)
	if err != nil {
		return notRevoked(ExitPostUnreadable, fmt.Errorf("state %s: %w", StateBroker, err))
	}
	aud := p.Getenv(StateEnv(StateAudience))
	if aud == "" {
		return notRevoked(ExitPostUnreadable, fmt.Errorf("state %s is empty", StateAudience))
	}
	ctx = context.WithoutCancel(ctx)
	token, err := idtoken.FromGitHubRunner(ctx, p.HTTPClient, aud, p.Getenv)
	if err != nil {
		return notRevoked(ExitPostUnrevoked, err)
	}
	if err := ghcmd.Mask(p.Stdout, token); err != nil {
		return notRevoked(ExitPostUnrevoked, err)
	}
	res, err := c.Revoke(ctx, token, ids)
	if err != nil {
		return notRevoked(ExitPostUnrevoked, err)
	}
	var rows []revokedRow
	failed := false
	for _, id := range ids {
		r := revokedRow{id: id}
		switch {
		case slices.Contains(res.Revoked, id):
			r.result = "revoked"
		case slices.Contains(res.Pending, id): // before Skipped, which lists it too
			r.result = beingRevoked
		case slices.Contains(res.Skipped, id):
			r.result = "already revoked"
		default:
			r.result = "not revoked: the broker did not report it revoked"
		}
		switch {
		case strings.HasPrefix(r.result, "not revoked"):
			failed = true
			ghcmd.Error(p.Stdout, "lease "+id+" "+r.result)
		case r.result == beingRevoked:
			// Not this step's failure (the step kept its exit code), but
			// the credential may still be live: say so where it is seen.
			ghcmd.Warning(p.Stdout, fmt.Sprintf("lease %s: %s (broker %s)", id, r.result, c.URL()))
		default:
			fmt.Fprintf(p.Stdout, "jit-policy: lease %s: %s (broker %s)\n", id, r.result, c.URL())
		}
		rows = append(rows, r)
	}
	return p.summarize(rows, failed)
}
