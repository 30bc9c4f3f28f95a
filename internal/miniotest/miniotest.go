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
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/testproc"
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

	roots     *x509.CertPool   // trusts the server's certificate; nil without TLS
	log       *testproc.Buffer // the server's stdout and stderr
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
			if ports[i], err = testproc.FreePort(); err != nil {
				t.Fatalf("miniotest: %v", err)
			}
		}
		addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
		s.Endpoint = scheme + "://" + addr
		s.log = &testproc.Buffer{}
		var stop func()
		stop, err = s.run(bin, env, filepath.Join(dir, fmt.Sprintf("data%d", attempt)), certsDir, addr, fmt.Sprintf("127.0.0.1:%d", ports[1]))
		if err == nil {
			t.Cleanup(func() {
				stop()
				if s.transport != nil {
					s.transport.CloseIdleConnections()
				}
				if t.Failed() {
					t.Logf("miniotest: server output (tail):\n%s", tail(s.log, 8000))
				}
			})
			return s
		}
		if out := s.log.String(); !strings.Contains(out, "port is already in use") && !strings.Contains(out, "address already in use") {
			break // not a port taken meanwhile: retrying will not help
		}
	}
	t.Fatalf("miniotest: %v\nserver output (tail):\n%s", err, tail(s.log, 8000))
	return nil
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

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (Go ≥ 1.24)
	return hex.EncodeToString(b)
}
