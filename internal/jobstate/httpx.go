package jobstate

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// errTooLarge: a provider's response body exceeded MaxResponseBytes.
var errTooLarge = fmt.Errorf("response body larger than %d bytes", MaxResponseBytes)

// cappedTransport caps every response body at MaxResponseBytes: reading
// past the cap fails with errTooLarge instead of exhausting memory.
type cappedTransport struct{ base http.RoundTripper }

func (t cappedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &cappedBody{rc: resp.Body, left: MaxResponseBytes}
	return resp, nil
}

type cappedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body of exactly the cap from a longer one.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, errTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }

// sameHost wraps a client's redirect policy so that no request, and so
// no token header, follows a redirect to another host or from https to
// http. Go drops Authorization on such redirects, but not PRIVATE-TOKEN.
func sameHost(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		first := via[0].URL
		if req.URL.Host != first.Host || (first.Scheme == "https" && req.URL.Scheme != "https") {
			return fmt.Errorf("refusing the redirect from %s to %s://%s", first.Host, req.URL.Scheme, req.URL.Host)
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
}

// redacted hides tokens from an error's text while keeping its chain for
// errors.Is and errors.As.
type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

// redact returns err with every token replaced by "[REDACTED]".
func redact(err error, tokens []string) error {
	msg := err.Error()
	clean := msg
	for _, t := range tokens {
		clean = strings.ReplaceAll(clean, t, "[REDACTED]")
	}
	if clean == msg {
		return err
	}
	return &redacted{msg: clean, err: err}
}
