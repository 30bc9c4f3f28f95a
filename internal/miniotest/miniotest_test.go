package miniotest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"io"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
)

const readOnlyPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::data/*"]}]}`

func stsClient(s *Server) *sts.Client {
	return sts.New(sts.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		Credentials:  staticCreds(s.RootCredentials()),
		HTTPClient:   s.HTTPClient(),
	})
}

func put(ctx context.Context, c *s3.Client, bucket, key, body string) error {
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)})
	return err
}

func get(ctx context.Context, c *s3.Client, bucket, key string) (string, error) {
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return "", err
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	return string(b), err
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func tempCreds(c *ststypes.Credentials) aws.Credentials {
	return aws.Credentials{AccessKeyID: *c.AccessKeyId, SecretAccessKey: *c.SecretAccessKey, SessionToken: *c.SessionToken, CanExpire: true, Expires: *c.Expiration}
}

// Root reads and writes objects; AssumeRole's session policy limits the
// temporary credentials to it.
func TestS3AndAssumeRole(t *testing.T) {
	ctx := context.Background()
	s := Start(t, Options{})
	if !strings.HasPrefix(s.Endpoint, "http://127.0.0.1:") || s.Region != "us-east-1" {
		t.Fatalf("Endpoint %q, Region %q", s.Endpoint, s.Region)
	}
	s.MakeBucket(t, "data")
	root := s.S3(s.RootCredentials())
	if err := put(ctx, root, "data", "a.txt", "hello"); err != nil {
		t.Fatalf("put as root: %v", err)
	}
	if got, err := get(ctx, root, "data", "a.txt"); err != nil || got != "hello" {
		t.Fatalf("get as root: %q, %v", got, err)
	}

	for _, secs := range []int32{900, 3600} {
		before := time.Now()
		out, err := stsClient(s).AssumeRole(ctx, &sts.AssumeRoleInput{
			RoleArn:         aws.String("arn:aws:iam::123456789012:role/ignored"),
			RoleSessionName: aws.String("miniotest"),
			DurationSeconds: aws.Int32(secs),
			Policy:          aws.String(readOnlyPolicy),
		})
		if err != nil {
			t.Fatalf("AssumeRole(%ds): %v", secs, err)
		}
		exp := *out.Credentials.Expiration
		if want := before.Add(time.Duration(secs) * time.Second); exp.Before(want.Add(-5*time.Second)) || exp.After(want.Add(5*time.Second)) {
			t.Fatalf("AssumeRole(%ds): expiration %v, want about %v", secs, exp, want)
		}
		t.Logf("AssumeRole(%ds): Expiration %v (in %v); AssumedRoleUser %s; PackedPolicySize %v; SourceIdentity %v",
			secs, exp, time.Until(exp).Round(time.Second), describeUser(out.AssumedRoleUser), deref(out.PackedPolicySize), deref(out.SourceIdentity))

		temp := s.S3(tempCreds(out.Credentials))
		if got, err := get(ctx, temp, "data", "a.txt"); err != nil || got != "hello" {
			t.Fatalf("get with the temporary credentials: %q, %v", got, err)
		}
		if err := put(ctx, temp, "data", "b.txt", "no"); errorCode(err) != "AccessDenied" {
			t.Fatalf("put with the temporary credentials: %v, want AccessDenied", err)
		}
	}
	if _, err := stsClient(s).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::123456789012:role/x"), RoleSessionName: aws.String("x"), DurationSeconds: aws.Int32(600),
	}); err == nil {
		t.Fatal("AssumeRole with DurationSeconds 600 succeeded, want an error")
	} else {
		t.Logf("AssumeRole(600s): %v", err)
	}
	if _, err := stsClient(s).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err == nil {
		t.Fatal("GetCallerIdentity succeeded; MinIO did not implement it")
	} else {
		t.Logf("GetCallerIdentity: %v", err)
	}
}

func describeUser(u *ststypes.AssumedRoleUser) string {
	if u == nil {
		return "<nil>"
	}
	return "{AssumedRoleId: " + strings.TrimSpace(deref(u.AssumedRoleId)) + ", Arn: " + deref(u.Arn) + "}"
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// MinIO's AssumeRole accepts, and ignores, the optional parameters it does
// not implement: session tags, SourceIdentity, PolicyArns, ExternalId. It
// returns an AssumedRoleUser element whose Arn is empty and whose id comes
// as <AssumeRoleId> (sic), so the SDK's AssumedRoleId is empty too.
// DurationSeconds may go beyond AWS's 43200 (MinIO allows up to 365 days).
func TestAssumeRoleParameters(t *testing.T) {
	ctx := context.Background()
	s := Start(t, Options{})
	cases := map[string]func(*sts.AssumeRoleInput){
		"Tags": func(in *sts.AssumeRoleInput) {
			in.Tags = []ststypes.Tag{{Key: aws.String("repo"), Value: aws.String("org/app")}}
			in.TransitiveTagKeys = []string{"repo"}
		},
		"SourceIdentity": func(in *sts.AssumeRoleInput) { in.SourceIdentity = aws.String("org/app") },
		"PolicyArns": func(in *sts.AssumeRoleInput) {
			in.PolicyArns = []ststypes.PolicyDescriptorType{{Arn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}}
		},
		"ExternalId":            func(in *sts.AssumeRoleInput) { in.ExternalId = aws.String("x") },
		"DurationSeconds=43201": func(in *sts.AssumeRoleInput) { in.DurationSeconds = aws.Int32(43201) },
	}
	for name, set := range cases {
		in := &sts.AssumeRoleInput{
			RoleArn:         aws.String("arn:aws:iam::123456789012:role/ignored"),
			RoleSessionName: aws.String("miniotest"),
			DurationSeconds: aws.Int32(900),
		}
		set(in)
		out, err := stsClient(s).AssumeRole(ctx, in)
		if err != nil {
			t.Fatalf("AssumeRole with %s: %v, want it accepted", name, err)
		}
		if out.AssumedRoleUser == nil || deref(out.AssumedRoleUser.Arn) != "" || deref(out.AssumedRoleUser.AssumedRoleId) != "" || out.SourceIdentity != nil {
			t.Fatalf("AssumeRole with %s: AssumedRoleUser %s, SourceIdentity %v; want an empty AssumedRoleUser and no SourceIdentity",
				name, describeUser(out.AssumedRoleUser), out.SourceIdentity)
		}
	}
}

// The server does not outlive the test that started it.
func TestStopped(t *testing.T) {
	var endpoint string
	t.Run("server", func(t *testing.T) { endpoint = Start(t, Options{}).Endpoint })
	if endpoint == "" {
		t.Skip("the server did not start")
	}
	resp, err := http.Get(endpoint + "/minio/health/live")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("%s still answers after the test ended", endpoint)
	}
}

// testCA is a throwaway CA that issues client certificates.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "miniotest client CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(48 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
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
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a client certificate for cn, valid until notAfter, with
// the extended key usages eku (none when empty).
func (ca *testCA) issue(t *testing.T, cn string, notAfter time.Time, eku ...x509.ExtKeyUsage) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  eku,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// certResponse is AssumeRoleWithCertificate's XML response.
type certResponse struct {
	XMLName xml.Name `xml:"AssumeRoleWithCertificateResponse"`
	Result  struct {
		Credentials struct {
			AccessKeyID     string    `xml:"AccessKeyId"`
			SecretAccessKey string    `xml:"SecretAccessKey"`
			SessionToken    string    `xml:"SessionToken"`
			Expiration      time.Time `xml:"Expiration"`
		} `xml:"Credentials"`
	} `xml:"AssumeRoleWithCertificateResult"`
}

// assumeWithCert posts AssumeRoleWithCertificate over mTLS; query is
// appended to the action (e.g. "&DurationSeconds=900").
func assumeWithCert(t *testing.T, s *Server, cert tls.Certificate, query string) (int, []byte) {
	t.Helper()
	resp, err := s.HTTPClient(cert).Post(s.Endpoint+"/?Action=AssumeRoleWithCertificate&Version=2011-06-15"+query, "", nil)
	if err != nil {
		t.Fatalf("AssumeRoleWithCertificate: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// A client certificate from the trusted CA, its CN naming a policy, gets
// temporary credentials under that policy.
func TestAssumeRoleWithCertificate(t *testing.T) {
	ctx := context.Background()
	ca := newTestCA(t)
	certPEM, keyPEM := ServerCert(t)
	s := Start(t, Options{TLS: &TLS{CertPEM: certPEM, KeyPEM: keyPEM, ClientCAsPEM: ca.pem}})
	if !strings.HasPrefix(s.Endpoint, "https://127.0.0.1:") {
		t.Fatalf("Endpoint %q, want https://127.0.0.1:PORT", s.Endpoint)
	}
	s.MakeBucket(t, "data")
	if err := put(ctx, s.S3(s.RootCredentials()), "data", "a.txt", "hello"); err != nil {
		t.Fatalf("put as root: %v", err)
	}
	s.AddPolicy(t, "readonly", readOnlyPolicy)

	day := time.Now().Add(24 * time.Hour)
	client := ca.issue(t, "readonly", day, x509.ExtKeyUsageClientAuth)
	code, body := assumeWithCert(t, s, client, "&DurationSeconds=900")
	if code != http.StatusOK {
		t.Fatalf("AssumeRoleWithCertificate: %d %s", code, body)
	}
	var r certResponse
	if err := xml.Unmarshal(body, &r); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
	c := r.Result.Credentials
	if c.AccessKeyID == "" || c.SecretAccessKey == "" || c.SessionToken == "" {
		t.Fatalf("credentials incomplete: %s", body)
	}
	if d := time.Until(c.Expiration); d < 890*time.Second || d > 905*time.Second {
		t.Fatalf("expiration in %v, want about 900s", d)
	}
	temp := s.S3(aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken})
	if got, err := get(ctx, temp, "data", "a.txt"); err != nil || got != "hello" {
		t.Fatalf("get with the certificate's credentials: %q, %v", got, err)
	}
	if err := put(ctx, temp, "data", "b.txt", "no"); errorCode(err) != "AccessDenied" {
		t.Fatalf("put with the certificate's credentials: %v, want AccessDenied", err)
	}

	// Without DurationSeconds: one hour. With it beyond the certificate's
	// NotAfter: capped to NotAfter.
	short := ca.issue(t, "readonly", time.Now().Add(20*time.Minute), x509.ExtKeyUsageClientAuth)
	for _, c := range []struct {
		name  string
		cert  tls.Certificate
		query string
		want  time.Duration
	}{
		{"no DurationSeconds", client, "", time.Hour},
		{"DurationSeconds=43201", client, "&DurationSeconds=43201", 43201 * time.Second},
		{"certificate valid 20 min, DurationSeconds=3600", short, "&DurationSeconds=3600", 20 * time.Minute},
		{"no extended key usage", ca.issue(t, "readonly", day), "&DurationSeconds=900", 900 * time.Second},
	} {
		code, body := assumeWithCert(t, s, c.cert, c.query)
		var r certResponse
		if code != http.StatusOK || xml.Unmarshal(body, &r) != nil {
			t.Fatalf("%s: %d %s, want 200", c.name, code, body)
		}
		if d := time.Until(r.Result.Credentials.Expiration); d < c.want-10*time.Second || d > c.want+5*time.Second {
			t.Fatalf("%s: expiration in %v, want %v", c.name, d, c.want)
		}
	}

	for _, c := range []struct {
		name     string
		client   *http.Client
		query    string
		wantCode int
		wantErr  string
	}{
		{"DurationSeconds=600", s.HTTPClient(client), "&DurationSeconds=600", 400, "MissingParameter"},
		{"serverAuth-only EKU", s.HTTPClient(ca.issue(t, "readonly", day, x509.ExtKeyUsageServerAuth)), "", 400, "InvalidClientCertificate"},
		{"untrusted CA", s.HTTPClient(newTestCA(t).issue(t, "readonly", day, x509.ExtKeyUsageClientAuth)), "", 400, "InvalidClientCertificate"},
		{"CN naming no policy", s.HTTPClient(ca.issue(t, "nosuchpolicy", day, x509.ExtKeyUsageClientAuth)), "", 500, "InternalError"},
		{"no client certificate", s.HTTPClient(), "", 400, "MissingParameter"},
	} {
		resp, err := c.client.Post(s.Endpoint+"/?Action=AssumeRoleWithCertificate&Version=2011-06-15"+c.query, "", nil)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e struct {
			Code    string `xml:"Error>Code"`
			Message string `xml:"Error>Message"`
		}
		_ = xml.Unmarshal(body, &e)
		if resp.StatusCode != c.wantCode || e.Code != c.wantErr {
			t.Fatalf("%s: %d %s, want %d %s", c.name, resp.StatusCode, body, c.wantCode, c.wantErr)
		}
		t.Logf("%s: %d %s: %s", c.name, resp.StatusCode, e.Code, e.Message)
	}
}
