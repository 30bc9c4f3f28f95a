// Package broker is the HTTP server of `jit-policy serve`: it exchanges a
// job's OIDC token for a credential (POST /v1/issue), revokes a job's own
// leases (POST /v1/revoke), serves the CA keys and the revocation lists,
// and reports health, readiness and Prometheus metrics. The wire contract
// is internal/brokerapi. It runs the same exchange (verification, policy,
// issuers, lease store) and revoker as the CLI: there is no second code
// path.
//
// Every request runs under a deadline (Config.RequestTimeout) that reaches
// every backend call; bodies are bounded by brokerapi.MaxRequestBytes;
// authenticated requests are rate-limited per token subject. Bad input
// gets a 4xx and changes nothing. One JSON log line is written per request;
// it never holds the Authorization header, a token, a body or an output.
package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/time/rate"

	"github.com/jit-policy/jit-policy/internal/brokerapi"
	"github.com/jit-policy/jit-policy/internal/exchange"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/revocation"
)

// Defaults for the zero values of Config.
const (
	DefaultRatePerSubject = rate.Limit(20) // requests per second per token subject
	DefaultBurst          = 40
	DefaultRequestTimeout = 10 * time.Second
)

// maxRevokeIDs bounds the lease ids of one revoke request.
const maxRevokeIDs = 100

// Config is what a Server runs on. Exchange and Revoker are required.
type Config struct {
	// Exchange issues; its Verifier also authenticates /v1/revoke.
	Exchange *exchange.Exchange
	// Revoker revokes for /v1/revoke (and republishes the list files).
	Revoker *revocation.Revoker
	// Leases is read to check that a lease belongs to the token's job;
	// nil: Exchange.Leases.
	Leases lease.Store
	// Lists serves the CA keys and revocation lists; nil answers 404.
	Lists Lists
	// RatePerSubject limits authenticated requests per token subject
	// (sub claim); zero: DefaultRatePerSubject; rate.Inf: no limit.
	RatePerSubject rate.Limit
	// Burst is the limiter's bucket size; zero: DefaultBurst.
	Burst int
	// RequestTimeout bounds each request, every backend call included;
	// zero: DefaultRequestTimeout.
	RequestTimeout time.Duration
	// Logger receives one line per request; nil: JSON lines on stderr.
	Logger *slog.Logger
	// Registry receives the metrics and is served on /metrics; nil: a new
	// registry with the Go and process collectors.
	Registry *prometheus.Registry
}

// Server is the broker. Its methods and its handler are safe for
// concurrent use; Config is read once, by New.
type Server struct {
	x        *exchange.Exchange
	revoker  *revocation.Revoker
	leases   lease.Store
	lists    *listCache
	limiter  *subjectLimiter
	timeout  time.Duration
	log      *slog.Logger
	registry *prometheus.Registry
	metrics  *metrics
	ready    atomic.Pointer[readiness]
	handler  http.Handler
	// running counts handlers that have not returned: a revocation runs
	// on after its connection is closed, until its own deadline.
	running sync.WaitGroup
}

type readiness struct {
	ok  bool
	why string
}

// New returns a Server, not ready (/readyz answers 503) until SetReady.
func New(cfg Config) (*Server, error) {
	if cfg.Exchange == nil || cfg.Exchange.Verifier == nil {
		return nil, errors.New("broker: an exchange with a token verifier is required")
	}
	if cfg.Revoker == nil {
		return nil, errors.New("broker: a revoker is required")
	}
	s := &Server{x: cfg.Exchange, revoker: cfg.Revoker, leases: cfg.Leases, timeout: cfg.RequestTimeout, log: cfg.Logger, registry: cfg.Registry}
	if s.leases == nil {
		s.leases = cfg.Exchange.Leases
	}
	if s.leases == nil {
		return nil, errors.New("broker: a lease store is required")
	}
	if s.timeout <= 0 {
		s.timeout = DefaultRequestTimeout
	}
	if s.log == nil {
		s.log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	if s.registry == nil {
		s.registry = prometheus.NewRegistry()
		s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	limit, burst := cfg.RatePerSubject, cfg.Burst
	if limit == 0 {
		limit = DefaultRatePerSubject
	}
	if burst <= 0 {
		burst = DefaultBurst
	}
	s.limiter = newSubjectLimiter(limit, burst)
	s.lists = newListCache(cfg.Lists)
	m, err := newMetrics(s.registry, cfg.Exchange.Issuers)
	if err != nil {
		return nil, fmt.Errorf("broker: registering metrics: %w", err)
	}
	s.metrics = m
	s.ready.Store(&readiness{why: "starting"})
	s.handler = s.routes()
	return s, nil
}

// Handler returns the broker's HTTP handler. The caller's http.Server
// should still set ReadHeaderTimeout, ReadTimeout and WriteTimeout.
func (s *Server) Handler() http.Handler { return s.handler }

// SetReady sets what /readyz answers: 200, or 503 naming why (the policy
// failed to load, shutting down). Even when set ready, /readyz answers 503
// while the lease store does not answer a read. Safe to call at any time,
// from any goroutine.
func (s *Server) SetReady(ok bool, why string) {
	s.ready.Store(&readiness{ok: ok, why: why})
}

// Wait blocks until every request handler has returned, or ctx is done.
// Call it after the HTTP server is shut down or closed and before the
// lease store is closed: a revocation finishes its backend work and its
// record even when its client went away, bounded by its own deadline.
func (s *Server) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		s.running.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("requests still running: %w", ctx.Err())
	}
}

// PolicyReloaded counts a policy reload (jit_policy_reload_total), by
// outcome. Safe for concurrent use.
func (s *Server) PolicyReloaded(ok bool) {
	outcome := "ok"
	if !ok {
		outcome = "error"
	}
	s.metrics.reloads.WithLabelValues(outcome).Inc()
}

// route names the handled paths in logs and metrics; anything else is
// "other", so that metrics labels stay bounded.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(brokerapi.PathIssue, s.wrap("issue", slog.LevelInfo, s.serveIssue))
	mux.Handle(brokerapi.PathRevoke, s.wrap("revoke", slog.LevelInfo, s.serveRevoke))
	mux.Handle(brokerapi.PathSSHCA, s.wrap("ssh_ca", slog.LevelDebug, s.serveList(listSSHCA)))
	mux.Handle(brokerapi.PathKRL, s.wrap("krl", slog.LevelDebug, s.serveList(listKRL)))
	mux.Handle(brokerapi.PathX509CA, s.wrap("x509_ca", slog.LevelDebug, s.serveList(listX509CA)))
	mux.Handle(brokerapi.PathCRL, s.wrap("crl", slog.LevelDebug, s.serveList(listCRL)))
	mux.Handle(brokerapi.PathHealth, s.wrap("healthz", slog.LevelDebug, s.serveHealth))
	mux.Handle(brokerapi.PathReady, s.wrap("readyz", slog.LevelDebug, s.serveReady))
	mux.Handle(brokerapi.PathMetrics, s.wrap("metrics", slog.LevelDebug, s.serveMetrics()))
	mux.Handle("/", s.wrap("other", slog.LevelInfo, func(w http.ResponseWriter, r *http.Request, lf *logFields) {
		writeError(w, lf, http.StatusNotFound, "no such path", nil)
	}))
	return mux
}

func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request, lf *logFields) {
	if !getOnly(w, r, lf) {
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok\n"))
}

// readinessProbe is the id /readyz reads: never a lease id (32 hex digits).
const readinessProbe = "readyz-probe"

func (s *Server) serveReady(w http.ResponseWriter, r *http.Request, lf *logFields) {
	if !getOnly(w, r, lf) {
		return
	}
	st := s.ready.Load()
	if !st.ok {
		writeError(w, lf, http.StatusServiceUnavailable, "not ready: "+st.why, nil)
		return
	}
	// A read of a lease that cannot exist proves the store answers.
	if _, err := s.leases.Get(r.Context(), readinessProbe); err != nil && !errors.Is(err, lease.ErrNotFound) {
		writeError(w, lf, http.StatusServiceUnavailable, "not ready: the lease store does not answer", err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ready\n"))
}
