package prcheck

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jit-policy/jit-policy/action/event"
	"github.com/jit-policy/jit-policy/action/prfacts"
	"github.com/jit-policy/jit-policy/engine"
	"github.com/jit-policy/jit-policy/internal/exchange"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/request"
	"github.com/jit-policy/jit-policy/internal/seal"
	"github.com/jit-policy/jit-policy/issuers"
)

// issue issues one allowed item, at most once per item and head commit,
// and puts what the requester receives into ir: public outputs in clear,
// secrets sealed to the requester's key. Nothing secret is issued when
// there is no key to seal it to.
func (c *Checker) issue(ctx context.Context, ev event.Event, facts prfacts.Facts, f request.File, name string, item request.Item, d engine.Decision, now time.Time, ir *ItemResult) {
	req := exchange.Request{
		Issuer: item.Issuer, Role: item.Role, TTL: f.Duration.Duration, Principals: item.Principals,
		PublicKey: []byte(item.PublicKey), CSR: []byte(item.CSR),
		// Without a key or CSR, generate one: its private half is sealed.
		GenerateKey: (item.Issuer == "ssh" && item.PublicKey == "") || (item.Issuer == "x509" && item.CSR == ""),
	}
	var recipients []seal.Recipient
	if req.GenerateKey || carriesSecrets(item.Issuer) {
		var err error
		if recipients, err = c.recipients(ctx, f, facts.PR.Author); err != nil {
			ir.IssueError = err.Error()
			return
		}
	}
	res, err := c.Issuer.IssueApproved(ctx, exchange.Approved{
		Decision: d, Request: req, Subject: facts.PR.Author,
		Job:       lease.Job{Provider: "github", Repository: ev.Owner + "/" + ev.Repo},
		PR:        ev.Number,
		OnceKey:   onceKey(ev, facts.PR.HeadSHA, name, ir.Index),
		OnceUntil: now.Add(c.Config.MaxPendingAge.Duration),
	}, now)
	if errors.Is(err, exchange.ErrAlreadyIssued) {
		ir.AlreadyIssued = true
		return
	}
	if err != nil {
		ir.IssueError = err.Error()
		return
	}
	is := &Issued{LeaseID: res.Lease.ID, ExpiresAt: res.Credential.ExpiresAt}
	var secrets []seal.Output
	for _, o := range res.Credential.Outputs {
		switch {
		case o.Name == issuers.OutputLeaseID || o.Name == issuers.OutputExpiresAt:
		case o.Secret:
			secrets = append(secrets, seal.Output{Name: o.Name, Value: o.Value})
		default:
			is.Public = append(is.Public, Output{Name: o.Name, Value: o.Value})
		}
	}
	if len(secrets) > 0 {
		if is.Sealed, err = seal.SealOutputs(secrets, recipients); err != nil {
			// Issued but undeliverable: say so; the lease is revoked when
			// the pull request closes, or at expiry.
			ir.IssueError = fmt.Sprintf("lease %s issued, but sealing its secrets failed: %v", res.Lease.ID, err)
		}
		for _, r := range recipients {
			is.SealedTo = append(is.SealedTo, r.Fingerprint)
		}
	}
	ir.Issued = is
}

// carriesSecrets says whether an issuer's credential always has secret
// outputs (a password, keys).
func carriesSecrets(issuer string) bool { return issuer == "postgres" || issuer == "aws" }

// recipients are the request's recipient key, else the requester's GitHub
// SSH keys of a type age can encrypt to.
func (c *Checker) recipients(ctx context.Context, f request.File, login string) ([]seal.Recipient, error) {
	if f.Recipient != "" {
		rs, err := seal.Recipients([]string{f.Recipient})
		if err != nil {
			return nil, fmt.Errorf("recipient: %w", err)
		}
		return rs, nil
	}
	keys, err := c.Facts.SSHKeys(ctx, login)
	if err != nil {
		return nil, fmt.Errorf("reading @%s's SSH keys to encrypt the secrets to: %w", login, err)
	}
	rs, skipped := seal.FromGitHubKeys(keys)
	if len(rs) == 0 {
		why := "has no SSH keys on GitHub"
		if len(skipped) > 0 {
			why = "has only SSH keys of types age cannot encrypt to (" + strings.Join(skipped, ", ") + ")"
		}
		return nil, fmt.Errorf("@%s %s: add an ssh-ed25519 or ssh-rsa key, or set recipient: in the request file; nothing was issued", login, why)
	}
	return rs, nil
}

// onceKey names an item of a request file at a head commit: a re-run for
// the same commit issues nothing new; a new push (new approvals needed,
// since approvals are per commit) may issue again.
func onceKey(ev event.Event, sha, file string, index int) string {
	return fmt.Sprintf("pr:%s/%s#%d@%s:%s[%d]", ev.Owner, ev.Repo, ev.Number, sha, file, index)
}
