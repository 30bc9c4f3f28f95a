// Repository contents, teams and users' SSH keys, and the fake's ids and
// git blob helpers.

package githubtest

import (
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

func (s *Server) getContent(w http.ResponseWriter, r *http.Request) {
	k := contentKey{r.PathValue("owner"), r.PathValue("repo"), r.PathValue("path"), r.URL.Query().Get("ref")}
	s.mu.Lock()
	data, ok := s.contents[k]
	s.mu.Unlock()
	if !ok {
		notFound(w)
		return
	}
	reply(w, http.StatusOK, s.contentJSON(k, data))
}

// teamOf finds the team of the request's path; false after a 403 or 404.
func (s *Server) teamOf(w http.ResponseWriter, r *http.Request) (*team, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.forbid {
		reply(w, http.StatusForbidden, apiErr("Resource not accessible by integration",
			"https://docs.github.com/rest/teams/members#get-team-membership-for-a-user", http.StatusForbidden))
		return nil, false
	}
	tm := s.teams[r.PathValue("org")+"/"+r.PathValue("slug")]
	if tm == nil {
		notFound(w)
		return nil, false
	}
	return &team{id: tm.id, members: slices.Clone(tm.members)}, true
}

func (s *Server) getTeam(w http.ResponseWriter, r *http.Request) {
	tm, ok := s.teamOf(w, r)
	if !ok {
		return
	}
	reply(w, http.StatusOK, s.teamJSON(r.PathValue("org"), r.PathValue("slug"), tm))
}

func (s *Server) listTeamMembers(w http.ResponseWriter, r *http.Request) {
	tm, ok := s.teamOf(w, r)
	if !ok {
		return
	}
	var out []any
	for _, m := range tm.members {
		out = append(out, s.userJSON(m))
	}
	s.paginate(w, r, out)
}

func (s *Server) getMembership(w http.ResponseWriter, r *http.Request) {
	tm, ok := s.teamOf(w, r)
	if !ok {
		return
	}
	user := r.PathValue("user")
	if !slices.ContainsFunc(tm.members, func(m string) bool { return strings.EqualFold(m, user) }) {
		notFound(w)
		return
	}
	reply(w, http.StatusOK, map[string]any{
		"url":   fmt.Sprintf("%s/teams/%d/memberships/%s", s.base(), tm.id, url.PathEscape(user)),
		"role":  "member",
		"state": "active",
	})
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) {
	login := r.PathValue("user")
	s.mu.Lock()
	keys, ok := s.keys[login]
	s.mu.Unlock()
	if !ok {
		notFound(w)
		return
	}
	var out []any
	for i, k := range keys {
		out = append(out, map[string]any{"id": userID(login)*100 + int64(i) + 1, "key": k})
	}
	s.paginate(w, r, out)
}

// userID is a stable fake account id for login.
func userID(login string) int64 {
	if login == BotLogin {
		return 41898282
	}
	h := fnv.New32a()
	h.Write([]byte(strings.ToLower(login)))
	return int64(h.Sum32()%90000000) + 1000
}

// blobSHA is git's blob id of data.
func blobSHA(data []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(data))
	h.Write(data)
	return fmt.Sprintf("%x", h.Sum(nil))
}

// wrap64 is GitHub's base64 of file contents: 60 characters a line.
func wrap64(data []byte) string {
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for len(enc) > 60 {
		b.WriteString(enc[:60] + "\n")
		enc = enc[60:]
	}
	b.WriteString(enc + "\n")
	return b.String()
}
