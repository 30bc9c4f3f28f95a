package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"github.com/jit-policy/jit-policy/internal/pipelinetest"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jit-policy/jit-policy/internal/brokerapi"
	"github.com/jit-policy/jit-policy/internal/oidctest"
	"github.com/jit-policy/jit-policy/internal/testproc"
)

// servedBroker is runServe running in a goroutine.
type servedBroker struct {
	addr     string // host:port
	out, err *testproc.Buffer
	cancel   context.CancelFunc
	done     chan int // receives runServe's exit code
}

// startServe runs runServe with the env's config on 127.0.0.1:0 and waits
// until it listens; the test's end stops it.
func startServe(t *testing.T, e *pipelineEnv, mod func(*serveParams)) *servedBroker {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b := &servedBroker{out: &testproc.Buffer{}, err: &testproc.Buffer{}, cancel: cancel, done: make(chan int, 1)}
	addr := make(chan string, 1)
	p := serveParams{config: e.config, addr: "127.0.0.1:0", drain: 5 * time.Second, getenv: func(string) string { return "" },
		listening: func(a string) { addr <- a }, out: b.out, err: b.err}
	if mod != nil {
		mod(&p)
	}
	go func() { b.done <- runServe(ctx, p) }()
	select {
	case b.addr = <-addr:
	case code := <-b.done:
		cancel()
		t.Fatalf("serve: exit %d before listening\n%s%s", code, b.out.String(), b.err.String())
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("serve: not listening after 30s\n%s%s", b.out.String(), b.err.String())
	}
	t.Cleanup(func() { b.stop(t) })
	return b
}

// stop cancels the server's context and returns its exit code (-1 once
// stopped before).
func (b *servedBroker) stop(t *testing.T) int {
	t.Helper()
	b.cancel()
	select {
	case code, ok := <-b.done:
		if !ok {
			return -1
		}
		close(b.done)
		return code
	case <-time.After(30 * time.Second):
		t.Fatalf("serve: still running 30s after cancel\n%s", b.err.String())
		return -1
	}
}

func (b *servedBroker) url() string { return "http://" + b.addr }

// get GETs path from the broker and returns the status and body.
func httpGet(t *testing.T, c *http.Client, url string) (int, []byte) {
	t.Helper()
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, body
}

// brokerIssueFor runs `issue --broker URL --public-key pub` with a fresh
// token of the env's issuer.
func (e *pipelineEnv) brokerIssue(t *testing.T, brokerURL, token, pub string) (int, string, string) {
	t.Helper()
	return e.issue(t, token, func(p *issueParams) { p.broker, p.publicKey, p.config = brokerURL, pub, "" })
}

// brokerRevoke runs `revoke --broker URL --lease ID` with a fresh token.
func (e *pipelineEnv) brokerRevoke(t *testing.T, brokerURL, id string) (int, string) {
	t.Helper()
	tok := filepath.Join(t.TempDir(), "token")
	mustWrite(t, tok, e.oidc.Mint(t, oidctest.MintOptions{}))
	var out, errOut bytes.Buffer
	code := runRevoke(context.Background(), revokeParams{leaseID: id, broker: brokerURL, tokenFile: tok,
		getenv: func(string) string { return "" }, out: &out, err: &errOut})
	return code, out.String() + errOut.String()
}

// interfaceIP is a non-loopback address of this host, or a documentation
// address when it has none.
func interfaceIP(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
				return n.IP.String()
			}
		}
	}
	return "192.0.2.1"
}

// selfSignedCert writes a certificate for 127.0.0.1 and its key, and
// returns their paths and a pool trusting the certificate.
func selfSignedCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "jit-policy test"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	mustWrite(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	mustWrite(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})))
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// sameSSHKey says whether two authorized_keys lines hold the same key.
func sameSSHKey(t *testing.T, a, b []byte) bool {
	t.Helper()
	ka, _, _, _, err := ssh.ParseAuthorizedKey(a)
	if err != nil {
		t.Fatalf("%q: %v", a, err)
	}
	kb, _, _, _, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		t.Fatalf("%q: %v", b, err)
	}
	return bytes.Equal(ka.Marshal(), kb.Marshal())
}

func TestCheckListen(t *testing.T) {
	ip := interfaceIP(t)
	tests := []struct {
		addr, cert, key string
		want            string // "" accepted, else a substring of the error
	}{
		{addr: "127.0.0.1:0"},
		{addr: "127.0.0.2:8443"},
		{addr: "[::1]:0"},
		{addr: "localhost:0"},
		{addr: "0.0.0.0:0", want: "not a loopback address"},
		{addr: ":8443", want: "not a loopback address"},
		{addr: "[::]:0", want: "not a loopback address"},
		{addr: ip + ":0", want: "not a loopback address"},
		{addr: "jit.example.com:443", want: "not a loopback address"},
		{addr: "0.0.0.0:0", cert: "tls.crt", key: "tls.key"},
		{addr: ip + ":0", cert: "tls.crt", key: "tls.key"},
		{addr: "0.0.0.0:0", cert: "tls.crt", want: "give both --tls-cert and --tls-key"},
		{addr: "127.0.0.1:0", key: "tls.key", want: "give both --tls-cert and --tls-key"},
		{addr: "127.0.0.1", want: "--addr"},
	}
	for _, tc := range tests {
		err := checkListen(tc.addr, tc.cert, tc.key)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("checkListen(%q, %q, %q) = %v, want nil", tc.addr, tc.cert, tc.key, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("checkListen(%q, %q, %q) = %v, want an error with %q", tc.addr, tc.cert, tc.key, err, tc.want)
		}
	}
}

// TestServeRefusesInsecureListen: runServe stops before opening anything
// (the config does not exist) when the address needs TLS.
func TestServeRefusesInsecureListen(t *testing.T) {
	ip := interfaceIP(t)
	for _, tc := range []struct{ addr, cert, key, want string }{
		{addr: "0.0.0.0:0", want: "not a loopback address"},
		{addr: ip + ":0", want: "not a loopback address"},
		{addr: "127.0.0.1:0", cert: "tls.crt", want: "give both"},
		{addr: "127.0.0.1:0", key: "tls.key", want: "give both"},
	} {
		var out, errOut bytes.Buffer
		listened := false
		code := runServe(context.Background(), serveParams{config: filepath.Join(t.TempDir(), "missing.yaml"), addr: tc.addr,
			tlsCert: tc.cert, tlsKey: tc.key, getenv: func(string) string { return "" },
			listening: func(string) { listened = true }, out: &out, err: &errOut})
		if code != exitError || listened || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("serve --addr %s (cert %q, key %q): exit %d, listened %v, stderr %q; want exit %d and %q",
				tc.addr, tc.cert, tc.key, code, listened, errOut.String(), exitError, tc.want)
		}
	}
}

// TestServeTLS: with --tls-cert and --tls-key the broker serves HTTPS, and
// refuses a client that offers at most TLS 1.1.
func TestServeTLS(t *testing.T) {
	e := newPipelineEnv(t, "")
	certFile, keyFile, pool := selfSignedCert(t)
	b := startServe(t, e, func(p *serveParams) { p.tlsCert, p.tlsKey = certFile, keyFile })
	if !strings.Contains(b.out.String(), "listening on https://"+b.addr) {
		t.Fatalf("stdout %q does not name https://%s", b.out.String(), b.addr)
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get("https://" + b.addr + brokerapi.PathHealth)
	if err != nil {
		t.Fatalf("GET healthz over TLS: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("healthz over TLS: %d, TLS %+v", resp.StatusCode, resp.TLS)
	}
	status, body := httpGet(t, c, "https://"+b.addr+brokerapi.PathSSHCA)
	if status != http.StatusOK || !sameSSHKey(t, body, e.caPub) {
		t.Fatalf("ssh ca.pub over TLS: %d %q, want %q", status, body, e.caPub)
	}

	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", b.addr,
			&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS10, MaxVersion: v})
		if err == nil {
			got := conn.ConnectionState().Version
			conn.Close()
			t.Fatalf("a client offering at most %s completed the handshake (%s)", tls.VersionName(v), tls.VersionName(got))
		}
		if !strings.Contains(err.Error(), "protocol version") {
			t.Fatalf("a client offering at most %s: %v, want a protocol version alert", tls.VersionName(v), err)
		}
	}
	// Plain HTTP to the TLS port gets no broker answer.
	if resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + b.addr + brokerapi.PathHealth); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("plain HTTP to the TLS port answered 200")
		}
	}
}

// TestServeIssueRevoke: issue and revoke through a broker served by
// runServe; its KRL lists the revoked certificate; health, readiness and
// metrics answer.
func TestServeIssueRevoke(t *testing.T) {
	e := newPipelineEnv(t, "")
	b := startServe(t, e, nil)

	for _, path := range []string{brokerapi.PathHealth, brokerapi.PathReady} {
		if status, body := httpGet(t, nil, b.url()+path); status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, status, body)
		}
	}

	_, pub := e.userKey(t, "id_served")
	code, out, errOut := e.brokerIssue(t, b.url(), e.oidc.Mint(t, oidctest.MintOptions{}), pub)
	if code != exitOK {
		t.Fatalf("issue --broker: exit %d\n%s\nbroker log:\n%s", code, errOut, b.err.String())
	}
	leaseID := strings.TrimSpace(out)
	cert := readCert(t, pub)
	if !sameSSHKey(t, ssh.MarshalAuthorizedKey(cert.SignatureKey), e.caPub) {
		t.Fatal("the certificate is not signed by the env's CA")
	}
	if cert.CertType != ssh.UserCert || len(cert.ValidPrincipals) != 1 || cert.ValidPrincipals[0] != "nobody" {
		t.Fatalf("certificate type %d principals %v, want a user certificate for nobody", cert.CertType, cert.ValidPrincipals)
	}
	if leaseID == "" || !strings.Contains(cert.KeyId, leaseID) {
		t.Errorf("lease %q, certificate key id %q", leaseID, cert.KeyId)
	}
	_, pub2 := e.userKey(t, "id_kept")
	if code, _, errOut := e.brokerIssue(t, b.url(), e.oidc.Mint(t, oidctest.MintOptions{}), pub2); code != exitOK {
		t.Fatalf("second issue --broker: exit %d\n%s", code, errOut)
	}

	if code, out := e.brokerRevoke(t, b.url(), leaseID); code != exitOK || !strings.Contains(out, "revoked "+leaseID) {
		t.Fatalf("revoke --broker: exit %d\n%s", code, out)
	}
	status, krlData := httpGet(t, nil, b.url()+brokerapi.PathKRL)
	if status != http.StatusOK {
		t.Fatalf("GET KRL: %d %s", status, krlData)
	}
	krlFile := filepath.Join(t.TempDir(), "served.krl")
	mustWrite(t, krlFile, string(krlData))
	checkKRL(t, krlFile, map[string]bool{
		strings.TrimSuffix(pub, ".pub") + "-cert.pub":  true,
		strings.TrimSuffix(pub2, ".pub") + "-cert.pub": false,
	})

	status, metrics := httpGet(t, nil, b.url()+brokerapi.PathMetrics)
	for _, want := range []string{`jit_issues_total{issuer="ssh",outcome="issued"} 2`, `jit_revocations_total{issuer="ssh",outcome="revoked"} 1`} {
		if status != http.StatusOK || !strings.Contains(string(metrics), want) {
			t.Fatalf("metrics: %d, lacks %q:\n%s", status, want, metrics)
		}
	}
	if strings.Contains(b.err.String(), "eyJ") {
		t.Error("the broker log holds a token")
	}
}

// TestServePolicyReload: the broker follows the policy folder: a denying
// policy takes effect without a restart; a broken one is reported and the
// last good one stays in force.
func TestServePolicyReload(t *testing.T) {
	e := newPipelineEnv(t, "")
	b := startServe(t, e, nil)
	_, pub := e.userKey(t, "id_reload")
	if code, _, errOut := e.brokerIssue(t, b.url(), e.oidc.Mint(t, oidctest.MintOptions{}), pub); code != exitOK {
		t.Fatalf("issue before the reload: exit %d\n%s", code, errOut)
	}

	policyFile := filepath.Join(e.dir, "policies", "policy.rego")
	mustWrite(t, policyFile, strings.Replace(pipelinetest.DeployPolicy, `input.token.ref == "refs/heads/main"`, `input.token.ref == "refs/heads/release"`, 1))
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, _, errOut := e.brokerIssue(t, b.url(), e.oidc.Mint(t, oidctest.MintOptions{}), pub)
		if code == exitDenied {
			break
		}
		if code != exitOK || time.Now().After(deadline) {
			t.Fatalf("issue after writing a denying policy: exit %d, want %d (denied)\n%s\nbroker log:\n%s", code, exitDenied, errOut, b.err.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(b.err.String(), "policy reloaded") {
		t.Errorf("the log does not report the reload:\n%s", b.err.String())
	}

	mustWrite(t, policyFile, "package jit\n\nallow if {\n")
	deadline = time.Now().Add(20 * time.Second)
	for !strings.Contains(b.err.String(), "policy reload failed") {
		if time.Now().After(deadline) {
			t.Fatalf("no failed reload in the log after writing a broken policy:\n%s", b.err.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, _, errOut := e.brokerIssue(t, b.url(), e.oidc.Mint(t, oidctest.MintOptions{}), pub); code != exitDenied {
		t.Fatalf("issue under a broken policy: exit %d, want %d (the last good policy denies)\n%s", code, exitDenied, errOut)
	}
	if status, body := httpGet(t, nil, b.url()+brokerapi.PathMetrics); status != http.StatusOK ||
		!strings.Contains(string(body), `jit_policy_reload_total{outcome="error"}`) || !strings.Contains(string(body), `jit_policy_reload_total{outcome="ok"}`) {
		t.Errorf("metrics: %d, no reload counts:\n%s", status, body)
	}
}

// TestServeGracefulShutdown: cancelling the context stops the server with
// exit 0; it no longer accepts connections.
func TestServeGracefulShutdown(t *testing.T) {
	e := newPipelineEnv(t, "")
	b := startServe(t, e, nil)
	if status, _ := httpGet(t, nil, b.url()+brokerapi.PathReady); status != http.StatusOK {
		t.Fatalf("readyz: %d", status)
	}
	if code := b.stop(t); code != exitOK {
		t.Fatalf("serve: exit %d after cancel, want 0\n%s", code, b.err.String())
	}
	if !strings.Contains(b.out.String(), "jit-policy serve: stopped") {
		t.Fatalf("stdout %q lacks the stop message", b.out.String())
	}
	if conn, err := net.DialTimeout("tcp", b.addr, 2*time.Second); err == nil {
		conn.Close()
		t.Fatal("the server still accepts connections after stopping")
	}
	if _, err := os.Stat(e.config); err != nil {
		t.Fatal(err)
	}
}
