package prcheck

import (
	"context"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jit-policy/jit-policy/action/event"
	"github.com/jit-policy/jit-policy/action/prfacts"
	"github.com/jit-policy/jit-policy/engine"
	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/internal/exchange"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/request"
	"github.com/jit-policy/jit-policy/internal/revocation"
)

// FactSource reads a pull request through the API. *prfacts.Client
// implements it; it must be safe for concurrent use.
type FactSource interface {
	Facts(ctx context.Context, ev event.Event, cfg config.PullRequests, now time.Time) (prfacts.Facts, error)
	// File returns a file's contents at commit sha (at most 64 KiB).
	File(ctx context.Context, owner, repo, path, sha string) ([]byte, error)
	// SSHKeys returns a user's public SSH keys.
	SSHKeys(ctx context.Context, login string) ([]string, error)
}

// Decider evaluates the policy. *engine.Engine implements it. Check calls
// it for one request file item at a time; it need not be safe for
// concurrent use unless the Checker is shared.
type Decider interface {
	Decide(ctx context.Context, in engine.Input) (engine.Decision, error)
}

// Issuer issues what the policy allowed, once per once-key: a second call
// with the same key issues nothing, also from another process sharing the
// lease store. *exchange.Exchange implements it.
type Issuer interface {
	IssueApproved(ctx context.Context, a exchange.Approved, now time.Time) (exchange.Result, error)
}

// Revoker revokes the leases a filter selects, and only those; revoking an
// already revoked lease is not an error. *revocation.Revoker implements
// it.
type Revoker interface {
	RevokeMatching(ctx context.Context, f lease.Filter, by string, now time.Time) (revocation.Report, error)
}

// ByPRClosed is the revoked-by of leases revoked because their pull
// request was closed without merging.
const ByPRClosed = "pull-request-closed"

// Checker runs the flow. Its fields are set once.
type Checker struct {
	Facts   FactSource
	Decider Decider
	Config  config.PullRequests
	// Issuer and Revoker are nil unless the caller may issue (--issue
	// from a trusted workflow).
	Issuer  Issuer
	Revoker Revoker
	// NotIssuing explains, for the report, why Issuer is nil when issuing
	// was asked for.
	NotIssuing string
}

// Check handles one event at time now. A pull request closed without
// merge has its leases revoked (when Revoker is set) and nothing issued,
// whether the event says it was closed or only the API's facts do.
func (c *Checker) Check(ctx context.Context, ev event.Event, now time.Time) (Result, error) {
	res := Result{Repository: ev.Owner + "/" + ev.Repo, Number: ev.Number, HeadSHA: ev.HeadSHA, Now: now.UTC(),
		Issuing: c.Issuer != nil, NotIssuing: c.NotIssuing}
	if ev.Closed {
		return c.closed(ctx, ev, res, now)
	}
	facts, err := c.Facts.Facts(ctx, ev, c.Config, now)
	if errors.Is(err, prfacts.ErrMembershipUnreadable) {
		// A permission problem, reported as such: never "not a member".
		res.Refusals = []string{err.Error()}
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("reading pull request #%d: %w", ev.Number, err)
	}
	res.HeadSHA, res.Refusals, res.Dropped = facts.PR.HeadSHA, facts.Refusals, facts.Dropped
	if c.Revoker != nil && facts.ClosedUnmerged {
		// The event did not say so (a workflow_run payload never does),
		// but the API does: revoke as for a closed event, and decide
		// (so issue) nothing.
		closed := ev
		closed.Closed, closed.Merged = true, false
		return c.closed(ctx, closed, res, now)
	}
	files := requestFiles(facts.Changed, c.Config.Requests)
	if len(files) > MaxRequestFiles {
		res.Refusals = append(res.Refusals, fmt.Sprintf("The pull request adds or changes %d request files; at most %d are decided per pull request: split it.", len(files), MaxRequestFiles))
		return res, nil
	}
	for _, f := range files {
		if !safePath.MatchString(f) {
			res.Files = append(res.Files, FileResult{Path: f, Error: "the file name may hold only letters, digits, '.', '_', '-' and '/': rename it"})
			continue
		}
		res.Files = append(res.Files, c.file(ctx, ev, facts, f, now))
	}
	return res, nil
}

// MaxRequestFiles bounds the request files one pull request may add or
// change: each is a decision, and each allowed item a credential.
const MaxRequestFiles = 10

// safePath is what a request file's path may hold.
var safePath = regexp.MustCompile(`^[A-Za-z0-9._/-]+$`)

// requestFiles picks the request files the pull request adds or changes
// under dir: *.yaml and *.yml, not removed.
func requestFiles(changed []prfacts.ChangedFile, dir string) []string {
	prefix := strings.TrimSuffix(path.Clean(dir), "/") + "/"
	var out []string
	for _, f := range changed {
		ext := path.Ext(f.Name)
		if f.Status == "removed" || !strings.HasPrefix(f.Name, prefix) || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		if base := path.Base(f.Name); base == "data.yaml" || base == "data.yml" {
			continue // policy data by DESIGN.md, never a request
		}
		out = append(out, f.Name)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// file decides (and issues) every item of one request file.
func (c *Checker) file(ctx context.Context, ev event.Event, facts prfacts.Facts, name string, now time.Time) FileResult {
	fr := FileResult{Path: name}
	data, err := c.Facts.File(ctx, ev.Owner, ev.Repo, name, facts.PR.HeadSHA)
	if err != nil {
		fr.Error = fmt.Sprintf("reading %s at %s: %v", name, short(facts.PR.HeadSHA), err)
		return fr
	}
	f, err := request.Decode(name, data)
	if err == nil {
		err = f.CheckRequester(facts.PR.Author)
	}
	if err != nil {
		fr.Error = err.Error()
		return fr
	}
	for i, item := range f.Access {
		fr.Items = append(fr.Items, c.item(ctx, ev, facts, f, name, i, item, now))
	}
	return fr
}

// item decides one access item and, when allowed and issuing, issues it.
func (c *Checker) item(ctx context.Context, ev event.Event, facts prfacts.Facts, f request.File, name string, i int, item request.Item, now time.Time) ItemResult {
	ir := ItemResult{Index: i, Issuer: item.Issuer, Role: item.Role}
	pr := facts.PR
	requester := facts.Requester
	in := engine.Input{
		Version: engine.Version, Kind: engine.KindPullRequest, Now: now.UTC(),
		Request: item.EngineRequest(f), PullRequest: &pr, Approvals: facts.Approvals, Requester: &requester,
	}
	d, err := c.Decider.Decide(ctx, in)
	ir.DecisionID = d.ID
	switch {
	case err != nil:
		ir.Reasons = append(ir.Reasons, fmt.Sprintf("the policy failed: %v", err))
	case len(facts.Refusals) > 0:
		ir.Reasons = append(slices.Clone(facts.Refusals), d.Deny...)
	case !d.Allowed:
		ir.Reasons = d.Deny
		if len(ir.Reasons) == 0 {
			ir.Reasons = []string{engine.ReasonNotAllowed}
		}
	default:
		ir.Allowed = true
	}
	if !ir.Allowed || c.Issuer == nil {
		return ir
	}
	c.issue(ctx, ev, facts, f, name, item, d, now, &ir)
	return ir
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
