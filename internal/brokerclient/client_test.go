package brokerclient

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/brokerapi"
	"github.com/jit-policy/jit-policy/issuers"
)

const testToken = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOm9yZy9hcHAifQ.c2lnbmF0dXJl"

// seen is what the fake broker received.
type seen struct {
	mu   sync.Mutex
	reqs []seenRequest
}

type seenRequest struct {
	method, path, rawQuery, auth, contentType, body string
	headers                                         http.Header
}

func (s *seen) all() []seenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

// fakeBroker records each request and answers with handle.
func fakeBroker(s *seen, handle func(w http.ResponseWriter, r *http.Request, body []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, seenRequest{method: r.Method, path: r.URL.Path, rawQuery: r.URL.RawQuery, auth: r.Header.Get("Authorization"),
			contentType: r.Header.Get("Content-Type"), body: string(body), headers: r.Header.Clone()})
		s.mu.Unlock()
		handle(w, r, body)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

var expires = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func issueOK(w http.ResponseWriter, r *http.Request, body []byte) {
	switch r.URL.Path {
	case brokerapi.PathIssue:
		writeJSON(w, 200, brokerapi.IssueResponse{LeaseID: "lease1", ExpiresAt: expires,
			Outputs: map[string]string{"lease-id": "lease1", "expires-at": expires.Format(time.RFC3339), "certificate": "ssh-ed25519-cert-v01@openssh.com AAAA", "private-key": "-----BEGIN-----\nabc\n-----END-----"},
			Secret:  []string{"private-key"}})
	case brokerapi.PathRevoke:
		var req brokerapi.RevokeRequest
		_ = json.Unmarshal(body, &req)
		writeJSON(w, 200, brokerapi.RevokeResponse{Revoked: req.LeaseIDs})
	default:
		writeJSON(w, 404, brokerapi.Error{Error: "not found"})
	}
}

func TestBrokerIssueAndRevokeTLS(t *testing.T) {
	var s seen
	srv := httptest.NewTLSServer(fakeBroker(&s, issueOK))
	defer srv.Close()
	c, err := New(srv.URL+"/", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	if c.URL() != srv.URL {
		t.Fatalf("URL %q, want %q", c.URL(), srv.URL)
	}
	res, err := c.Issue(t.Context(), testToken, brokerapi.IssueRequest{Issuer: "ssh", Role: "deploy", TTLSeconds: 300, GenerateKey: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.LeaseID != "lease1" || !res.ExpiresAt.Equal(expires) || res.Outputs["certificate"] == "" {
		t.Fatalf("response %+v", res)
	}
	rev, err := c.Revoke(t.Context(), testToken, []string{"lease1", "lease2"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rev.Revoked, []string{"lease1", "lease2"}) {
		t.Fatalf("revoked %v", rev.Revoked)
	}
	reqs := s.all()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	if reqs[0].method != "POST" || reqs[0].path != brokerapi.PathIssue || reqs[1].path != brokerapi.PathRevoke {
		t.Fatalf("requests %+v", reqs)
	}
	var ir brokerapi.IssueRequest
	if err := json.Unmarshal([]byte(reqs[0].body), &ir); err != nil || ir.Issuer != "ssh" || ir.Role != "deploy" || ir.TTLSeconds != 300 || !ir.GenerateKey {
		t.Fatalf("issue body %s: %v", reqs[0].body, err)
	}
	// The token is only in the Authorization header.
	for i, r := range reqs {
		if r.auth != "Bearer "+testToken {
			t.Fatalf("request %d: Authorization %q", i, r.auth)
		}
		if r.contentType != "application/json" {
			t.Fatalf("request %d: Content-Type %q", i, r.contentType)
		}
		if strings.Contains(r.body, testToken) || strings.Contains(r.rawQuery, testToken) || strings.Contains(r.path, testToken) {
			t.Fatalf("request %d: token outside the header", i)
		}
		for name, vs := range r.headers {
			if name == "Authorization" {
				continue
			}
			for _, v := range vs {
				if strings.Contains(v, testToken) {
					t.Fatalf("request %d: token in header %s", i, name)
				}
			}
		}
	}
}

func TestBrokerLoopbackHTTPWithPath(t *testing.T) {
	var s seen
	srv := httptest.NewServer(http.StripPrefix("/jit", fakeBroker(&s, issueOK)))
	defer srv.Close()
	c, err := New(srv.URL+"/jit", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Issue(t.Context(), testToken, brokerapi.IssueRequest{Issuer: "ssh", Role: "deploy"}); err != nil {
		t.Fatal(err)
	}
	if reqs := s.all(); len(reqs) != 1 || reqs[0].path != brokerapi.PathIssue {
		t.Fatalf("requests %+v", reqs)
	}
}

func TestBrokerURLs(t *testing.T) {
	tests := []struct {
		url  string
		ok   bool
		want string
	}{
		{"https://jit.example.com", true, ""},
		{"https://jit.example.com:8443/base/", true, ""},
		{"http://127.0.0.1:8080", true, ""},
		{"http://[::1]:8080", true, ""},
		{"http://localhost:8080", true, ""},
		{"http://LOCALHOST", true, ""},
		{"http://example.com", false, "must be https"},
		{"http://10.0.0.1:8443", false, "must be https"},
		{"http://127.0.0.1.example.com", false, "must be https"},
		{"http://localhost.example.com", false, "must be https"},
		{"ftp://127.0.0.1", false, "must be https"},
		{"https://user:pass@jit.example.com", false, "user info"},
		{"https://tok@jit.example.com", false, "user info"},
		{"https://jit.example.com/?x=1", false, "query"},
		{"https://jit.example.com/?", false, "query"},
		{"https://jit.example.com/#frag", false, "fragment"},
		{"https://jit.example.com/#", false, "fragment"},
		{"jit.example.com", false, "want https://"},
		{"/v1/issue", false, "want https://"},
		{"https:jit.example.com", false, "want https://"},
		{"https://", false, "want https://"},
		{"https://:8443", false, "no host"},
		{"https://jit.example.com:99999", false, "port"},
		{"https://jit.example.com/ x", false, "white space"},
		{"", false, "empty"},
	}
	for _, tc := range tests {
		_, err := New(tc.url, nil)
		if tc.ok {
			if err != nil {
				t.Errorf("New(%q): %v", tc.url, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%q): %v, want an error with %q", tc.url, err, tc.want)
		}
		if err != nil && (strings.Contains(err.Error(), "pass") || strings.Contains(err.Error(), "tok@")) {
			t.Errorf("New(%q): the error echoes user info: %v", tc.url, err)
		}
	}
}

func TestBrokerErrors(t *testing.T) {
	big := strings.Repeat("x", MaxResponseBytes+10)
	tests := []struct {
		name    string
		handle  func(w http.ResponseWriter, r *http.Request, body []byte)
		status  int // of the APIError; 0: not an APIError
		denied  bool
		want    string
		reasons []string
	}{
		{name: "denied", handle: func(w http.ResponseWriter, _ *http.Request, _ []byte) {
			writeJSON(w, 403, brokerapi.Error{Error: "denied by policy", Reasons: []string{"ref refs/heads/dev is not refs/heads/main", "environment dev is not prod"}})
		}, status: 403, denied: true, want: "broker answered 403: denied by policy (ref refs/heads/dev is not refs/heads/main; environment dev is not prod)",
			reasons: []string{"ref refs/heads/dev is not refs/heads/main", "environment dev is not prod"}},
		{name: "unauthorized", handle: func(w http.ResponseWriter, _ *http.Request, _ []byte) {
			writeJSON(w, 401, brokerapi.Error{Error: "token: expired"})
		}, status: 401, want: "broker answered 401: token: expired"},
		{name: "plain 502", handle: func(w http.ResponseWriter, _ *http.Request, _ []byte) {
			w.WriteHeader(502)
			_, _ = io.WriteString(w, "<html>bad gateway</html>")
		}, status: 502, want: "broker answered 502: Bad Gateway"},
		{name: "too large", handle: func(w http.ResponseWriter, _ *http.Request, _ []byte) {
			_, _ = io.WriteString(w, big)
		}, want: "response over 1048576 bytes"},
		{name: "not JSON", handle: func(w http.ResponseWriter, _ *http.Request, _ []byte) {
			_, _ = io.WriteString(w, "hello")
		}, want: "not the expected JSON"},
		{name: "no lease id", handle: func(w http.ResponseWriter, _ *http.Request, _ []byte) {
			writeJSON(w, 200, brokerapi.IssueResponse{ExpiresAt: expires})
		}, want: "no lease_id"},
		{name: "redirect not followed", handle: func(w http.ResponseWriter, r *http.Request, _ []byte) {
			http.Redirect(w, r, "http://example.com/steal", http.StatusTemporaryRedirect)
		}, status: 307, want: "broker answered 307"},
		{name: "bad request", handle: func(w http.ResponseWriter, _ *http.Request, _ []byte) {
			writeJSON(w, 400, brokerapi.Error{Error: "bad request"})
		}, status: 400, want: "broker answered 400: bad request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s seen
			srv := httptest.NewTLSServer(fakeBroker(&s, tc.handle))
			defer srv.Close()
			c, err := New(srv.URL, srv.Client())
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Issue(t.Context(), testToken, brokerapi.IssueRequest{Issuer: "ssh", Role: "deploy"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Fatalf("error holds the token: %v", err)
			}
			e, isAPI := err.(*APIError)
			if (tc.status != 0) != isAPI {
				t.Fatalf("error %T %v, APIError want %v", err, err, tc.status != 0)
			}
			if isAPI && (e.Status != tc.status || !slices.Equal(e.Reasons, tc.reasons)) {
				t.Fatalf("APIError %+v", e)
			}
			if d, ok := IsDenied(err); ok != tc.denied || (ok && d != e) {
				t.Fatalf("IsDenied %v, want %v", ok, tc.denied)
			}
			if len(s.all()) != 1 {
				t.Fatalf("%d requests, want 1", len(s.all()))
			}
		})
	}
}

func TestBrokerRefusesBadTokens(t *testing.T) {
	var s seen
	srv := httptest.NewTLSServer(fakeBroker(&s, issueOK))
	defer srv.Close()
	c, err := New(srv.URL, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{"", "abc\r\nX-Evil: 1", "abc def"} {
		_, err := c.Issue(t.Context(), tok, brokerapi.IssueRequest{Issuer: "ssh", Role: "deploy"})
		if err == nil || (tok != "" && strings.Contains(err.Error(), tok)) {
			t.Errorf("token %q: %v", tok, err)
		}
	}
	if _, err := c.Revoke(t.Context(), testToken, nil); err == nil {
		t.Errorf("Revoke with no ids: no error")
	}
	if n := len(s.all()); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
}

func TestBrokerTimeout(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	c, err := New(srv.URL, &http.Client{Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = c.Issue(t.Context(), testToken, brokerapi.IssueRequest{Issuer: "ssh", Role: "deploy"})
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("error %v after %v", err, time.Since(start))
	}
	if strings.Contains(err.Error(), testToken) {
		t.Fatalf("error holds the token: %v", err)
	}
}

func TestBrokerOutputs(t *testing.T) {
	res := brokerapi.IssueResponse{LeaseID: "L1", ExpiresAt: expires,
		Outputs: map[string]string{"certificate": "cert", "private-key": "key", "aws-session-token": "tok", "zeta": "z"},
		Secret:  []string{"zeta"}}
	got := Outputs(res)
	want := []issuers.Output{
		{Name: "lease-id", Value: "L1"},
		{Name: "expires-at", Value: "2030-01-02T03:04:05Z"},
		{Name: "aws-session-token", Value: "tok", Secret: true},
		{Name: "certificate", Value: "cert"},
		{Name: "private-key", Value: "key", Secret: true},
		{Name: "zeta", Value: "z", Secret: true},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("outputs\n%+v\nwant\n%+v", got, want)
	}
}
