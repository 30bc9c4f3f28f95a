package aws

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/miniotest"
	"github.com/jit-policy/jit-policy/issuers"
	x509issuer "github.com/jit-policy/jit-policy/issuers/x509"
)

// certPolicy is the MinIO policy the job's certificate CN names: read and
// write under bucket "allowed", nothing else (no delete).
const certPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
"Action":["s3:GetObject","s3:PutObject"],"Resource":["arn:aws:s3:::allowed/*"]}]}`

// certCA is a self-signed ECDSA P-256 CA, as `jit-policy ca init` makes.
type certCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCertCA(t *testing.T, name string) certCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return certCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// newCertX509 is the x509 issuer of ca with the given roles.
func newCertX509(t *testing.T, ca certCA, roles map[string]config.X509Role) *x509issuer.Issuer {
	t.Helper()
	x, err := x509issuer.New(&config.X509Issuer{MaxTTL: config.Duration{Duration: time.Hour}, Roles: roles}, ca.cert, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// newCertIssuer is the aws issuer with certificate-mode roles, exchanging
// at stsEndpoint (trusting endpointCAPEM) or Roles Anywhere.
func newCertIssuer(t *testing.T, c config.AWSIssuer, endpointCAPEM []byte, certs issuers.Issuer, log *bytes.Buffer) *Issuer {
	t.Helper()
	if endpointCAPEM != nil {
		p := filepath.Join(t.TempDir(), "endpoint-ca.pem")
		if err := os.WriteFile(p, endpointCAPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		c.EndpointCA = "file://" + p
	}
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	if c.MaxTTL.Duration == 0 {
		c.MaxTTL = config.Duration{Duration: time.Hour}
	}
	opts := Options{
		Certificates: certs,
		// Certificate mode never uses the issuer's own credentials.
		AWS: &aws.Config{Region: c.Region, Credentials: credentials.NewStaticCredentialsProvider("AKIDUNUSED", "unused", "")},
	}
	if log != nil {
		opts.Logger = slog.New(slog.NewTextHandler(log, nil))
	}
	i, err := New(context.Background(), &c, opts)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

// certRequest asks for role with a fresh lease serial.
func certRequest(t *testing.T, role string, ttl time.Duration) issuers.Request {
	t.Helper()
	keyID, err := x509issuer.NewKeyID()
	if err != nil {
		t.Fatal(err)
	}
	job := lease.Job{Provider: "github", Repository: "octo-org/app", RunID: "4242", Attempt: "1"}
	id := "lease-cert-" + keyID[len(keyID)-8:]
	return issuers.Request{
		Lease: lease.Lease{
			ID: id, Issuer: "aws", Role: role, Subject: "repo:octo-org/app:ref:refs/heads/main", Job: job,
			Credential: lease.Credential{SessionName: SessionName(id, job, 0), KeyID: keyID},
		},
		Now: time.Now(),
		TTL: ttl,
	}
}

func credsOf(t *testing.T, c issuers.Credential) aws.Credentials {
	t.Helper()
	out := map[string]string{}
	for _, o := range c.Outputs {
		out[o.Name] = o.Value
	}
	if out[OutputAccessKeyID] == "" || out[OutputSecretAccessKey] == "" || out[OutputSessionToken] == "" {
		t.Fatalf("outputs lack credentials: %v", c.Outputs)
	}
	return aws.Credentials{AccessKeyID: out[OutputAccessKeyID], SecretAccessKey: out[OutputSecretAccessKey], SessionToken: out[OutputSessionToken]}
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// startCertMinIO runs MinIO over TLS trusting ca for client certificates,
// with buckets "allowed" and "other" and the policy "jit-app-rw". It
// returns the server and the PEM of its certificate.
func startCertMinIO(t *testing.T, ca certCA) (*miniotest.Server, []byte) {
	t.Helper()
	certPEM, keyPEM := miniotest.ServerCert(t)
	srv := miniotest.Start(t, miniotest.Options{TLS: &miniotest.TLS{CertPEM: certPEM, KeyPEM: keyPEM, ClientCAsPEM: ca.pem}})
	srv.MakeBucket(t, "allowed")
	srv.MakeBucket(t, "other")
	srv.AddPolicy(t, "jit-app-rw", certPolicy)
	return srv, certPEM
}

func TestCertificateModeAgainstMinIO(t *testing.T) {
	ca := newCertCA(t, "jit-policy test CA")
	srv, serverPEM := startCertMinIO(t, ca)
	x := newCertX509(t, ca, map[string]config.X509Role{
		"app-rw":    {CommonName: "jit-app-rw"},
		"app-short": {CommonName: "jit-app-rw", MaxTTL: config.Duration{Duration: 16 * time.Minute}},
		"nopolicy":  {CommonName: "jit-no-such-policy"},
	})
	var log bytes.Buffer
	i := newCertIssuer(t, config.AWSIssuer{
		STSEndpoint: srv.Endpoint,
		Roles: map[string]config.AWSRole{
			"minio":       {Mode: config.AWSModeCertificate, X509Role: "app-rw"},
			"minio-short": {Mode: config.AWSModeCertificate, X509Role: "app-short"},
			"nopolicy":    {Mode: config.AWSModeCertificate, X509Role: "nopolicy"},
			"scoped":      {Mode: config.AWSModeCertificate, X509Role: "app-rw", SessionPolicy: certPolicy},
		},
	}, serverPEM, x, &log)
	ctx := context.Background()

	t.Run("issue and use", func(t *testing.T) {
		const ttl = 20 * time.Minute
		req := certRequest(t, "minio", ttl)
		cred, err := i.Issue(ctx, req)
		if err != nil {
			t.Fatalf("Issue: %v", err)
		}
		if cred.Identity.KeyID != req.Lease.Credential.KeyID {
			t.Fatalf("Identity.KeyID = %q, want the lease's certificate key id %q", cred.Identity.KeyID, req.Lease.Credential.KeyID)
		}
		if cred.Identity.SessionName != req.Lease.Credential.SessionName {
			t.Fatalf("Identity.SessionName = %q, want the lease's %q", cred.Identity.SessionName, req.Lease.Credential.SessionName)
		}
		// The certificate's NotAfter is Now+TTL (x509 issuer); MinIO caps
		// the credentials at it.
		notAfter := req.Now.Add(ttl).Truncate(time.Second)
		if cred.ExpiresAt.After(notAfter) {
			t.Fatalf("credentials expire at %v, after the certificate's NotAfter %v", cred.ExpiresAt, notAfter)
		}
		if d := notAfter.Sub(cred.ExpiresAt); d > 10*time.Second {
			t.Fatalf("credentials expire at %v, %v before Now+TTL %v", cred.ExpiresAt, d, notAfter)
		}

		s3c := srv.S3(credsOf(t, cred))
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("allowed"), Key: aws.String("a.txt"), Body: strings.NewReader("hello")}); err != nil {
			t.Fatalf("PutObject allowed/a.txt: %v", err)
		}
		if _, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("allowed"), Key: aws.String("a.txt")}); err != nil {
			t.Fatalf("GetObject allowed/a.txt: %v", err)
		}
		_, err = s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("other"), Key: aws.String("a.txt"), Body: strings.NewReader("x")})
		if apiCode(err) != "AccessDenied" {
			t.Fatalf("PutObject other/a.txt: %v, want AccessDenied", err)
		}
		_, err = s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("other"), Key: aws.String("a.txt")})
		if apiCode(err) != "AccessDenied" {
			t.Fatalf("GetObject other/a.txt: %v, want AccessDenied", err)
		}
		_, err = s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("allowed"), Key: aws.String("a.txt")})
		if apiCode(err) != "AccessDenied" {
			t.Fatalf("DeleteObject allowed/a.txt: %v, want AccessDenied", err)
		}
	})

	t.Run("session capped at a shorter certificate", func(t *testing.T) {
		req := certRequest(t, "minio-short", 40*time.Minute)
		cred, err := i.Issue(ctx, req)
		if err != nil {
			t.Fatalf("Issue: %v", err)
		}
		notAfter := req.Now.Add(16 * time.Minute).Truncate(time.Second)
		if cred.ExpiresAt.After(notAfter) || notAfter.Sub(cred.ExpiresAt) > 10*time.Second {
			t.Fatalf("credentials expire at %v, want the certificate's NotAfter %v", cred.ExpiresAt, notAfter)
		}
	})

	t.Run("fresh key id without a lease serial", func(t *testing.T) {
		req := certRequest(t, "minio", 15*time.Minute)
		req.Lease.Credential.KeyID = ""
		cred, err := i.Issue(ctx, req)
		if err != nil {
			t.Fatalf("Issue: %v", err)
		}
		if !strings.HasPrefix(cred.Identity.KeyID, x509issuer.KeyIDPrefix) {
			t.Fatalf("Identity.KeyID = %q, want a fresh x509 key id", cred.Identity.KeyID)
		}
	})

	t.Run("common name naming no policy", func(t *testing.T) {
		// MinIO refuses (500 InternalError "specified policy … not found").
		_, err := i.Issue(ctx, certRequest(t, "nopolicy", 15*time.Minute))
		if err == nil || !strings.Contains(err.Error(), "must name a MinIO policy") {
			t.Fatalf("Issue for a CN naming no policy: %v, want a refusal with advice", err)
		}
	})

	t.Run("session policy refused", func(t *testing.T) {
		_, err := i.Issue(ctx, certRequest(t, "scoped", 15*time.Minute))
		if err == nil || !strings.Contains(err.Error(), "session_policy") {
			t.Fatalf("Issue with a session policy: %v, want a refusal naming session_policy", err)
		}
	})

	t.Run("untrusted CA", func(t *testing.T) {
		other := newCertCA(t, "not trusted by MinIO")
		j := newCertIssuer(t, config.AWSIssuer{
			STSEndpoint: srv.Endpoint,
			Roles:       map[string]config.AWSRole{"minio": {Mode: config.AWSModeCertificate, X509Role: "app-rw"}},
		}, serverPEM, newCertX509(t, other, map[string]config.X509Role{"app-rw": {CommonName: "jit-app-rw"}}), nil)
		_, err := j.Issue(ctx, certRequest(t, "minio", 15*time.Minute))
		if err == nil {
			t.Fatal("MinIO accepted a certificate from a CA it does not trust")
		}
		if !strings.Contains(err.Error(), "CAs/") {
			t.Fatalf("error gives no advice on trusting the CA: %v", err)
		}
		t.Logf("untrusted CA: %v", err)
	})

	t.Run("server certificate not trusted", func(t *testing.T) {
		j := newCertIssuer(t, config.AWSIssuer{
			STSEndpoint: srv.Endpoint,
			Roles:       map[string]config.AWSRole{"minio": {Mode: config.AWSModeCertificate, X509Role: "app-rw"}},
		}, nil, x, nil)
		_, err := j.Issue(ctx, certRequest(t, "minio", 15*time.Minute))
		if err == nil || !strings.Contains(err.Error(), "endpoint_ca") {
			t.Fatalf("Issue against an untrusted server certificate: %v, want advice naming endpoint_ca", err)
		}
	})

	if strings.Contains(log.String(), "outlive") {
		t.Fatalf("MinIO returned credentials outliving the certificate:\n%s", log.String())
	}
}
