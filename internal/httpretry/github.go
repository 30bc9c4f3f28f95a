package httpretry

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-github/v60/github"
)

// GitHub runs one go-github call fn under p, judging each attempt with
// classify ([Classify] or a caller's refinement of it). It returns fn's
// last response and error, as [Policy.Do] does.
func (p Policy) GitHub(ctx context.Context, classify func(context.Context, *http.Response, error) Outcome,
	fn func() (*github.Response, error)) (*github.Response, error) {
	var resp *github.Response
	err := p.Do(ctx, func() (Outcome, error) {
		var err error
		resp, err = fn()
		var hr *http.Response
		if resp != nil {
			hr = resp.Response
		}
		return classify(ctx, hr, err), err
	})
	return resp, err
}

// BaseURL parses the base URL of an HTTP API (such as GitHub's REST API)
// and gives it the trailing slash that relative resolution needs. It
// refuses anything but an absolute http(s) URL.
func BaseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	u.RawPath = ""
	return u, nil
}
