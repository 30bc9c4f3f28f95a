package broker

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// logFields are what a handler adds to its request's log line. Only
// values that are not secret go here: never a token, a body or an output.
type logFields struct {
	subject, issuer, role, leaseID, decisionID string
	leaseIDs                                   []string
	// detail is the full error, for the log only (the caller gets a plain
	// message); errors of this codebase never hold a raw token.
	detail error
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, lf *logFields)

// statusWriter records the status code a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// wrap runs h under the request deadline, recovers a panic as a 500, and
// then logs the request and observes its duration.
func (s *Server) wrap(route string, level slog.Level, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.running.Add(1)
		defer s.running.Done()
		start := time.Now()
		ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
		defer cancel()
		sw := &statusWriter{ResponseWriter: w}
		lf := &logFields{}
		func() {
			defer func() {
				if p := recover(); p != nil {
					if p == http.ErrAbortHandler {
						panic(p)
					}
					lf.detail = fmt.Errorf("panic: %v", p)
					if sw.code == 0 {
						writeError(sw, lf, http.StatusInternalServerError, "internal error", nil)
					}
				}
			}()
			h(sw, r.WithContext(ctx), lf)
		}()
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		d := time.Since(start)
		s.metrics.duration.WithLabelValues(route, fmt.Sprint(sw.code)).Observe(d.Seconds())
		if sw.code >= 500 {
			level = slog.LevelError
		} else if sw.code >= 400 && level < slog.LevelInfo {
			level = slog.LevelInfo
		}
		if !s.log.Enabled(ctx, level) {
			return
		}
		attrs := []slog.Attr{
			slog.String("route", route), slog.String("method", r.Method), slog.Int("status", sw.code),
			slog.Float64("duration_ms", float64(d.Microseconds())/1000), slog.String("remote", r.RemoteAddr),
		}
		for _, kv := range [][2]string{{"subject", lf.subject}, {"issuer", lf.issuer}, {"role", lf.role}, {"lease_id", lf.leaseID}, {"decision_id", lf.decisionID}} {
			if kv[1] != "" {
				attrs = append(attrs, slog.String(kv[0], kv[1]))
			}
		}
		if len(lf.leaseIDs) > 0 {
			attrs = append(attrs, slog.Any("lease_ids", lf.leaseIDs))
		}
		if lf.detail != nil {
			attrs = append(attrs, slog.String("error", lf.detail.Error()))
		}
		s.log.LogAttrs(context.WithoutCancel(ctx), level, "request", attrs...)
	})
}
