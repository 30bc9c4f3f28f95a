package jobstate

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jit-policy/jit-policy/internal/httpretry"
	"github.com/jit-policy/jit-policy/internal/lease"
)

// gitlabProvider asks GitLab's REST API (v4) with plain net/http.
type gitlabProvider struct {
	client *http.Client
	base   *url.URL
	token  string
	header string
	maxJob time.Duration
}

func newGitLab(cfg Config, hc *http.Client) (*gitlabProvider, error) {
	api := cfg.GitLabAPI
	if api == "" {
		api = DefaultGitLabAPI
	}
	base, err := apiURL(api)
	if err != nil {
		return nil, fmt.Errorf("jobstate: GitLab API URL: %w", err)
	}
	g := &gitlabProvider{client: hc, base: base, token: cfg.GitLabToken,
		header: cfg.GitLabTokenHeader, maxJob: cfg.GitLabMaxJobTime}
	switch g.header {
	case "":
		g.header = "PRIVATE-TOKEN"
	case "PRIVATE-TOKEN", "JOB-TOKEN":
	default:
		return nil, fmt.Errorf("jobstate: GitLab token header %q: want PRIVATE-TOKEN or JOB-TOKEN", g.header)
	}
	if g.maxJob <= 0 {
		g.maxJob = DefaultGitLabMaxJobTime
	}
	return g, nil
}

// GitLab job statuses (Ci::HasStatus): those of a job that has not
// finished, and those of one that has. "canceling" is a job running its
// after_script after a cancel.
var (
	gitlabRunning = map[string]bool{
		"created": true, "pending": true, "running": true, "waiting_for_resource": true,
		"preparing": true, "scheduled": true, "manual": true, "canceling": true,
	}
	gitlabEnded = map[string]bool{"success": true, "failed": true, "canceled": true, "skipped": true}
)

// gitlabJob is the part of GitLab's job object that the verdict needs.
type gitlabJob struct {
	ID            int64  `json:"id"`
	Status        string `json:"status"`
	FailureReason string `json:"failure_reason"`
}

// decodeGitLabJob decodes a job object from an untrusted response body.
func decodeGitLabJob(data []byte) (gitlabJob, error) {
	var j gitlabJob
	if err := json.Unmarshal(data, &j); err != nil {
		return gitlabJob{}, fmt.Errorf("decoding the job: %w", err)
	}
	if j.ID <= 0 || j.Status == "" {
		return gitlabJob{}, fmt.Errorf("decoding the job: no id or status")
	}
	return j, nil
}

// verdict classifies a decoded job.
func (j gitlabJob) verdict() (Verdict, error) {
	what := fmt.Sprintf("job %d", j.ID)
	switch {
	case gitlabEnded[j.Status]:
		r := what + " " + j.Status
		if f := word(j.FailureReason); f != "" && j.Status == "failed" {
			r += " (" + f + ")"
		}
		return Verdict{Ended: true, Reason: r}, nil
	case gitlabRunning[j.Status]:
		return Verdict{Reason: what + " " + j.Status}, nil
	}
	return Verdict{}, fmt.Errorf("%s: unrecognised status %q", what, printable(j.Status, 64))
}

// job asks about the lease's job by its job_id.
func (g *gitlabProvider) job(ctx context.Context, c *Checker, l lease.Lease) (Verdict, error) {
	if l.Job.JobID == "" {
		// GitLab's ID tokens always carry job_id; without it there is
		// nothing to ask, and the sweep revokes the lease at expiry.
		return Verdict{Reason: "no GitLab job id to ask about"}, nil
	}
	id, err := positive(l.Job.JobID)
	if err != nil {
		return Verdict{}, fmt.Errorf("gitlab: lease %s: job id: %w", l.ID, err)
	}
	what, project := fmt.Sprintf("job %d", id), l.Job.Repository
	if project == "" {
		return Verdict{}, fmt.Errorf("gitlab: %s of lease %s: no project", what, l.ID)
	}
	body, status, err := g.get(ctx, c, project, fmt.Sprintf("jobs/%d", id))
	switch {
	case status == http.StatusNotFound:
		return c.unknown(l, what, "GitLab", g.maxJob), nil
	case err != nil:
		return Verdict{}, gitlabError(what, project, status, err)
	}
	j, err := decodeGitLabJob(body)
	if err == nil && j.ID != id {
		err = fmt.Errorf("answered with job %d", j.ID)
	}
	if err != nil {
		return Verdict{}, gitlabError(what, project, status, err)
	}
	v, err := j.verdict()
	if err != nil {
		return Verdict{}, fmt.Errorf("gitlab: %s in %s: %w", what, project, err)
	}
	return v, nil
}

// pullRequest asks about the lease's merge request (lease.PR is its iid):
// closed without merge is ended; opened, locked or merged is not.
func (g *gitlabProvider) pullRequest(ctx context.Context, c *Checker, l lease.Lease) (Verdict, error) {
	what, project := fmt.Sprintf("MR !%d", l.PR), l.Job.Repository
	if project == "" {
		return Verdict{}, fmt.Errorf("gitlab: %s of lease %s: no project", what, l.ID)
	}
	body, status, err := g.get(ctx, c, project, fmt.Sprintf("merge_requests/%d", l.PR))
	if err != nil {
		return Verdict{}, gitlabError(what, project, status, err)
	}
	var mr struct {
		State string `json:"state"`
	}
	if err := json.Unmarshal(body, &mr); err != nil {
		return Verdict{}, gitlabError(what, project, status, fmt.Errorf("decoding the merge request: %w", err))
	}
	switch mr.State {
	case "closed":
		return Verdict{Ended: true, Reason: what + " closed without merge"}, nil
	case "merged", "opened", "locked":
		return Verdict{Reason: what + " " + mr.State}, nil
	}
	return Verdict{}, fmt.Errorf("gitlab: %s in %s: unrecognised state %q", what, project, printable(mr.State, 64))
}

// get fetches {api}/projects/{escaped project}/{rest} with retries. It
// returns the body of a 2xx answer, and the last HTTP status (0 without
// an answer); a non-2xx answer is an error.
func (g *gitlabProvider) get(ctx context.Context, c *Checker, project, rest string) ([]byte, int, error) {
	u, err := url.Parse(g.base.String() + "projects/" + url.PathEscape(project) + "/" + rest)
	if err != nil {
		return nil, 0, err
	}
	var (
		body   []byte
		status int
	)
	err = c.retry.Do(ctx, func() (httpretry.Outcome, error) {
		body, status = nil, 0
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return httpretry.Outcome{}, err
		}
		req.Header.Set("Accept", "application/json")
		if g.token != "" {
			req.Header.Set(g.header, g.token)
		}
		resp, err := g.client.Do(req)
		if err != nil {
			return classify(ctx, nil, err), err
		}
		defer resp.Body.Close()
		status = resp.StatusCode
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			return classify(ctx, nil, err), fmt.Errorf("reading the answer: %w", err)
		}
		if status < 200 || status > 299 {
			return classify(ctx, resp, nil), fmt.Errorf("%s", gitlabMessage(data))
		}
		body = data
		return httpretry.Outcome{}, nil
	})
	return body, status, err
}

// gitlabMessage extracts GitLab's error message ({"message": …} or
// {"error": …}) from an error body, printable and short.
func gitlabMessage(body []byte) string {
	var e struct {
		Message json.RawMessage `json:"message"`
		Error   string          `json:"error"`
	}
	msg := ""
	if json.Unmarshal(body, &e) == nil {
		var s string
		if json.Unmarshal(e.Message, &s) == nil {
			msg = s
		} else if len(e.Message) > 0 {
			msg = string(e.Message)
		} else {
			msg = e.Error
		}
	}
	msg = printable(msg, 200)
	if msg == "" {
		return "no error message"
	}
	return msg
}

func gitlabError(what, project string, status int, err error) error {
	s := "no response"
	if status != 0 {
		s = fmt.Sprintf("HTTP %d", status)
	}
	return fmt.Errorf("gitlab: %s in %s: %s: %w", what, project, s, err)
}

// printable keeps the printable ASCII of s, at most n bytes.
func printable(s string, n int) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= n {
			b.WriteString("…")
			break
		}
		if r >= 0x20 && r < 0x7f {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// word returns s when it is a short snake_case word (a failure reason),
// else "".
func word(s string) string {
	if len(s) == 0 || len(s) > 64 {
		return ""
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			return ""
		}
	}
	return s
}
