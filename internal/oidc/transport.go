package oidc

import (
	"errors"
	"fmt"
	"github.com/jit-policy/jit-policy/internal/loopback"
	"io"
	"net/http"
	"net/url"
	"time"
)

// MaxResponseBytes caps every response body read from an issuer: the
// discovery document and the JWKS.
const MaxResponseBytes = 1 << 20

// DefaultTimeout is the timeout of the HTTP client used when NewVerifier is
// given none.
const DefaultTimeout = 10 * time.Second

// maxRedirects bounds the redirects followed for one request.
const maxRedirects = 5

// errBodyTooLarge is what reading a response over MaxResponseBytes returns.
var errBodyTooLarge = fmt.Errorf("response body exceeds %d bytes", MaxResponseBytes)

// issuerClient returns a copy of client (a default with DefaultTimeout when
// nil) whose transport caps response bodies at limit bytes and whose
// redirects stay on https (http only on loopback). client is not modified.
func issuerClient(client *http.Client, limit int64) *http.Client {
	if client == nil {
		client = &http.Client{Timeout: DefaultTimeout}
	}
	c := *client
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = &capTransport{base: base, limit: limit}
	next := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return errors.New("too many redirects")
		}
		if err := checkURL(req.URL); err != nil {
			return fmt.Errorf("redirect refused: %w", err)
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return &c
}

// capTransport is an http.RoundTripper whose response bodies fail with
// errBodyTooLarge past limit bytes instead of being read to the end.
type capTransport struct {
	base  http.RoundTripper
	limit int64
}

// RoundTrip sends req through the base transport and caps the body.
func (t *capTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > t.limit {
		resp.Body.Close()
		return nil, errBodyTooLarge
	}
	resp.Body = &capBody{rc: resp.Body, left: t.limit}
	return resp, nil
}

// capBody reads at most left more bytes, then fails.
type capBody struct {
	rc   io.ReadCloser
	left int64
}

// Read reads from the body; one byte past the cap is an error.
func (b *capBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, errBodyTooLarge
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return 0, errBodyTooLarge
	}
	return n, err
}

// Close closes the underlying body.
func (b *capBody) Close() error { return b.rc.Close() }

// checkIssuerURL checks that an allowlisted issuer is an https:// URL, or
// http:// on loopback, with a host and nothing that cannot be part of an
// issuer identifier (user info, query, fragment).
func checkIssuerURL(issuer string) error {
	u, err := url.Parse(issuer)
	if err != nil || u.Opaque != "" {
		return fmt.Errorf("issuer %q is not a URL", issuer)
	}
	if err := checkURL(u); err != nil {
		return fmt.Errorf("issuer %q: %w", issuer, err)
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return fmt.Errorf("issuer %q must not hold user info, a query or a fragment", issuer)
	}
	return nil
}

// checkURL accepts https:// URLs with a host, and http:// ones on loopback.
func checkURL(u *url.URL) error {
	switch {
	case u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return errors.New("must be an https:// URL")
	case u.Scheme == "http" && !loopback.Is(u.Hostname()):
		return errors.New("must use https; http is allowed only on loopback (localhost, 127.0.0.0/8, ::1)")
	}
	return nil
}
