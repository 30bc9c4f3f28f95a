package oidc

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/internal/oidctest"
)

// count returns how many of iss's requests start with prefix.
func count(iss *oidctest.Issuer, prefix string) int {
	n := 0
	for _, r := range iss.Requests() {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

// now returns the clock's time.
func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// add moves the clock forward by d.
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestKeySetRefresh checks when the JWKS is fetched: on first use, for an
// unknown kid at most once per refreshInterval, and after keysMaxAge.
func TestKeySetRefresh(t *testing.T) {
	t.Parallel()
	iss := oidctest.NewIssuer(t)
	clk := &clock{t: time.Now()}
	ks := &keySet{url: iss.URL() + "/.well-known/jwks", client: issuerClient(nil, MaxResponseBytes), now: clk.now}
	ctx := context.Background()
	steps := []struct {
		name    string
		advance time.Duration
		kid     string
		found   int
		fetches int // JWKS fetches so far
	}{
		{"first use fetches", 0, oidctest.KIDRSA, 1, 1},
		{"cached", time.Minute, oidctest.KIDEC, 1, 1},
		{"no kid: every key", 0, "", 2, 1},
		{"unknown kid refetches", 0, "new", 0, 2},
		{"unknown kid again within refreshInterval", 10 * time.Second, "new", 0, 2},
		{"unknown kid after refreshInterval", refreshInterval, "new", 0, 3},
		{"known kid after keysMaxAge refetches", keysMaxAge, oidctest.KIDRSA, 1, 4},
	}
	for _, s := range steps {
		clk.add(s.advance)
		keys, err := ks.candidates(ctx, s.kid)
		if err != nil || len(keys) != s.found {
			t.Errorf("%s: %d keys, %v; want %d", s.name, len(keys), err, s.found)
		}
		if got := count(iss, "GET /.well-known/jwks"); got != s.fetches {
			t.Errorf("%s: %d fetches, want %d", s.name, got, s.fetches)
		}
	}
}

// oversizedIssuer serves discovery for its own URL and a JWKS; big says
// which of the two is over MaxResponseBytes.
func oversizedIssuer(t *testing.T, big string) string {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pad := ""
		if r.URL.Path == big {
			pad = strings.Repeat(" ", MaxResponseBytes)
		}
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			fmt.Fprintf(w, `{"issuer": %q, "jwks_uri": %q}%s`, srv.URL, srv.URL+"/jwks", pad)
		case "/jwks":
			w.(http.Flusher).Flush() // chunked: no Content-Length to refuse early
			fmt.Fprintf(w, `{"keys": []}%s`, pad)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestResponseCap checks that a discovery document or JWKS over
// MaxResponseBytes fails discovery.
func TestResponseCap(t *testing.T) {
	t.Parallel()
	g := oidctest.NewIssuer(t)
	for _, big := range []string{"/.well-known/openid-configuration", "/jwks"} {
		t.Run(big, func(t *testing.T) {
			u := oversizedIssuer(t, big)
			v, err := NewVerifier([]config.OIDCProvider{{Issuer: u, Audience: oidctest.DefaultAudience}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			raw := g.Mint(t, oidctest.MintOptions{Claims: map[string]any{"iss": u}})
			_, err = v.Verify(context.Background(), raw)
			checkErr(t, raw, err, ErrDiscovery)
			if err != nil && !strings.Contains(err.Error(), "exceeds") {
				t.Errorf("err = %v, want it to say the body exceeds the cap", err)
			}
		})
	}
}

// TestNonCanonical checks that other spellings of a valid token, which
// go-jose would accept, are refused.
func TestNonCanonical(t *testing.T) {
	t.Parallel()
	iss := oidctest.NewIssuer(t)
	v := trusting(t, iss)
	raw := iss.Mint(t, oidctest.MintOptions{})
	if _, err := v.Verify(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
	// An RS256 signature is 256 bytes: its last base64 character carries 4
	// unused bits.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, raw[len(raw)-1])
	dot := strings.IndexByte(raw, '.')
	for name, variant := range map[string]string{
		"unused bits set": raw[:len(raw)-1] + string(alphabet[last^1]),
		"newline inside":  raw[:dot+5] + "\n" + raw[dot+5:],
		"CR inside":       raw[:dot] + "\r" + raw[dot:],
		"padding":         raw + "==",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), variant)
			checkErr(t, variant, err, ErrMalformed)
		})
	}
}

// TestKeySetFetchOutlivesCaller: a caller whose context is already done
// when it triggers the JWKS fetch cannot cut the shared fetch short (which
// would set the refresh throttle with no keys).
func TestKeySetFetchOutlivesCaller(t *testing.T) {
	t.Parallel()
	iss := oidctest.NewIssuer(t)
	ks := &keySet{url: iss.URL() + "/.well-known/jwks", client: issuerClient(nil, MaxResponseBytes), now: time.Now}
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	if keys, err := ks.candidates(gone, oidctest.KIDRSA); err != nil || len(keys) != 1 {
		t.Fatalf("fetch for a caller that went away: %d keys, %v; want the key", len(keys), err)
	}
	if keys, err := ks.candidates(context.Background(), oidctest.KIDRSA); err != nil || len(keys) != 1 {
		t.Errorf("next caller: %d keys, %v; want the key", len(keys), err)
	}
}
