// Package brokerclient is the client of `jit-policy serve` (the broker):
// `jit-policy issue|revoke --broker URL` and the action's `broker` input
// send the job's OIDC ID token to it instead of issuing locally. The wire
// contract is internal/brokerapi. The token travels only in the
// Authorization header, and no error or log line ever holds it.
package brokerclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/jit-policy/jit-policy/internal/loopback"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jit-policy/jit-policy/internal/brokerapi"
	"github.com/jit-policy/jit-policy/issuers"
)

// Limits.
const (
	// MaxResponseBytes bounds every response body read from the broker.
	MaxResponseBytes = 1 << 20
	// DefaultTimeout is the timeout of a request when the HTTP client given
	// to New has none.
	DefaultTimeout = 30 * time.Second
	// maxMessage bounds the broker's error message and each reason kept in
	// an APIError.
	maxMessage = 4 << 10
)

// Client talks to one broker.
type Client struct {
	base *url.URL
	hc   *http.Client
}

// New returns a client of the broker at baseURL: https://HOST[:PORT][/PATH],
// or http:// only when HOST is a loopback IP address or "localhost". A URL
// with user info, a query or a fragment is refused. hc nil means a client
// with DefaultTimeout; a client without a timeout gets DefaultTimeout. The
// client never follows redirects (the token would go along).
func New(baseURL string, hc *http.Client) (*Client, error) {
	u, err := ParseURL(baseURL)
	if err != nil {
		return nil, err
	}
	c := &http.Client{}
	if hc != nil {
		*c = *hc
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Client{base: u, hc: c}, nil
}

// ParseURL checks a broker URL as New does and returns it without a
// trailing slash. Its errors never echo the URL.
func ParseURL(s string) (*url.URL, error) {
	if s == "" {
		return nil, errors.New("broker URL is empty")
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return nil, errors.New("broker URL holds white space or control characters")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, errors.New("broker URL: not a URL")
	}
	switch {
	case u.Opaque != "" || u.Host == "":
		return nil, errors.New("broker URL: want https://HOST[:PORT][/PATH]")
	case u.User != nil:
		return nil, errors.New("broker URL: user info is not allowed (the job's token is the only credential)")
	case u.RawQuery != "" || u.ForceQuery:
		return nil, errors.New("broker URL: a query is not allowed")
	case u.Fragment != "" || strings.Contains(s, "#"):
		return nil, errors.New("broker URL: a fragment is not allowed")
	case u.Hostname() == "":
		return nil, errors.New("broker URL: no host")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !loopback.Is(u.Hostname()) {
			return nil, errors.New("broker URL: must be https (http only on loopback: 127.0.0.1, ::1, localhost)")
		}
	default:
		return nil, errors.New("broker URL: must be https (http only on loopback)")
	}
	if p := u.Port(); p != "" {
		if _, err := net.LookupPort("tcp", p); err != nil || strings.TrimLeft(p, "0123456789") != "" {
			return nil, errors.New("broker URL: bad port")
		}
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// URL returns the broker's base URL, normalised (no trailing slash).
func (c *Client) URL() string { return c.base.String() }

// APIError is a 4xx or 5xx answer of the broker: its status, its plain
// message and, for a denial (403 on issue), the policy's reasons.
type APIError struct {
	Status  int
	Message string
	Reasons []string
}

// Error returns the broker's message (or the status text) and, for a
// denial, its reasons.
func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	s := fmt.Sprintf("broker answered %d: %s", e.Status, msg)
	if len(e.Reasons) > 0 {
		s += " (" + strings.Join(e.Reasons, "; ") + ")"
	}
	return s
}

// Denied reports whether the broker denied the request (403).
func (e *APIError) Denied() bool { return e.Status == http.StatusForbidden }

// IsDenied reports whether err is (or wraps) a denial of the broker, and
// returns it.
func IsDenied(err error) (*APIError, bool) {
	e, ok := errors.AsType[*APIError](err)
	if !ok || !e.Denied() {
		return nil, false
	}
	return e, true
}

// Issue asks the broker for a credential, proving the job with token.
func (c *Client) Issue(ctx context.Context, token string, req brokerapi.IssueRequest) (brokerapi.IssueResponse, error) {
	var res brokerapi.IssueResponse
	if err := c.post(ctx, brokerapi.PathIssue, token, req, &res); err != nil {
		return brokerapi.IssueResponse{}, err
	}
	if res.LeaseID == "" {
		return brokerapi.IssueResponse{}, errors.New("broker: the issue response has no lease_id")
	}
	if res.ExpiresAt.IsZero() {
		return res, fmt.Errorf("broker: lease %s: the issue response has no expires_at", res.LeaseID)
	}
	return res, nil
}

// Revoke asks the broker to revoke leases of the token's own job.
func (c *Client) Revoke(ctx context.Context, token string, ids []string) (brokerapi.RevokeResponse, error) {
	var res brokerapi.RevokeResponse
	if len(ids) == 0 {
		return res, errors.New("broker: no lease to revoke")
	}
	if err := c.post(ctx, brokerapi.PathRevoke, token, brokerapi.RevokeRequest{LeaseIDs: ids}, &res); err != nil {
		return brokerapi.RevokeResponse{}, err
	}
	return res, nil
}

// post sends body as JSON to path with the token and decodes a 200 answer
// into out; any other answer becomes an *APIError.
func (c *Client) post(ctx context.Context, path, token string, body, out any) error {
	if err := checkToken(token); err != nil {
		return err
	}
	data, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("broker: encoding the request: %w", err)
	}
	if len(data) > brokerapi.MaxRequestBytes {
		return fmt.Errorf("broker: the request is over %d bytes", brokerapi.MaxRequestBytes)
	}
	u := *c.base
	u.Path += path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("broker: building the request to POST %s: %w", u.String(), err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("broker: POST %s: %w", u.String(), stripURLError(err))
	}
	defer resp.Body.Close()
	if resp.ContentLength > MaxResponseBytes {
		return fmt.Errorf("broker: POST %s: response over %d bytes", u.String(), MaxResponseBytes)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("broker: POST %s: reading the response: %w", u.String(), err)
	}
	if len(raw) > MaxResponseBytes {
		return fmt.Errorf("broker: POST %s: response over %d bytes", u.String(), MaxResponseBytes)
	}
	if resp.StatusCode != http.StatusOK {
		return apiError(resp.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("broker: POST %s: the response is not the expected JSON: %w", u.String(), err)
	}
	return nil
}

// apiError reads a brokerapi.Error body; a body that is not one leaves
// only the status.
func apiError(status int, raw []byte) *APIError {
	e := &APIError{Status: status}
	var body brokerapi.Error
	if json.Unmarshal(raw, &body) == nil {
		e.Message = clip(body.Error)
		for _, r := range body.Reasons {
			if len(e.Reasons) == 64 {
				break
			}
			e.Reasons = append(e.Reasons, clip(r))
		}
	}
	return e
}

// clip shortens s to maxMessage bytes.
func clip(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	return strings.ToValidUTF8(s[:maxMessage], "") + "…"
}

// stripURLError drops the *url.Error wrapper (its text repeats the
// method and URL) and keeps the cause.
func stripURLError(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err
	}
	return err
}

// checkToken refuses an empty token or one that could not travel in a
// header. Its errors never hold the token.
func checkToken(token string) error {
	if token == "" {
		return errors.New("broker: the OIDC ID token is empty")
	}
	if strings.ContainsFunc(token, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
		return errors.New("broker: the OIDC ID token holds white space or non-ASCII characters")
	}
	return nil
}

// secretOutputs are outputs every issuer marks secret; they are masked
// even if a broker forgot to name them in IssueResponse.Secret.
var secretOutputs = []string{"private-key", "aws-secret-access-key", "aws-session-token", "password", "database-url"}

// Outputs turns an IssueResponse's outputs into issuers.Output values, as
// a local issue returns them: lease-id (always the response's LeaseID) and
// expires-at (from the response when the map lacks it) first, then the
// others by name; each named in Secret (or secret for every issuer) has
// Secret set.
func Outputs(res brokerapi.IssueResponse) []issuers.Output {
	secret := func(name string) bool {
		return slices.Contains(res.Secret, name) || slices.Contains(secretOutputs, name)
	}
	outs := []issuers.Output{
		{Name: issuers.OutputLeaseID, Value: res.LeaseID},
		{Name: issuers.OutputExpiresAt, Value: res.ExpiresAt.UTC().Format(time.RFC3339)},
	}
	if v, ok := res.Outputs[issuers.OutputExpiresAt]; ok {
		outs[1].Value = v
	}
	names := make([]string, 0, len(res.Outputs))
	for name := range res.Outputs {
		if name != issuers.OutputLeaseID && name != issuers.OutputExpiresAt {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		outs = append(outs, issuers.Output{Name: name, Value: res.Outputs[name], Secret: secret(name)})
	}
	return outs
}
