//go:build cgo

package aws

// Fixtures of rolesanywhere_helper_test.go, cgo-only like it (see there).

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	awsv1 "github.com/aws/aws-sdk-go/aws"
	"github.com/aws/aws-sdk-go/aws/client"
	"github.com/aws/aws-sdk-go/aws/credentials"
	"github.com/aws/aws-sdk-go/aws/defaults"
	"github.com/aws/aws-sdk-go/aws/request"
	"github.com/aws/rolesanywhere-credential-helper/rolesanywhere"
)

// helperCase is a job certificate and its key, written where the helper's
// file-system signer reads them.
type helperCase struct {
	cert              *x509.Certificate
	key               crypto.Signer
	certPath, keyPath string
}

func newHelperCase(t *testing.T, ca certCA, key crypto.Signer) helperCase {
	t.Helper()
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		t.Fatalf("serial: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "ci:repo:octo-org/app:ref:refs/heads/main"},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatalf("certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("certificate: %v", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("key: %v", err)
	}
	dir := t.TempDir()
	c := helperCase{cert: cert, key: key, certPath: filepath.Join(dir, "cert.pem"), keyPath: filepath.Join(dir, "key.pem")}
	if err := os.WriteFile(c.certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatalf("writing the certificate: %v", err)
	}
	if err := os.WriteFile(c.keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), 0o600); err != nil {
		t.Fatalf("writing the key: %v", err)
	}
	return c
}

// recordingSigner records the message each Sign call is given: the
// helper's signers take the string to sign and hash it themselves, the
// port hashes it and passes the digest.
type recordingSigner struct {
	crypto.Signer
	mu   sync.Mutex
	msgs [][]byte
}

func (r *recordingSigner) Sign(rnd io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	r.mu.Lock()
	r.msgs = append(r.msgs, bytes.Clone(msg))
	r.mu.Unlock()
	return r.Signer.Sign(rnd, msg, opts)
}

func (r *recordingSigner) last(t *testing.T) []byte {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.msgs) != 1 {
		t.Fatalf("signer called %d times, want 1", len(r.msgs))
	}
	return r.msgs[0]
}

// authFields splits a SigV4-X509 Authorization header into its algorithm
// and its Credential, SignedHeaders and Signature fields.
func authFields(t *testing.T, h string) (alg string, fields map[string]string) {
	t.Helper()
	alg, rest, ok := strings.Cut(h, " ")
	if !ok {
		t.Fatalf("Authorization %q has no fields", h)
	}
	fields = map[string]string{}
	for _, kv := range strings.Split(rest, ", ") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("Authorization %q: field %q is not key=value", h, kv)
		}
		fields[k] = v
	}
	for _, k := range []string{"Credential", "SignedHeaders", "Signature"} {
		if fields[k] == "" {
			t.Fatalf("Authorization %q has no %s", h, k)
		}
	}
	return alg, fields
}

// verifyWithCert checks sig over the string to sign with the certificate's
// public key, as Roles Anywhere does.
func verifyWithCert(t *testing.T, who string, cert *x509.Certificate, toSign, sigHex string) {
	t.Helper()
	sig, err := hex.DecodeString(sigHex)
	if err != nil {
		t.Fatalf("%s: Signature %q is not hex", who, sigHex)
	}
	digest := sha256.Sum256([]byte(toSign))
	switch pub := cert.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(pub, digest[:], sig) {
			t.Fatalf("%s: the ECDSA signature does not verify with the certificate's key", who)
		}
	case *rsa.PublicKey:
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
			t.Fatalf("%s: the RSA signature does not verify with the certificate's key: %v", who, err)
		}
	default:
		t.Fatalf("%s: unexpected public key %T", who, pub)
	}
}

// buildCreateSession builds, unsigned, the CreateSession request
// createSession sends: the credential helper's rolesanywhere client,
// configured as createSession configures it.
func buildCreateSession(t *testing.T, endpoint string, cert *x509.Certificate) *request.Request {
	t.Helper()
	cfg := defaults.Config().
		WithRegion("us-east-1").
		WithCredentials(credentials.AnonymousCredentials)
	ra := rolesanywhere.New(v1Config{client.Config{
		Config: cfg, Handlers: defaults.Handlers(), Endpoint: endpoint,
		SigningRegion: "us-east-1", SigningName: rolesanywhere.EndpointsID, ResolvedRegion: "us-east-1",
	}})
	ra.Handlers.Sign.Clear()
	certB64 := base64.StdEncoding.EncodeToString(cert.Raw)
	r, _ := ra.CreateSessionRequest(&rolesanywhere.CreateSessionInput{
		Cert:            &certB64,
		ProfileArn:      awsv1.String(raProfile),
		TrustAnchorArn:  awsv1.String(raTrustAnchor),
		RoleArn:         awsv1.String(raRoleARN),
		DurationSeconds: awsv1.Int64(900),
	})
	if err := r.Build(); err != nil {
		t.Fatalf("building CreateSession: %v", err)
	}
	if r.Body == nil || r.HTTPRequest.URL.Path != "/sessions" {
		t.Fatalf("CreateSession request: %s %s, body %v", r.HTTPRequest.Method, r.HTTPRequest.URL, r.Body)
	}
	return r
}
