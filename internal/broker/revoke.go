package broker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jit-policy/jit-policy/internal/brokerapi"
	"github.com/jit-policy/jit-policy/internal/exchange"
	"github.com/jit-policy/jit-policy/internal/lease"
)

// RevokedBy is what the lease store records as the revoker of leases
// revoked through the API.
const RevokedBy = "broker"

// serveRevoke: POST /v1/revoke. The token (verified, not spent) proves
// the job; every id must name a lease of that job, checked for all before
// any is revoked, so a request naming another job's lease revokes nothing.
// An unknown id is refused like another job's, so that the answer does
// not tell which lease ids exist.
func (s *Server) serveRevoke(w http.ResponseWriter, r *http.Request, lf *logFields) {
	var body brokerapi.RevokeRequest
	if !readRequest(w, r, lf, &body) {
		return
	}
	ids := slices.Compact(slices.Sorted(slices.Values(body.LeaseIDs)))
	switch {
	case len(ids) == 0:
		writeError(w, lf, http.StatusBadRequest, "lease_ids is required", nil)
		return
	case len(ids) > maxRevokeIDs:
		writeError(w, lf, http.StatusBadRequest, fmt.Sprintf("at most %d lease ids per request", maxRevokeIDs), nil)
		return
	}
	for _, id := range ids {
		if id == "" || len(id) > maxLeaseIDBytes || strings.ContainsFunc(id, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
			writeError(w, lf, http.StatusBadRequest, "lease ids must be non-empty printable ASCII of at most 128 bytes", nil)
			return
		}
	}
	lf.leaseIDs = ids
	token, ok := bearer(w, r, lf)
	if !ok {
		return
	}
	claims, ok := s.verify(r.Context(), w, token, lf)
	if !ok {
		return
	}
	if !s.rateLimit(w, claims.Issuer+" "+claims.Subject, lf) {
		return
	}
	job := exchange.JobOf(claims)
	if job.Repository == "" || job.RunID == "" {
		writeError(w, lf, http.StatusForbidden, "the token names no CI job, so it can revoke no lease", nil)
		return
	}
	issuerOf := map[string]string{}
	for _, id := range ids {
		l, err := s.leases.Get(r.Context(), id)
		switch {
		case errors.Is(err, lease.ErrNotFound) || (err == nil && !sameJob(l.Job, job)):
			if err == nil {
				s.metrics.revocations.WithLabelValues(s.metrics.issuer(l.Issuer), "forbidden").Inc()
			}
			writeError(w, lf, http.StatusForbidden, fmt.Sprintf("lease %s is not a lease of this job; nothing was revoked", id), err)
			return
		case errors.Is(err, context.DeadlineExceeded):
			writeError(w, lf, http.StatusGatewayTimeout, "reading the leases timed out; nothing was revoked", err)
			return
		case err != nil:
			writeError(w, lf, http.StatusBadGateway, "reading the leases failed; nothing was revoked", err)
			return
		}
		issuerOf[id] = s.metrics.issuer(l.Issuer)
	}
	// A revocation, once begun, runs to its end even when the client goes
	// away: cut off after its claim, a lease would stay claimed (Revoking)
	// and unrevoked until the sweep takes it over.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), revokeTimeout)
	defer cancel()
	rep := s.revoker.Revoke(rctx, ids, RevokedBy, time.Now())
	s.lists.invalidate()
	for _, id := range rep.Revoked {
		s.metrics.revocations.WithLabelValues(issuerOf[id], "revoked").Inc()
	}
	for _, id := range rep.Skipped {
		s.metrics.revocations.WithLabelValues(issuerOf[id], "skipped").Inc()
	}
	for _, id := range rep.Pending {
		s.metrics.revocations.WithLabelValues(issuerOf[id], "pending").Inc()
	}
	var failed []string
	for id := range rep.Failed {
		if _, ok := issuerOf[id]; ok {
			failed = append(failed, id)
			s.metrics.revocations.WithLabelValues(issuerOf[id], "failed").Inc()
		}
	}
	if err := rep.Err(); err != nil {
		lf.detail = err
	}
	if len(failed) > 0 {
		slices.Sort(failed)
		writeError(w, lf, http.StatusBadGateway, fmt.Sprintf("revoking failed for %s (the others are revoked); retry", strings.Join(failed, ", ")), nil)
		return
	}
	// A list file that failed to be rewritten is only logged: the lease is
	// revoked in the store, and the lists this broker serves are built
	// from the store.
	// Pending leases are listed in Skipped too, as before Pending existed,
	// so that older clients take them as they always did.
	resp := brokerapi.RevokeResponse{Revoked: rep.Revoked, Skipped: append(slices.Clone(rep.Skipped), rep.Pending...), Pending: rep.Pending}
	if resp.Revoked == nil {
		resp.Revoked = []string{}
	}
	writeJSON(w, http.StatusOK, resp)
}

// revokeTimeout bounds one revocation request's backend work, which does
// not end with the client's connection.
const revokeTimeout = 30 * time.Second

// sameJob says whether a lease's job is the token's: the same provider,
// repository, run and attempt, the same job when the lease names one, and
// the same OIDC issuer when the lease records one (leases recorded before
// Job.Issuer existed have none), so that a token of another trusted issuer
// whose claims mimic the job is refused.
func sameJob(l, tok lease.Job) bool {
	return l.Repository != "" && (l.Issuer == "" || l.Issuer == tok.Issuer) &&
		l.Provider == tok.Provider && l.Repository == tok.Repository &&
		l.RunID == tok.RunID && l.Attempt == tok.Attempt && (l.JobID == "" || l.JobID == tok.JobID)
}
