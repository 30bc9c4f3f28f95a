package broker

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/jit-policy/jit-policy/issuers/registry"
)

// Lists is the public material the broker serves: the SSH CA public key
// (an authorized_keys line), the SSH KRL, the X.509 CA certificate (PEM)
// and the CRL (PEM). The lists must be built from the lease store on each
// call, not read from this process's files, so that every broker sharing
// the store serves the same revocations. An error wrapping
// registry.ErrNotConfigured (that issuer is not configured) answers 404.
// Implementations must be safe for concurrent use; *app.Lists is one.
type Lists interface {
	SSHCA(ctx context.Context) ([]byte, error)
	KRL(ctx context.Context) ([]byte, error)
	X509CA(ctx context.Context) ([]byte, error)
	CRL(ctx context.Context) ([]byte, error)
}

// listCacheTTL is how long a built list is served again: a revocation
// made through another broker shows within it. Revocations made through
// this broker drop the cache at once.
const listCacheTTL = time.Second

type listKind int

const (
	listSSHCA listKind = iota
	listKRL
	listX509CA
	listCRL
	numLists
)

var listTypes = [numLists]struct {
	name, contentType, cacheControl string
}{
	listSSHCA:  {"SSH CA public key", "text/plain; charset=utf-8", "no-cache"},
	listKRL:    {"SSH KRL", "application/octet-stream", "no-store"},
	listX509CA: {"X.509 CA certificate", "application/x-pem-file", "no-cache"},
	listCRL:    {"X.509 CRL", "application/x-pem-file", "no-store"},
}

// listCache builds each list at most once per listCacheTTL; concurrent
// requests for a stale list wait for one build. Safe for concurrent use.
type listCache struct {
	src     Lists
	entries [numLists]struct {
		mu   sync.Mutex
		data []byte
		at   time.Time
		gen  uint64
	}
	genMu sync.Mutex
	gen   uint64 // bumped by invalidate
}

func newListCache(src Lists) *listCache { return &listCache{src: src} }

// invalidate drops every cached list (after a revocation here).
func (c *listCache) invalidate() {
	c.genMu.Lock()
	c.gen++
	c.genMu.Unlock()
}

func (c *listCache) generation() uint64 {
	c.genMu.Lock()
	defer c.genMu.Unlock()
	return c.gen
}

func (c *listCache) get(ctx context.Context, k listKind) ([]byte, error) {
	if c.src == nil {
		return nil, registry.ErrNotConfigured
	}
	e := &c.entries[k]
	e.mu.Lock()
	defer e.mu.Unlock()
	gen := c.generation()
	if e.data != nil && e.gen == gen && time.Since(e.at) < listCacheTTL {
		return e.data, nil
	}
	var build func(context.Context) ([]byte, error)
	switch k {
	case listSSHCA:
		build = c.src.SSHCA
	case listKRL:
		build = c.src.KRL
	case listX509CA:
		build = c.src.X509CA
	default:
		build = c.src.CRL
	}
	data, err := build(ctx)
	if err != nil {
		return nil, err
	}
	e.data, e.at, e.gen = data, time.Now(), gen
	return data, nil
}

func (s *Server) serveList(k listKind) handlerFunc {
	t := listTypes[k]
	return func(w http.ResponseWriter, r *http.Request, lf *logFields) {
		if !getOnly(w, r, lf) {
			return
		}
		data, err := s.lists.get(r.Context(), k)
		switch {
		case errors.Is(err, registry.ErrNotConfigured):
			writeError(w, lf, http.StatusNotFound, "no "+t.name+": that issuer is not configured", err)
			return
		case errors.Is(err, context.DeadlineExceeded):
			writeError(w, lf, http.StatusGatewayTimeout, "building the "+t.name+" timed out", err)
			return
		case err != nil:
			writeError(w, lf, http.StatusBadGateway, "the "+t.name+" is unavailable", err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", t.contentType)
		h.Set("Cache-Control", t.cacheControl)
		h.Set("X-Content-Type-Options", "nosniff")
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusOK)
			return
		}
		_, _ = w.Write(data)
	}
}
