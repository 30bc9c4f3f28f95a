// Issue (pull request) comments.

package githubtest

import (
	"net/http"
	"strconv"
)

func (s *Server) listComments(w http.ResponseWriter, r *http.Request) {
	k, ok := s.key(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	var out []any
	for _, c := range s.comments[k] {
		out = append(out, s.commentJSON(k, *c))
	}
	s.mu.Unlock()
	s.paginate(w, r, out)
}

// commentBody is the body of a comment create or edit.
type commentBody struct {
	Body *string `json:"body"`
}

func (s *Server) createComment(w http.ResponseWriter, r *http.Request) {
	k, ok := s.key(w, r)
	if !ok {
		return
	}
	var b commentBody
	if !decode(w, r, &b) {
		return
	}
	if b.Body == nil || *b.Body == "" {
		unprocessable(w, "Invalid request.\n\n\"body\" wasn't supplied.", "https://docs.github.com/rest/issues/comments#create-an-issue-comment")
		return
	}
	s.mu.Lock()
	now := s.now()
	c := &Comment{ID: s.id(), Body: *b.Body, User: BotLogin, CreatedAt: now, UpdatedAt: now}
	s.comments[k] = append(s.comments[k], c)
	body := s.commentJSON(k, *c)
	s.mu.Unlock()
	w.Header().Set("Location", body["url"].(string))
	reply(w, http.StatusCreated, body)
}

func (s *Server) editComment(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		notFound(w)
		return
	}
	var b commentBody
	if !decode(w, r, &b) {
		return
	}
	if b.Body == nil || *b.Body == "" {
		unprocessable(w, "Invalid request.\n\n\"body\" wasn't supplied.", "https://docs.github.com/rest/issues/comments#update-an-issue-comment")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, cs := range s.comments {
		if k.owner != r.PathValue("owner") || k.repo != r.PathValue("repo") {
			continue
		}
		for _, c := range cs {
			if c.ID == id {
				c.Body, c.UpdatedAt = *b.Body, s.now()
				reply(w, http.StatusOK, s.commentJSON(k, *c))
				return
			}
		}
	}
	notFound(w)
}
