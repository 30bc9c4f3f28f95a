// Package miniotest runs a real MinIO server on 127.0.0.1 for tests: S3 and
// an AWS-compatible STS. With [Options.TLS] it serves HTTPS and answers STS
// AssumeRoleWithCertificate for client certificates issued by the CAs it is
// told to trust; the certificate's subject CN names the MinIO policy (see
// [Server.AddPolicy]).
//
// How MinIO's STS differs from AWS's (pinned by this package's tests):
//   - AssumeRole honours session policies (Policy) and DurationSeconds from
//     900 s up to 365 days (AWS stops at 43200); RoleArn is ignored, and so
//     are, silently, Tags, TransitiveTagKeys, SourceIdentity, PolicyArns and
//     ExternalId. AssumedRoleUser comes back with an empty Arn and its id
//     in <AssumeRoleId> (sic), so the SDK's AssumedRoleId is empty too.
//   - GetCallerIdentity is not implemented (InvalidParameterValue).
//   - AssumeRoleWithCertificate needs a client certificate valid for client
//     authentication (ExtKeyUsageClientAuth, or no extended key usage at
//     all) chaining to a trusted CA; DurationSeconds is 900 s to 365 days,
//     one hour by default, and capped to the certificate's NotAfter. Its
//     result holds Credentials only, no AssumedRoleUser.
//
// Every [Start] runs a server of its own, with its data in t.TempDir(), and
// stops it when the test ends. The server runs in a process group of its
// own, killed at cleanup, and gets SIGKILL should the test process die
// first.
//
// The minio binary is looked up on PATH, then in GOBIN, $(go env
// GOPATH)/bin and ~/go/bin (see [InstallCommand]). Without it tests are
// skipped, or fail when CI=true.
package miniotest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// InstallCommand installs the MinIO version this package was written for.
const InstallCommand = "GOFLAGS=-mod=mod go install github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"

// Region is the region MinIO serves and signs for.
const Region = "us-east-1"

// startTimeout bounds one attempt to start the server and see it ready.
const startTimeout = 60 * time.Second

// Options configures a server.
type Options struct {
	// TLS, when set, makes the server serve HTTPS with TLS's server
	// certificate and answer STS AssumeRoleWithCertificate
	// (MINIO_IDENTITY_TLS_ENABLE=on) for client certificates issued by
	// TLS.ClientCAsPEM.
	TLS *TLS
}

// TLS is the PEM material of a TLS server.
type TLS struct {
	// CertPEM and KeyPEM are the server's certificate (chain) and private
	// key; the certificate must be valid for IP 127.0.0.1 (see
	// [ServerCert]). The server's clients trust CertPEM's certificates.
	CertPEM, KeyPEM []byte
	// ClientCAsPEM holds the CA certificates that MinIO trusts to issue
	// client certificates for AssumeRoleWithCertificate. May be empty.
	ClientCAsPEM []byte
}

// Server is a running MinIO.
type Server struct {
	// Endpoint is the server's URL: http://127.0.0.1:PORT, or https:// with
	// TLS.
	Endpoint string
	// Region is the region to sign requests for: [Region].
	Region string
	// RootUser and RootPassword are the root user's access key and secret
	// key (random).
	RootUser, RootPassword string

	roots     *x509.CertPool // trusts the server's certificate; nil without TLS
	log       *syncBuffer    // the server's stdout and stderr
	once      sync.Once
	transport *http.Transport // HTTPClient's without client certificates
}

// Start starts a MinIO server for the test, on free ports of 127.0.0.1
// (retrying when a port was taken meanwhile), and waits until it is ready:
// GET /minio/health/ready answers 200 and IAM is initialized, so STS and
// [Server.AddPolicy] work at once. The server is stopped, and its files are
// deleted, when the test ends. Start skips the test, or fails it when
// CI=true, if minio is not installed, and fails it, with the tail of the
// server's output, if the server does not start.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	bin := Require(t)
	dir := t.TempDir()
	s := &Server{
		Region:       Region,
		RootUser:     "root" + randomHex(6),
		RootPassword: randomHex(20),
	}
	certsDir := filepath.Join(dir, "certs") // always given, so ~/.minio/certs is never read
	if err := os.MkdirAll(filepath.Join(certsDir, "CAs"), 0o700); err != nil {
		t.Fatalf("miniotest: %v", err)
	}
	scheme := "http"
	if opts.TLS != nil {
		scheme = "https"
		if err := writeTLS(certsDir, opts.TLS); err != nil {
			t.Fatalf("miniotest: %v", err)
		}
		s.roots = x509.NewCertPool()
		if !s.roots.AppendCertsFromPEM(opts.TLS.CertPEM) {
			t.Fatal("miniotest: Options.TLS.CertPEM holds no PEM certificate")
		}
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"TZ=UTC",
		"MINIO_ROOT_USER=" + s.RootUser,
		"MINIO_ROOT_PASSWORD=" + s.RootPassword,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
	}
	if opts.TLS != nil {
		env = append(env, "MINIO_IDENTITY_TLS_ENABLE=on")
	}
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		var ports [2]int
		for i := range ports {
			if ports[i], err = freePort(); err != nil {
				t.Fatalf("miniotest: %v", err)
			}
		}
		addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
		s.Endpoint = scheme + "://" + addr
		s.log = &syncBuffer{}
		var stop func()
		stop, err = s.run(bin, env, filepath.Join(dir, fmt.Sprintf("data%d", attempt)), certsDir, addr, fmt.Sprintf("127.0.0.1:%d", ports[1]))
		if err == nil {
			t.Cleanup(func() {
				stop()
				if s.transport != nil {
					s.transport.CloseIdleConnections()
				}
				if t.Failed() {
					t.Logf("miniotest: server output (tail):\n%s", s.log.tail(8000))
				}
			})
			return s
		}
		if out := s.log.String(); !strings.Contains(out, "port is already in use") && !strings.Contains(out, "address already in use") {
			break // not a port taken meanwhile: retrying will not help
		}
	}
	t.Fatalf("miniotest: %v\nserver output (tail):\n%s", err, s.log.tail(8000))
	return nil
}

// run starts minio and waits until it is ready. On success it returns the
// function that stops it; on failure the process is gone.
func (s *Server) run(bin string, env []string, data, certsDir, addr, consoleAddr string) (stop func(), err error) {
	cmd := exec.Command(bin, "server", data, "--address", addr, "--console-address", consoleAddr,
		"--certs-dir", certsDir)
	cmd.Env = env
	cmd.Dir = filepath.Dir(data)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	// A process group of its own, so cleanup can kill whatever minio
	// starts; and SIGKILL when the thread that started it exits. That
	// goroutine's thread stays locked until minio has exited, so only the
	// test process's death ends it early.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	started := make(chan error, 1)
	exited := make(chan struct{})
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(exited)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	pid := cmd.Process.Pid
	stop = func() {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-exited
	}

	deadline := time.Now().Add(startTimeout)
	for {
		rerr := s.ready()
		if rerr == nil {
			return stop, nil
		}
		select {
		case <-exited:
			return nil, fmt.Errorf("minio server exited at start (%v)", cmd.ProcessState)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("minio server not ready on %s within %v: %v", s.Endpoint, startTimeout, rerr)
		}
	}
}

// ready returns nil once the server is ready: GET /minio/health/ready
// answers 200, and so does the admin API's list-canned-policies, which
// needs IAM to be initialized (the health check does not wait for that,
// and STS and policy requests fail with "Server not initialized" until
// then).
func (s *Server) ready() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.Endpoint+"/minio/health/ready", nil)
	if err != nil {
		return err
	}
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /minio/health/ready: %s", resp.Status)
	}
	code, body, err := s.admin(ctx, http.MethodGet, "list-canned-policies", nil)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("GET /minio/admin/v3/list-canned-policies: %d: %s", code, body)
	}
	return nil
}

// Require returns the path of the minio binary. When there is none it
// skips the test, or fails it when CI=true.
func Require(t testing.TB) string {
	t.Helper()
	p, err := findMinio()
	if err != nil {
		msg := fmt.Sprintf("miniotest: %v; install it with `%s`", err, InstallCommand)
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s [CI=true: this test may not be skipped]", msg)
		}
		t.Skip(msg)
	}
	return p
}

// findMinio looks on PATH, then in GOBIN, $(go env GOPATH)/bin and
// ~/go/bin.
func findMinio() (string, error) {
	if p, err := exec.LookPath("minio"); err == nil {
		return p, nil
	}
	var dirs []string
	if d := os.Getenv("GOBIN"); d != "" {
		dirs = append(dirs, d)
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil && strings.TrimSpace(string(out)) != "" {
		dirs = append(dirs, filepath.Join(filepath.SplitList(strings.TrimSpace(string(out)))[0], "bin"))
	}
	if h, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(h, "go", "bin"))
	}
	var uniq []string
	for _, d := range dirs {
		if !slices.Contains(uniq, d) {
			uniq = append(uniq, d)
		}
	}
	for _, d := range uniq {
		p := filepath.Join(d, "minio")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("minio not found on PATH nor in %s", strings.Join(uniq, ", "))
}

// writeTLS lays out certsDir as MinIO reads it: public.crt, private.key,
// and one file per client CA certificate in CAs/.
func writeTLS(certsDir string, c *TLS) error {
	if err := os.WriteFile(filepath.Join(certsDir, "public.crt"), c.CertPEM, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(certsDir, "private.key"), c.KeyPEM, 0o600); err != nil {
		return err
	}
	rest := c.ClientCAsPEM
	for i := 0; ; i++ {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil
		}
		if b.Type != "CERTIFICATE" {
			return fmt.Errorf("Options.TLS.ClientCAsPEM holds a %q PEM block, want CERTIFICATE", b.Type)
		}
		if err := os.WriteFile(filepath.Join(certsDir, "CAs", fmt.Sprintf("ca%d.crt", i)), pem.EncodeToMemory(b), 0o600); err != nil {
			return err
		}
	}
}

// RootCredentials returns the root user's static credentials.
func (s *Server) RootCredentials() aws.Credentials {
	return aws.Credentials{AccessKeyID: s.RootUser, SecretAccessKey: s.RootPassword, Source: "miniotest"}
}

// HTTPClient returns a new HTTP client for the server: with TLS it trusts
// the server's certificate (and nothing else) and presents clientCerts,
// e.g. for AssumeRoleWithCertificate.
func (s *Server) HTTPClient(clientCerts ...tls.Certificate) *http.Client {
	if len(clientCerts) > 0 {
		return &http.Client{Transport: s.newTransport(clientCerts), Timeout: 30 * time.Second}
	}
	s.once.Do(func() { s.transport = s.newTransport(nil) })
	return &http.Client{Transport: s.transport, Timeout: 30 * time.Second}
}

// newTransport returns a transport without proxy that, with TLS, trusts
// only the server's certificate and presents clientCerts.
func (s *Server) newTransport(clientCerts []tls.Certificate) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	if s.roots != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: s.roots, Certificates: clientCerts, MinVersion: tls.VersionTLS12}
	}
	return tr
}

// S3 returns an S3 client of the server (path-style) that signs with
// creds, e.g. temporary credentials from STS.
func (s *Server) S3(creds aws.Credentials) *s3.Client {
	return s3.New(s3.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  staticCreds(creds),
		HTTPClient:   s.HTTPClient(),
	})
}

// staticCreds provides fixed credentials.
type staticCreds aws.Credentials

func (c staticCreds) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials(c), nil
}

// MakeBucket creates the bucket name as the root user.
func (s *Server) MakeBucket(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.S3(s.RootCredentials()).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("miniotest: creating bucket %s: %v", name, err)
	}
}

// AddPolicy creates (or replaces) the MinIO policy name with the IAM
// policy document policyJSON, through the admin API as the root user.
// AssumeRoleWithCertificate maps a client certificate whose subject CN is
// name to this policy.
func (s *Server) AddPolicy(t testing.TB, name, policyJSON string) {
	t.Helper()
	if err := s.addPolicy(name, policyJSON); err != nil {
		t.Fatalf("miniotest: adding policy %s: %v", name, err)
	}
}

// admin sends a request to MinIO's admin API (path below
// /minio/admin/v3/), SigV4-signed as the root user, and returns the
// response's status and (first 64 KiB of) body.
func (s *Server) admin(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.Endpoint+"/minio/admin/v3/"+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", hash)
	if err := v4.NewSigner().SignHTTP(ctx, s.RootCredentials(), req, hash, "s3", s.Region, time.Now()); err != nil {
		return 0, nil, fmt.Errorf("signing: %w", err)
	}
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, bytes.TrimSpace(b), nil
}

func (s *Server) addPolicy(name, policyJSON string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, body, err := s.admin(ctx, http.MethodPut, "add-canned-policy?name="+url.QueryEscape(name), []byte(policyJSON))
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("PUT add-canned-policy: %d: %s", code, body)
	}
	return nil
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (Go ≥ 1.24)
	return hex.EncodeToString(b)
}

// syncBuffer is a bytes.Buffer safe for the process's writes and the
// test's reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tail returns the last n bytes of the output at most.
func (b *syncBuffer) tail(n int) string {
	s := b.String()
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}
