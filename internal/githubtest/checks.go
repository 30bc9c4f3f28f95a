// Check runs and commit statuses.

package githubtest

import (
	"net/http"
	"slices"
	"strconv"
	"time"
)

// checkRunBody is the body of a check run create or update.
type checkRunBody struct {
	Name        *string `json:"name"`
	HeadSHA     *string `json:"head_sha"`
	DetailsURL  *string `json:"details_url"`
	ExternalID  *string `json:"external_id"`
	Status      *string `json:"status"`
	Conclusion  *string `json:"conclusion"`
	StartedAt   *string `json:"started_at"`
	CompletedAt *string `json:"completed_at"`
	Output      *struct {
		Title   *string `json:"title"`
		Summary *string `json:"summary"`
		Text    *string `json:"text"`
	} `json:"output"`
}

// apply sets the fields of body on c; it returns a validation message.
func (b *checkRunBody) apply(c *CheckRun, now time.Time) string {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	if b.Name != nil && *b.Name != "" { // go-github always sends name on update
		c.Name = *b.Name
	}
	set(&c.DetailsURL, b.DetailsURL)
	set(&c.ExternalID, b.ExternalID)
	if b.Status != nil {
		if !slices.Contains([]string{"queued", "in_progress", "completed", "waiting", "requested", "pending"}, *b.Status) {
			return "Invalid request.\n\nstatus is not a member of [queued, in_progress, completed, waiting, requested, pending]."
		}
		c.Status = *b.Status
	}
	if b.Conclusion != nil && *b.Conclusion != "" {
		if !slices.Contains([]string{"action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out"}, *b.Conclusion) {
			return "Invalid request.\n\nconclusion is not a member of [action_required, cancelled, failure, neutral, success, skipped, stale, timed_out]."
		}
		c.Conclusion = *b.Conclusion
		c.Status = "completed" // GitHub completes a run given a conclusion
	}
	if c.Status == "completed" && c.Conclusion == "" {
		return "Invalid request.\n\n\"conclusion\" wasn't supplied."
	}
	if t, ok := parseTime(b.StartedAt); ok {
		c.StartedAt = t
	}
	if t, ok := parseTime(b.CompletedAt); ok {
		c.CompletedAt = t
	}
	if c.Status == "completed" && c.CompletedAt.IsZero() {
		c.CompletedAt = now
	}
	if o := b.Output; o != nil {
		if o.Title == nil || o.Summary == nil {
			return "Invalid request.\n\n\"title\", \"summary\" weren't supplied."
		}
		c.Title, c.Summary = *o.Title, *o.Summary
		set(&c.Text, o.Text)
	}
	return ""
}

func parseTime(s *string) (time.Time, bool) {
	if s == nil {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, *s)
	return t.UTC(), err == nil
}

const checkRunsDoc = "https://docs.github.com/rest/checks/runs#create-a-check-run"

func (s *Server) createCheckRun(w http.ResponseWriter, r *http.Request) {
	var b checkRunBody
	if !decode(w, r, &b) {
		return
	}
	if b.Name == nil || *b.Name == "" || b.HeadSHA == nil || *b.HeadSHA == "" {
		unprocessable(w, "Invalid request.\n\n\"name\", \"head_sha\" weren't supplied.", checkRunsDoc)
		return
	}
	s.mu.Lock()
	now := s.now()
	c := &CheckRun{Owner: r.PathValue("owner"), Repo: r.PathValue("repo"), HeadSHA: *b.HeadSHA, Status: "queued", StartedAt: now}
	if msg := b.apply(c, now); msg != "" {
		s.mu.Unlock()
		unprocessable(w, msg, checkRunsDoc)
		return
	}
	c.ID = s.id()
	s.checkRuns = append(s.checkRuns, c)
	body := s.checkRunJSON(*c)
	s.mu.Unlock()
	reply(w, http.StatusCreated, body)
}

func (s *Server) updateCheckRun(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		notFound(w)
		return
	}
	var b checkRunBody
	if !decode(w, r, &b) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.checkRuns, func(c *CheckRun) bool {
		return c.ID == id && c.Owner == r.PathValue("owner") && c.Repo == r.PathValue("repo")
	})
	if i < 0 {
		notFound(w)
		return
	}
	c := *s.checkRuns[i]
	if msg := b.apply(&c, s.now()); msg != "" {
		unprocessable(w, msg, "https://docs.github.com/rest/checks/runs#update-a-check-run")
		return
	}
	c.Updates++
	*s.checkRuns[i] = c
	reply(w, http.StatusOK, s.checkRunJSON(c))
}

func (s *Server) createStatus(w http.ResponseWriter, r *http.Request) {
	var b struct {
		State       string `json:"state"`
		TargetURL   string `json:"target_url"`
		Description string `json:"description"`
		Context     string `json:"context"`
	}
	if !decode(w, r, &b) {
		return
	}
	if !slices.Contains([]string{"error", "failure", "pending", "success"}, b.State) {
		unprocessable(w, "Validation Failed", "https://docs.github.com/rest/commits/statuses#create-a-commit-status")
		return
	}
	if b.Context == "" {
		b.Context = "default"
	}
	s.mu.Lock()
	st := Status{ID: s.id(), Owner: r.PathValue("owner"), Repo: r.PathValue("repo"), SHA: r.PathValue("sha"),
		State: b.State, Context: b.Context, Description: b.Description, TargetURL: b.TargetURL}
	s.statuses = append(s.statuses, st)
	now := s.now()
	s.mu.Unlock()
	reply(w, http.StatusCreated, s.statusJSON(st, now))
}
