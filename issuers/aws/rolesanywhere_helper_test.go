//go:build cgo

package aws

// This file checks Roles Anywhere CreateSession signing against the
// credential helper's own signer (github.com/aws/rolesanywhere-credential-
// helper v1.4.0, aws_signing_helper). That package links PKCS #11 through
// cgo, so it builds only with cgo: release builds are CGO_ENABLED=0, which
// is why sigv4x509.go ports the helper's CreateRequestSignFunction instead
// of importing it, and why this file is cgo-only. CI (.ci/run) runs the
// tests with cgo on (gcc is present there), so it runs in CI; without a C
// compiler the go command turns cgo off and this file is left out.
//
// For an ECDSA P-256 and an RSA 2048 certificate:
//   - the helper's GenerateCredentials, with its file-system signer, calls
//     the httptest verifier of certificate_rolesanywhere_test.go, which
//     accepts the signature;
//   - the same CreateSession request, signed by the helper's
//     CreateRequestSignFunction and by the port at the same time with the
//     same key and certificate, has the same headers, string to sign (so
//     the same canonical request) and Authorization fields, and both
//     signatures verify with the certificate's public key. ECDSA
//     signatures are randomized; RSA PKCS #1 v1.5 ones are not, so for RSA
//     the whole Authorization header must match.

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	helper "github.com/aws/rolesanywhere-credential-helper/aws_signing_helper"
)

func TestRolesAnywhereHelperSigner(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("ECDSA key: %v", err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("RSA key: %v", err)
	}
	for _, tc := range []struct {
		name    string
		key     crypto.Signer
		wantAlg string
	}{
		{"ECDSA P-256", ecKey, "AWS4-X509-ECDSA-SHA256"},
		{"RSA 2048", rsaKey, "AWS4-X509-RSA-SHA256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ca := newCertCA(t, "jit-policy test CA")
			f, srv, _ := startFakeRolesAnywhere(t, ca)
			c := newHelperCase(t, ca, tc.key)
			fsSigner, alg, err := helper.GetFileSystemSigner(c.keyPath, c.certPath, "", false)
			if err != nil {
				t.Fatalf("helper GetFileSystemSigner: %v", err)
			}
			defer fsSigner.Close()
			ourAlg, err := x509SigningAlgorithm(c.key)
			if err != nil {
				t.Fatalf("x509SigningAlgorithm: %v", err)
			}
			if alg != tc.wantAlg || ourAlg != alg {
				t.Fatalf("signing algorithm: helper %q, port %q, want %q", alg, ourAlg, tc.wantAlg)
			}

			t.Run("helper accepted by the verifier", func(t *testing.T) {
				out, err := helper.GenerateCredentials(&helper.CredentialsOpts{
					RoleArn:           raRoleARN,
					ProfileArnStr:     raProfile,
					TrustAnchorArnStr: raTrustAnchor,
					SessionDuration:   900,
					Endpoint:          srv.URL,
					NoVerifySSL:       true, // the httptest server's certificate; the helper takes no CA
				}, fsSigner, alg)
				if err != nil {
					t.Fatalf("helper GenerateCredentials: %v (verifier refused: %v)", err, f.refused)
				}
				if out.AccessKeyId != "ASIAEXAMPLEKEYID" || out.SecretAccessKey != "secret" || out.SessionToken != "token" {
					t.Fatalf("helper credentials %+v", out)
				}
				if len(f.accepted) != 1 || len(f.refused) != 0 {
					t.Fatalf("verifier accepted %d, refused %v; want 1 accepted", len(f.accepted), f.refused)
				}
				if got := f.accepted[0]; got.cert.SerialNumber.Cmp(c.cert.SerialNumber) != 0 || got.duration != 900 {
					t.Fatalf("verifier saw serial %s duration %d, want %s 900", got.cert.SerialNumber, got.duration, c.cert.SerialNumber)
				}
			})

			t.Run("port matches the helper", func(t *testing.T) {
				r := buildCreateSession(t, srv.URL, c.cert)
				unsigned := r.HTTPRequest.Header.Clone()

				helperRec := &recordingSigner{Signer: fsSigner}
				helper.CreateRequestSignFunction(helperRec, alg, c.cert, nil)(r)
				if r.Error != nil {
					t.Fatalf("helper signing: %v", r.Error)
				}
				helperHdr := r.HTTPRequest.Header.Clone()
				at, err := time.Parse(x509TimeFormat, helperHdr.Get(x509DateHeader))
				if err != nil {
					t.Fatalf("helper X-Amz-Date %q: %v", helperHdr.Get(x509DateHeader), err)
				}

				r.HTTPRequest.Header = unsigned.Clone()
				r.SignedHeaderVals = nil
				ourRec := &recordingSigner{Signer: c.key}
				signX509Handler(ourRec, alg, c.cert, func() time.Time { return at })(r)
				if r.Error != nil {
					t.Fatalf("port signing: %v", r.Error)
				}
				ourHdr := r.HTTPRequest.Header.Clone()

				// The same headers, Authorization aside.
				for _, h := range []http.Header{helperHdr, ourHdr} {
					for k := range h {
						if k == "Authorization" {
							continue
						}
						if a, b := strings.Join(helperHdr.Values(k), ","), strings.Join(ourHdr.Values(k), ","); a != b {
							t.Fatalf("header %s: helper %q, port %q", k, a, b)
						}
					}
				}

				// The helper's signer is given the string to sign; the
				// port's, its SHA-256.
				helperToSign := string(helperRec.last(t))
				ourDigest := ourRec.last(t)
				if sum := sha256.Sum256([]byte(helperToSign)); !bytes.Equal(sum[:], ourDigest) {
					t.Fatalf("the port signed another string than the helper's\n%s", helperToSign)
				}
				// The string to sign ends in the canonical request's hash:
				// the port's canonical request is the helper's.
				body, err := io.ReadAll(r.Body)
				if err != nil {
					t.Fatalf("reading the body: %v", err)
				}
				bodySum := sha256.Sum256(body)
				canonical, signed := x509CanonicalRequest(r.HTTPRequest.Method, r.HTTPRequest.URL.EscapedPath(), r.HTTPRequest.URL.Query(), ourHdr, hex.EncodeToString(bodySum[:]))
				crSum := sha256.Sum256([]byte(canonical))
				scope := at.Format(x509ScopeDateFmt) + "/us-east-1/rolesanywhere/aws4_request"
				if want := alg + "\n" + at.Format(x509TimeFormat) + "\n" + scope + "\n" + hex.EncodeToString(crSum[:]); helperToSign != want {
					t.Fatalf("string to sign\nhelper:\n%s\nport:\n%s\nport's canonical request:\n%s", helperToSign, want, canonical)
				}

				hAlg, hFields := authFields(t, helperHdr.Get("Authorization"))
				oAlg, oFields := authFields(t, ourHdr.Get("Authorization"))
				if hAlg != alg || oAlg != alg {
					t.Fatalf("Authorization algorithm: helper %q, port %q, want %q", hAlg, oAlg, alg)
				}
				if want := c.cert.SerialNumber.String() + "/" + scope; hFields["Credential"] != want || oFields["Credential"] != want {
					t.Fatalf("Credential: helper %q, port %q, want %q", hFields["Credential"], oFields["Credential"], want)
				}
				if hFields["SignedHeaders"] != signed || oFields["SignedHeaders"] != signed {
					t.Fatalf("SignedHeaders: helper %q, port %q, want %q", hFields["SignedHeaders"], oFields["SignedHeaders"], signed)
				}
				verifyWithCert(t, "helper", c.cert, helperToSign, hFields["Signature"])
				verifyWithCert(t, "port", c.cert, helperToSign, oFields["Signature"])
				if _, isRSA := c.key.(*rsa.PrivateKey); isRSA {
					if h, o := helperHdr.Get("Authorization"), ourHdr.Get("Authorization"); h != o {
						t.Fatalf("RSA PKCS #1 v1.5 is deterministic, yet the Authorization headers differ\nhelper: %s\nport:   %s", h, o)
					}
				}
			})
		})
	}
}
