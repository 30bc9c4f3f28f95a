package broker

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/jit-policy/jit-policy/issuers"
)

// metrics are the broker's Prometheus metrics. Label values are bounded:
// an issuer label is a configured issuer's name or "other".
type metrics struct {
	decisions   *prometheus.CounterVec   // issuer, outcome: allowed|denied|error
	issues      *prometheus.CounterVec   // issuer, outcome (see issueOutcomes)
	revocations *prometheus.CounterVec   // issuer, outcome: revoked|skipped|pending|failed|forbidden
	reloads     *prometheus.CounterVec   // outcome: ok|error
	duration    *prometheus.HistogramVec // route, code
	configured  map[string]bool
}

// issueOutcomes are the outcome labels of jit_issues_total.
var issueOutcomes = []string{"issued", "denied", "invalid", "unauthorized", "replayed", "rate_limited", "error"}

func newMetrics(reg prometheus.Registerer, iss map[string]issuers.Issuer) (*metrics, error) {
	m := &metrics{
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jit_decisions_total", Help: "Policy decisions on issue requests, by issuer and outcome (allowed, denied, error).",
		}, []string{"issuer", "outcome"}),
		issues: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jit_issues_total", Help: "Issue requests, by issuer and outcome (issued, denied, invalid, unauthorized, replayed, rate_limited, error).",
		}, []string{"issuer", "outcome"}),
		revocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jit_revocations_total", Help: "Leases asked to be revoked through the API, by issuer and outcome (revoked, skipped, pending: being revoked by another process, failed, forbidden).",
		}, []string{"issuer", "outcome"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jit_policy_reload_total", Help: "Policy reloads, by outcome (ok, error).",
		}, []string{"outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "jit_request_duration_seconds", Help: "HTTP request latency, by route and status code.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "code"}),
		configured: map[string]bool{},
	}
	for _, c := range []prometheus.Collector{m.decisions, m.issues, m.revocations, m.reloads, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	// Start every series of a configured issuer at zero, so that rates
	// and alerts see them before the first event.
	for name := range iss {
		m.configured[name] = true
		for _, o := range []string{"allowed", "denied", "error"} {
			m.decisions.WithLabelValues(name, o)
		}
		for _, o := range issueOutcomes {
			m.issues.WithLabelValues(name, o)
		}
		for _, o := range []string{"revoked", "skipped", "pending", "failed", "forbidden"} {
			m.revocations.WithLabelValues(name, o)
		}
	}
	m.reloads.WithLabelValues("ok")
	m.reloads.WithLabelValues("error")
	return m, nil
}

// issuer returns the label for an issuer name from a request.
func (m *metrics) issuer(name string) string {
	if m.configured[name] {
		return name
	}
	return "other"
}

func (s *Server) serveMetrics() handlerFunc {
	h := promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})
	return func(w http.ResponseWriter, r *http.Request, lf *logFields) {
		if !getOnly(w, r, lf) {
			return
		}
		h.ServeHTTP(w, r)
	}
}
