package idtoken

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/internal/oidc"
	"github.com/jit-policy/jit-policy/internal/oidctest"
)

// TestFromGitHubRunner fetches tokens from oidctest's runner endpoint and
// verifies them with internal/oidc.
func TestFromGitHubRunner(t *testing.T) {
	iss := oidctest.NewIssuer(t)
	env := iss.RunnerEnv()
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte(`{"value": "` + strings.Repeat("a", MaxResponseBytes) + `"}`))
	}))
	t.Cleanup(big.Close)
	with := func(k, v string) oidctest.Env {
		e := oidctest.Env{}
		for k, v := range env {
			e[k] = v
		}
		e[k] = v
		return e
	}
	tests := []struct {
		name     string
		env      oidctest.Env
		audience string
		wantErr  string // "" means the token must verify for audience
	}{
		{"ok", env, "jit-policy", ""},
		{"audience escaped", env, "a b&c=d", ""},
		{"no request URL", with(EnvRequestURL, ""), "jit-policy", "permissions: id-token: write"},
		{"no request token", with(EnvRequestToken, ""), "jit-policy", "permissions: id-token: write"},
		{"wrong request token", with(EnvRequestToken, "nope"), "jit-policy", "401"},
		{"empty audience", env, "", "audience is empty"},
		{"plain http off loopback", with(EnvRequestURL, "http://example.com/token?x=1"), "jit-policy", "https"},
		{"oversized response", with(EnvRequestURL, big.URL+"/?x=1"), "jit-policy", "response over"},
		{"not found", with(EnvRequestURL, iss.URL()+"/nothing?x=1"), "jit-policy", "404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := FromGitHubRunner(context.Background(), nil, tt.audience, tt.env.Get)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want one saying %q", err, tt.wantErr)
				}
				if tok != "" {
					t.Errorf("token %q returned with an error", tok)
				}
				if unavailable := tt.wantErr == "permissions: id-token: write"; unavailable != errors.Is(err, ErrUnavailable) {
					t.Errorf("err = %v; errors.Is ErrUnavailable should be %v", err, unavailable)
				}
				if err != nil && strings.Contains(err.Error(), iss.RequestToken) {
					t.Errorf("err = %v holds the request token", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			v, err := oidc.NewVerifier([]config.OIDCProvider{{Issuer: iss.URL(), Audience: tt.audience}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			c, err := v.Verify(context.Background(), tok)
			if err != nil {
				t.Fatalf("the runner's token does not verify: %v", err)
			}
			if len(c.Audience) != 1 || c.Audience[0] != tt.audience {
				t.Errorf("aud = %q, want %q", c.Audience, tt.audience)
			}
		})
	}
}

// TestFromGitLab reads id_tokens variables.
func TestFromGitLab(t *testing.T) {
	tests := []struct {
		name, variable, value string
		want                  string
		wantErr               bool
	}{
		{"set", "JIT_ID_TOKEN", "  h.p.s\n", "h.p.s", false},
		{"unset", "JIT_ID_TOKEN", "", "", true},
		{"blank", "JIT_ID_TOKEN", " \n", "", true},
		{"no name", "", "x", "", true},
		{"oversized", "JIT_ID_TOKEN", strings.Repeat("a", MaxTokenBytes+1), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := oidctest.Env{"JIT_ID_TOKEN": tt.value}
			if tt.variable == "" {
				env = oidctest.Env{"": tt.value}
			}
			got, err := FromGitLab(tt.variable, env.Get)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("FromGitLab = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
			if err != nil && strings.TrimSpace(tt.value) != "" && strings.Contains(err.Error(), tt.value) {
				t.Errorf("err = %v holds the token", err)
			}
		})
	}
	if _, err := FromGitLab("JIT_ID_TOKEN", oidctest.Env{}.Get); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "id_tokens:") {
		t.Errorf("unset: err = %v, want ErrUnavailable naming id_tokens:", err)
	}
}

// TestFromFile reads token files.
func TestFromFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path, want string
		wantErr          bool
	}{
		{"trimmed", write("tok", "\n h.p.s \r\n"), "h.p.s", false},
		{"empty", write("empty", " \n"), "", true},
		{"at the cap", write("cap", strings.Repeat("a", MaxTokenBytes)), strings.Repeat("a", MaxTokenBytes), false},
		{"oversized", write("big", strings.Repeat("a", MaxTokenBytes+1)), "", true},
		{"missing", filepath.Join(dir, "none"), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromFile(tt.path)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("FromFile = %.20q, %v; want %.20q, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
