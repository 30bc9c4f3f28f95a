package broker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/jit-policy/jit-policy/internal/brokerapi"
	"github.com/jit-policy/jit-policy/internal/exchange"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/oidc"
)

// Bounds on request values, checked before anything else runs.
const (
	maxTTL          = 366 * 24 * time.Hour
	maxPrincipals   = 64
	maxNameBytes    = 256
	maxKeyPEMBytes  = 16 << 10
	maxLeaseIDBytes = 128
)

// serveIssue: POST /v1/issue. Order: method, body, token present, token
// verified, rate limit, then the exchange (decide, spend, record, issue,
// activate). A failure before the exchange records nothing.
func (s *Server) serveIssue(w http.ResponseWriter, r *http.Request, lf *logFields) {
	var body brokerapi.IssueRequest
	if !readRequest(w, r, lf, &body) {
		s.metrics.issues.WithLabelValues("other", "invalid").Inc()
		return
	}
	lf.issuer, lf.role = body.Issuer, body.Role
	issuer := s.metrics.issuer(body.Issuer)
	count := func(outcome string) { s.metrics.issues.WithLabelValues(issuer, outcome).Inc() }
	req, err := toRequest(body)
	if err != nil {
		count("invalid")
		writeError(w, lf, http.StatusBadRequest, err.Error(), nil)
		return
	}
	token, ok := bearer(w, r, lf)
	if !ok {
		count("unauthorized")
		return
	}
	claims, ok := s.verify(r.Context(), w, token, lf)
	if !ok {
		count("unauthorized")
		return
	}
	if !s.rateLimit(w, claims.Issuer+" "+claims.Subject, lf) {
		count("rate_limited")
		return
	}
	res, err := s.x.IssueVerified(r.Context(), claims, token, req, time.Now())
	lf.decisionID, lf.leaseID = res.Decision.ID, res.Lease.ID
	s.countDecision(issuer, res, err)
	switch {
	case err == nil:
	case errors.Is(err, exchange.ErrDenied):
		count("denied")
		reasons := res.Decision.Deny
		if reasons == nil {
			reasons = []string{}
		}
		writeJSON(w, http.StatusForbidden, brokerapi.Error{Error: "denied by policy", Reasons: reasons})
		return
	case errors.Is(err, lease.ErrReplayed):
		count("replayed")
		unauthorized(w, lf, "the token was already used: each token is exchanged once", err)
		return
	case errors.Is(err, exchange.ErrInvalidRequest):
		count("invalid")
		writeError(w, lf, http.StatusBadRequest, err.Error(), err)
		return
	case errors.Is(err, context.DeadlineExceeded):
		count("error")
		writeError(w, lf, http.StatusGatewayTimeout, "issuing timed out", err)
		return
	case errors.Is(err, exchange.ErrPolicy):
		count("error")
		writeError(w, lf, http.StatusInternalServerError, "evaluating the policy failed", err)
		return
	default:
		count("error")
		writeError(w, lf, http.StatusBadGateway, "issuing failed at a backend; nothing usable was issued", err)
		return
	}
	count("issued")
	resp := brokerapi.IssueResponse{LeaseID: res.Lease.ID, ExpiresAt: res.Lease.ExpiresAt, Outputs: map[string]string{}}
	for _, o := range res.Credential.Outputs {
		resp.Outputs[o.Name] = o.Value
		if o.Secret {
			resp.Secret = append(resp.Secret, o.Name)
		}
	}
	sort.Strings(resp.Secret)
	writeJSON(w, http.StatusOK, resp)
}

// countDecision counts the policy's decision, when one was made.
func (s *Server) countDecision(issuer string, res exchange.Result, err error) {
	var outcome string
	switch {
	case errors.Is(err, exchange.ErrPolicy) || res.Decision.Error != "":
		outcome = "error"
	case res.Decision.Allowed:
		outcome = "allowed"
	case errors.Is(err, exchange.ErrDenied):
		outcome = "denied"
	default:
		return // no decision was made (the request was invalid)
	}
	s.metrics.decisions.WithLabelValues(issuer, outcome).Inc()
}

// toRequest checks the request's values and converts them.
func toRequest(b brokerapi.IssueRequest) (exchange.Request, error) {
	switch {
	case b.Issuer == "" || len(b.Issuer) > maxNameBytes:
		return exchange.Request{}, errors.New("issuer is required")
	case b.Role == "" || len(b.Role) > maxNameBytes:
		return exchange.Request{}, errors.New("role is required")
	case b.TTLSeconds < 0 || time.Duration(b.TTLSeconds) > maxTTL/time.Second:
		return exchange.Request{}, fmt.Errorf("ttl_seconds must be between 0 and %d", int64(maxTTL/time.Second))
	case len(b.Principals) > maxPrincipals:
		return exchange.Request{}, fmt.Errorf("at most %d principals", maxPrincipals)
	case len(b.PublicKey) > maxKeyPEMBytes || len(b.CSR) > maxKeyPEMBytes:
		return exchange.Request{}, errors.New("public_key or csr is too large")
	case (b.Issuer == "ssh" || b.Issuer == "x509") && b.PublicKey == "" && b.CSR == "" && !b.GenerateKey:
		return exchange.Request{}, errors.New("give public_key, csr or generate_key")
	}
	for _, p := range b.Principals {
		if p == "" || len(p) > maxNameBytes {
			return exchange.Request{}, errors.New("principals must be non-empty names of at most " + strconv.Itoa(maxNameBytes) + " bytes")
		}
	}
	req := exchange.Request{
		Issuer: b.Issuer, Role: b.Role, TTL: time.Duration(b.TTLSeconds) * time.Second,
		Principals: b.Principals, GenerateKey: b.GenerateKey,
	}
	if b.PublicKey != "" {
		req.PublicKey = []byte(b.PublicKey)
	}
	if b.CSR != "" {
		req.CSR = []byte(b.CSR)
	}
	return req, nil
}

// verify checks the token with the exchange's verifier, or answers 401
// (502 when the issuer's keys cannot be fetched).
func (s *Server) verify(ctx context.Context, w http.ResponseWriter, token string, lf *logFields) (*oidc.Claims, bool) {
	claims, err := s.x.Verifier.Verify(ctx, token)
	switch {
	case err == nil:
		lf.subject = claims.Subject
		return claims, true
	case errors.Is(err, oidc.ErrDiscovery):
		writeError(w, lf, http.StatusBadGateway, "the token's issuer keys could not be fetched", err)
	default:
		unauthorized(w, lf, "the OIDC token is not valid: "+tokenProblem(err), err)
	}
	return nil, false
}

// tokenProblem names the failed check without the verifier's details.
func tokenProblem(err error) string {
	for _, e := range []error{oidc.ErrMalformed, oidc.ErrAlgorithm, oidc.ErrIssuerNotAllowed, oidc.ErrIssuerMismatch,
		oidc.ErrUnknownKey, oidc.ErrSignature, oidc.ErrAudience, oidc.ErrExpired, oidc.ErrNotYetValid} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return "verification failed"
}

// rateLimit takes one request from subject's budget, or answers 429.
func (s *Server) rateLimit(w http.ResponseWriter, subject string, lf *logFields) bool {
	ok, wait := s.limiter.allow(subject, time.Now())
	if !ok {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter(wait)))
		writeError(w, lf, http.StatusTooManyRequests, "too many requests for this token subject; retry later", nil)
	}
	return ok
}
