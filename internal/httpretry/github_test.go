package httpretry

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
)

func TestPolicyGitHub(t *testing.T) {
	p := Policy{Attempts: 3, Backoff: time.Millisecond, MaxWait: 5 * time.Millisecond}
	answers := []int{http.StatusBadGateway, http.StatusOK}
	calls := 0
	resp, err := p.GitHub(t.Context(), Classify, func() (*github.Response, error) {
		code := answers[calls]
		calls++
		r := &github.Response{Response: &http.Response{StatusCode: code, Header: http.Header{}}}
		if code != http.StatusOK {
			return r, &github.ErrorResponse{Response: r.Response}
		}
		return r, nil
	})
	if err != nil || calls != 2 || resp.StatusCode != http.StatusOK {
		t.Fatalf("GitHub: %d calls, status %v, err %v; want 2 calls, 200, nil", calls, resp, err)
	}
}

func TestBaseURL(t *testing.T) {
	u, err := BaseURL("https://ghe.example/api/v3")
	if err != nil || u.String() != "https://ghe.example/api/v3/" {
		t.Errorf("BaseURL gave %v, %v; want https://ghe.example/api/v3/ (trailing slash added)", u, err)
	}
	if u, err := BaseURL("http://127.0.0.1:8080/gitlab/"); err != nil || u.Path != "/gitlab/" {
		t.Errorf("BaseURL gave %v, %v; want the path /gitlab/ kept", u, err)
	}
	for _, bad := range []string{"ftp://api.github.com", "api.github.com", "https:///no-host"} {
		if u, err := BaseURL(bad); err == nil {
			t.Errorf("BaseURL(%q) = %v, want an error", bad, u)
		}
	}
}
