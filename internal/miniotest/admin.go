// Clients of the server: HTTP and S3 clients, and the admin API (signed
// as the root user) for policies and buckets.

package miniotest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

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
