package aws

// IAM Roles Anywhere cannot run here (it is an AWS service, with no local
// emulator): these tests serve CreateSession from httptest, with AWS's
// response shape, behind a verifier that checks the SigV4-X509 signature
// with the certificate's public key the way Roles Anywhere does, written
// from the protocol (and the credential helper v1.4.0's signer.go), not
// from the code under test. The helper's own signer links PKCS #11
// through cgo: rolesanywhere_helper_test.go, built only with cgo, checks it
// against this verifier and the port (sigv4x509.go) against it.

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/config"
)

const (
	raAccount     = "123456789012"
	raRoleARN     = "arn:aws:iam::" + raAccount + ":role/deploy"
	raTrustAnchor = "arn:aws:rolesanywhere:us-east-1:" + raAccount + ":trust-anchor/0f2c8a1e-7a43-4d3b-9b2f-2d1c7e5f6a01"
	raProfile     = "arn:aws:rolesanywhere:us-east-1:" + raAccount + ":profile/6b1f0c3d-2a4e-4f7b-8c9d-0e1f2a3b4c5d"
)

// fakeRolesAnywhere serves POST /sessions, refusing (403) any request whose
// SigV4-X509 signature does not verify with the certificate it carries, or
// whose certificate does not chain to roots.
type fakeRolesAnywhere struct {
	t     *testing.T
	roots *x509.CertPool

	mu       sync.Mutex
	tamper   bool // flip a signature byte before verifying
	accepted []raCall
	refused  []string
}

type raCall struct {
	cert     *x509.Certificate
	query    url.Values
	duration int64
}

func (f *fakeRolesAnywhere) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	cert, err := f.verify(r, body)
	if err != nil {
		f.mu.Lock()
		f.refused = append(f.refused, err.Error())
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-ErrorType", "AccessDeniedException")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `{"message":%q}`, "Unable to verify the request signature: "+err.Error())
		return
	}
	var in struct {
		DurationSeconds int64 `json:"durationSeconds"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		http.Error(w, `{"message":"bad body"}`, http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.accepted = append(f.accepted, raCall{cert: cert, query: r.URL.Query(), duration: in.DurationSeconds})
	f.mu.Unlock()
	name := cert.SerialNumber.Text(16)
	exp := time.Now().Add(time.Duration(in.DurationSeconds) * time.Second).UTC().Truncate(time.Second)
	resp := map[string]any{
		"credentialSet": []any{map[string]any{
			"assumedRoleUser": map[string]any{
				"arn":           "arn:aws:sts::" + raAccount + ":assumed-role/deploy/" + name,
				"assumedRoleId": "AROAEXAMPLEROLEID:" + name,
			},
			"credentials": map[string]any{
				"accessKeyId":     "ASIAEXAMPLEKEYID",
				"secretAccessKey": "secret",
				"sessionToken":    "token",
				"expiration":      exp.Format(time.RFC3339),
			},
			"packedPolicySize": 0,
			"roleArn":          r.URL.Query().Get("roleArn"),
			"sourceIdentity":   "",
		}},
		"subjectArn": "arn:aws:rolesanywhere:us-east-1:" + raAccount + ":subject/41cl0bae-6783-40d4-ab20-65dc5d922e45",
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

// verify checks the request's SigV4-X509 signature and certificate. It is
// written from the protocol, not from the code under test.
func (f *fakeRolesAnywhere) verify(r *http.Request, body []byte) (*x509.Certificate, error) {
	if r.Method != http.MethodPost || r.URL.Path != "/sessions" {
		return nil, fmt.Errorf("%s %s is not CreateSession", r.Method, r.URL.Path)
	}
	der, err := base64.StdEncoding.DecodeString(r.Header.Get("X-Amz-X509"))
	if err != nil {
		return nil, fmt.Errorf("X-Amz-X509: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("X-Amz-X509: %v", err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: f.roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return nil, fmt.Errorf("certificate: %v", err)
	}
	alg, rest, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok {
		return nil, fmt.Errorf("no Authorization")
	}
	fields := map[string]string{}
	for _, kv := range strings.Split(rest, ", ") {
		k, v, _ := strings.Cut(kv, "=")
		fields[k] = v
	}
	credParts := strings.SplitN(fields["Credential"], "/", 2)
	if len(credParts) != 2 || credParts[0] != cert.SerialNumber.String() {
		return nil, fmt.Errorf("Credential %q does not name the certificate's serial %s", fields["Credential"], cert.SerialNumber)
	}
	scope := credParts[1]
	date := r.Header.Get("X-Amz-Date")
	ts, err := time.Parse("20060102T150405Z", date)
	if err != nil || time.Since(ts) > 5*time.Minute || time.Until(ts) > 5*time.Minute {
		return nil, fmt.Errorf("X-Amz-Date %q is not now", date)
	}
	if want := ts.Format("20060102") + "/us-east-1/rolesanywhere/aws4_request"; scope != want {
		return nil, fmt.Errorf("scope %q, want %q", scope, want)
	}
	signed := strings.Split(fields["SignedHeaders"], ";")
	if !sort.StringsAreSorted(signed) {
		return nil, fmt.Errorf("SignedHeaders not sorted")
	}
	for _, must := range []string{"host", "x-amz-date", "x-amz-x509"} {
		if !strings.Contains(";"+fields["SignedHeaders"]+";", ";"+must+";") {
			return nil, fmt.Errorf("%s is not signed", must)
		}
	}
	var hdrs []string
	for _, h := range signed {
		var v string
		if h == "host" {
			v = r.Host
		} else {
			v = strings.Join(r.Header.Values(h), ",")
		}
		v = strings.Join(strings.Fields(v), " ")
		hdrs = append(hdrs, h+":"+v)
	}
	bodySum := sha256.Sum256(body)
	canonical := strings.Join([]string{
		r.Method, r.URL.EscapedPath(), strings.ReplaceAll(r.URL.Query().Encode(), "+", "%20"),
		strings.Join(hdrs, "\n") + "\n", fields["SignedHeaders"], hex.EncodeToString(bodySum[:]),
	}, "\n")
	crSum := sha256.Sum256([]byte(canonical))
	toSign := alg + "\n" + date + "\n" + scope + "\n" + hex.EncodeToString(crSum[:])
	digest := sha256.Sum256([]byte(toSign))
	sig, err := hex.DecodeString(fields["Signature"])
	if err != nil || len(sig) == 0 {
		return nil, fmt.Errorf("Signature is not hex")
	}
	f.mu.Lock()
	if f.tamper {
		sig[len(sig)/2] ^= 0x01
	}
	f.mu.Unlock()
	switch pub := cert.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if alg != "AWS4-X509-ECDSA-SHA256" || !ecdsa.VerifyASN1(pub, digest[:], sig) {
			return nil, fmt.Errorf("%s signature does not verify with the certificate's ECDSA key", alg)
		}
	case *rsa.PublicKey:
		if alg != "AWS4-X509-RSA-SHA256" || rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) != nil {
			return nil, fmt.Errorf("%s signature does not verify with the certificate's RSA key", alg)
		}
	default:
		return nil, fmt.Errorf("unsupported key %T", pub)
	}
	return cert, nil
}

// startFakeRolesAnywhere serves CreateSession over TLS; it trusts ca's
// certificates and returns the PEM of its own server certificate.
func startFakeRolesAnywhere(t *testing.T, ca certCA) (*fakeRolesAnywhere, *httptest.Server, []byte) {
	t.Helper()
	f := &fakeRolesAnywhere{t: t, roots: x509.NewCertPool()}
	f.roots.AddCert(ca.cert)
	srv := httptest.NewTLSServer(f)
	t.Cleanup(srv.Close)
	serverPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	return f, srv, serverPEM
}

func TestCertificateModeRolesAnywhere(t *testing.T) {
	ca := newCertCA(t, "jit-policy test CA")
	f, srv, serverPEM := startFakeRolesAnywhere(t, ca)
	x := newCertX509(t, ca, map[string]config.X509Role{"deploy": {CommonName: "ci:{{subject}}"}})
	i := newCertIssuer(t, config.AWSIssuer{
		RolesAnywhereEndpoint: srv.URL,
		Roles: map[string]config.AWSRole{"deploy": {
			Mode: config.AWSModeCertificate, RoleARN: raRoleARN, X509Role: "deploy",
			TrustAnchorARN: raTrustAnchor, ProfileARN: raProfile,
		}},
	}, serverPEM, x, nil)
	ctx := context.Background()

	req := certRequest(t, "deploy", 30*time.Minute)
	cred, err := i.Issue(ctx, req)
	if err != nil {
		t.Fatalf("Issue: %v (verifier refused: %v)", err, f.refused)
	}
	if len(f.accepted) != 1 {
		t.Fatalf("CreateSession accepted %d times, want 1", len(f.accepted))
	}
	call := f.accepted[0]
	serialHex := call.cert.SerialNumber.Text(16)
	if want := "x509:" + serialHex; req.Lease.Credential.KeyID != want || cred.Identity.KeyID != want {
		t.Fatalf("key ids: lease %q, identity %q, certificate %q", req.Lease.Credential.KeyID, cred.Identity.KeyID, want)
	}
	if cred.Identity.SessionName != serialHex || RolesAnywhereSessionName(call.cert.SerialNumber) != serialHex {
		t.Fatalf("session name %q, want the certificate serial %s", cred.Identity.SessionName, serialHex)
	}
	if cred.Identity.AssumedRoleID != "AROAEXAMPLEROLEID:"+serialHex {
		t.Fatalf("assumed role id %q", cred.Identity.AssumedRoleID)
	}
	if call.duration != 1800 {
		t.Fatalf("durationSeconds %d, want 1800", call.duration)
	}
	q := call.query
	if q.Get("roleArn") != raRoleARN || q.Get("profileArn") != raProfile || q.Get("trustAnchorArn") != raTrustAnchor {
		t.Fatalf("query %v", q)
	}
	if call.cert.Subject.CommonName != "ci:repo:octo-org/app:ref:refs/heads/main" {
		t.Fatalf("certificate CN %q", call.cert.Subject.CommonName)
	}
	c := credsOf(t, cred)
	if c.AccessKeyID != "ASIAEXAMPLEKEYID" || c.SecretAccessKey != "secret" || c.SessionToken != "token" {
		t.Fatalf("credentials %+v", c)
	}
	if d := cred.ExpiresAt.Sub(req.Now.Add(30 * time.Minute)); d > 5*time.Second || d < -5*time.Second {
		t.Fatalf("expires at %v, want about Now+30m", cred.ExpiresAt)
	}
	if cred.ExpiresAt.After(call.cert.NotAfter) {
		t.Fatalf("expires at %v, after the certificate's NotAfter %v", cred.ExpiresAt, call.cert.NotAfter)
	}

	t.Run("tampered signature refused", func(t *testing.T) {
		f.mu.Lock()
		f.tamper = true
		f.mu.Unlock()
		defer func() { f.mu.Lock(); f.tamper = false; f.mu.Unlock() }()
		_, err := i.Issue(ctx, certRequest(t, "deploy", 30*time.Minute))
		if err == nil || !strings.Contains(err.Error(), "AccessDeniedException") {
			t.Fatalf("Issue with a tampered signature: %v, want AccessDeniedException", err)
		}
		if !strings.Contains(err.Error(), "trust anchor") {
			t.Fatalf("error gives no advice: %v", err)
		}
		if n := len(f.refused); n == 0 || !strings.Contains(f.refused[n-1], "does not verify") {
			t.Fatalf("verifier did not refuse the signature: %v", f.refused)
		}
	})

	t.Run("certificate of another CA refused", func(t *testing.T) {
		other := newCertCA(t, "not the trust anchor")
		j := newCertIssuer(t, config.AWSIssuer{
			RolesAnywhereEndpoint: srv.URL,
			Roles: map[string]config.AWSRole{"deploy": {
				Mode: config.AWSModeCertificate, RoleARN: raRoleARN, X509Role: "deploy",
				TrustAnchorARN: raTrustAnchor, ProfileARN: raProfile,
			}},
		}, serverPEM, newCertX509(t, other, map[string]config.X509Role{"deploy": {CommonName: "ci:{{subject}}"}}), nil)
		if _, err := j.Issue(ctx, certRequest(t, "deploy", 30*time.Minute)); err == nil {
			t.Fatal("a certificate of another CA was accepted")
		}
	})

	t.Run("context bounds the call", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := i.Issue(cctx, certRequest(t, "deploy", 30*time.Minute)); err == nil {
			t.Fatal("Issue with a cancelled context succeeded")
		}
	})
}
