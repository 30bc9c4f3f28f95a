// Pull request endpoints: the pull request, its files, reviews and
// commits.

package githubtest

import (
	"net/http"
	"strconv"
)

// prOf finds the pull request of the request's path; false after a 404.
func (s *Server) key(w http.ResponseWriter, r *http.Request) (prKey, bool) {
	n, err := strconv.Atoi(r.PathValue("number"))
	if err != nil || n <= 0 {
		notFound(w)
		return prKey{}, false
	}
	return prKey{r.PathValue("owner"), r.PathValue("repo"), n}, true
}

func (s *Server) getPR(w http.ResponseWriter, r *http.Request) {
	k, ok := s.key(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	pr, ok := s.prs[k]
	s.mu.Unlock()
	if !ok {
		notFound(w)
		return
	}
	reply(w, http.StatusOK, s.prJSON(pr))
}

// listOf answers a paginated list of a pull request's items, 404 if the
// pull request was never set.
func (s *Server) listOf(w http.ResponseWriter, r *http.Request, items func(k prKey) []any) {
	k, ok := s.key(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	_, ok = s.prs[k]
	var list []any
	if ok {
		list = items(k)
	}
	s.mu.Unlock()
	if !ok {
		notFound(w)
		return
	}
	s.paginate(w, r, list)
}

func (s *Server) listFiles(w http.ResponseWriter, r *http.Request) {
	s.listOf(w, r, func(k prKey) []any {
		head := s.prs[k].HeadSHA
		var out []any
		for _, f := range s.files[k] {
			out = append(out, s.fileJSON(k, head, f))
		}
		return out
	})
}

func (s *Server) listReviews(w http.ResponseWriter, r *http.Request) {
	s.listOf(w, r, func(k prKey) []any {
		var out []any
		for _, rv := range s.reviews[k] {
			out = append(out, s.reviewJSON(k, rv))
		}
		return out
	})
}

func (s *Server) listCommits(w http.ResponseWriter, r *http.Request) {
	s.listOf(w, r, func(k prKey) []any {
		var out []any
		cs := s.commits[k]
		for i, c := range cs {
			parent := ""
			if i > 0 {
				parent = cs[i-1].SHA
			} else {
				parent = s.prs[k].BaseSHA
			}
			out = append(out, s.commitJSON(k, c, parent))
		}
		return out
	})
}
