// Package idtoken obtains the CI job's OIDC ID token: from GitHub Actions'
// runner token endpoint, from a GitLab CI `id_tokens:` variable, or from a
// file. It only fetches; internal/oidc verifies. The environment is passed
// in as a getenv function (os.Getenv in production), so nothing here reads
// the process environment itself.
package idtoken

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/jit-policy/jit-policy/internal/loopback"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Limits.
const (
	// MaxTokenBytes caps a token read from a variable or a file.
	MaxTokenBytes = 16 << 10
	// MaxResponseBytes caps the runner token endpoint's response.
	MaxResponseBytes = 64 << 10
	// DefaultTimeout is the timeout of the HTTP client used when
	// FromGitHubRunner is given none.
	DefaultTimeout = 10 * time.Second
)

// The variables GitHub's runner sets for a job that may request an ID token.
const (
	EnvRequestURL   = "ACTIONS_ID_TOKEN_REQUEST_URL"
	EnvRequestToken = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
)

// ErrUnavailable means the CI system offers no ID token to this job: the
// variables are unset. Its message says how to fix the job.
var ErrUnavailable = errors.New("no OIDC ID token available")

// FromGitHubRunner requests an ID token for audience from GitHub Actions'
// runner: GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=AUDIENCE with
// "Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN", returning the
// "value" of the JSON response. The request URL must be https (http only on
// loopback), since the request token goes with it. client nil means a
// client with DefaultTimeout.
func FromGitHubRunner(ctx context.Context, client *http.Client, audience string, getenv func(string) string) (string, error) {
	reqURL, reqToken := getenv(EnvRequestURL), getenv(EnvRequestToken)
	if reqURL == "" || reqToken == "" {
		return "", fmt.Errorf("%w: %s and %s are not set: the job needs `permissions: id-token: write`", ErrUnavailable, EnvRequestURL, EnvRequestToken)
	}
	if audience == "" {
		return "", errors.New("github id token: the audience is empty")
	}
	u, err := url.Parse(reqURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && (u.Scheme != "http" || !loopback.Is(u.Hostname()))) {
		return "", fmt.Errorf("github id token: %s must be an https:// URL (http only on loopback)", EnvRequestURL)
	}
	sep := "&"
	if !strings.Contains(reqURL, "?") {
		sep = "?"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, reqURL+sep+"audience="+url.QueryEscape(audience), nil)
	if err != nil {
		return "", fmt.Errorf("github id token: building the request to %s: %w; check %s (the runner sets it for a job with `permissions: id-token: write`)", u.Redacted(), err, EnvRequestURL)
	}
	req.Header.Set("Authorization", "Bearer "+reqToken)
	req.Header.Set("Accept", "application/json")
	if client == nil {
		client = &http.Client{Timeout: DefaultTimeout}
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("github id token: request to %s failed: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return "", fmt.Errorf("github id token: read response: %w", err)
	}
	if len(body) > MaxResponseBytes {
		return "", fmt.Errorf("github id token: response over %d bytes", MaxResponseBytes)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("github id token: %s answered %s", u.Redacted(), resp.Status)
	}
	var out struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return "", fmt.Errorf("github id token: response is not JSON with a value")
	}
	return checkToken("github id token", out.Value)
}

// FromGitLab returns the ID token in GitLab CI variable name, which the job
// declares under `id_tokens:` (e.g. `id_tokens: {JIT_ID_TOKEN: {aud:
// jit-policy}}` and name "JIT_ID_TOKEN").
func FromGitLab(name string, getenv func(string) string) (string, error) {
	if name == "" {
		return "", errors.New("gitlab id token: no variable name given")
	}
	v := getenv(name)
	if strings.TrimSpace(v) == "" {
		return "", fmt.Errorf("%w: variable %s is not set: declare it in the job's `id_tokens:` (with the audience as aud)", ErrUnavailable, name)
	}
	return checkToken("gitlab id token "+name, v)
}

// FromFile returns the token in the file at path, with surrounding white
// space trimmed.
func FromFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("id token file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxTokenBytes+1))
	if err != nil {
		return "", fmt.Errorf("id token file %s: %w", path, err)
	}
	return checkToken("id token file "+path, string(data))
}

// checkToken trims tok and checks that it is non-empty and not over
// MaxTokenBytes. Errors name where the token came from, never the token.
func checkToken(from, tok string) (string, error) {
	if len(tok) > MaxTokenBytes {
		return "", fmt.Errorf("%s: token over %d bytes", from, MaxTokenBytes)
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return "", fmt.Errorf("%s: empty token", from)
	}
	return tok, nil
}
