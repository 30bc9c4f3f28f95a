package aws

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	awsv1 "github.com/aws/aws-sdk-go/aws"
	"github.com/aws/aws-sdk-go/aws/request"
)

// SigV4-X509, the request signature of Roles Anywhere CreateSession. This
// is a port of CreateRequestSignFunction in
// github.com/aws/rolesanywhere-credential-helper v1.4.0
// (aws_signing_helper/signer.go). That package cannot be imported here: it
// links PKCS #11 and the macOS keychain through cgo (release builds are
// CGO_ENABLED=0) and TPM code. The tests check this port against an
// independent verifier and, in cgo builds, against the helper's own signer
// (rolesanywhere_helper_test.go).
const (
	x509DateHeader   = "X-Amz-Date"
	x509CertHeader   = "X-Amz-X509"
	x509ContentHash  = "X-Amz-Content-Sha256"
	emptyBodySHA256  = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	x509TimeFormat   = "20060102T150405Z"
	x509ScopeDateFmt = "20060102"
)

// x509UnsignedHeaders are left out of the signature, as the helper does.
var x509UnsignedHeaders = map[string]bool{"Authorization": true, "User-Agent": true, "X-Amzn-Trace-Id": true}

// collapseSpaces trims spaces (only ' ') at both ends and turns each run
// of them into one, as the helper's stripExcessSpaces does.
func collapseSpaces(v string) string {
	v = strings.Trim(v, " ")
	for strings.Contains(v, "  ") {
		v = strings.ReplaceAll(v, "  ", " ")
	}
	return v
}

// signX509Handler signs a v1 SDK request with the certificate's key.
func signX509Handler(key crypto.Signer, alg string, cert *x509.Certificate, now func() time.Time) func(*request.Request) {
	return func(r *request.Request) {
		region := r.ClientInfo.SigningRegion
		if region == "" {
			region = awsv1.StringValue(r.Config.Region)
		}
		service := r.ClientInfo.SigningName
		if service == "" {
			service = r.ClientInfo.ServiceName
		}
		hr := r.HTTPRequest
		t := now().UTC()
		hr.Header.Set("Host", hr.URL.Host)
		hr.Header.Set(x509DateHeader, t.Format(x509TimeFormat))
		hr.Header.Set(x509CertHeader, base64.StdEncoding.EncodeToString(cert.Raw))
		bodyHash := hr.Header.Get(x509ContentHash)
		if bodyHash == "" {
			bodyHash = emptyBodySHA256
			if r.Body != nil {
				h := sha256.New()
				start, err := r.Body.Seek(0, io.SeekCurrent)
				if err == nil {
					_, err = io.Copy(h, r.Body)
				}
				if err == nil {
					_, err = r.Body.Seek(start, io.SeekStart)
				}
				if err != nil {
					r.Error = fmt.Errorf("hashing the request body: %w", err)
					return
				}
				bodyHash = hex.EncodeToString(h.Sum(nil))
			}
		}
		scope := t.Format(x509ScopeDateFmt) + "/" + region + "/" + service + "/aws4_request"
		canonical, signed := x509CanonicalRequest(hr.Method, hr.URL.EscapedPath(), hr.URL.Query(), hr.Header, bodyHash)
		sum := sha256.Sum256([]byte(canonical))
		toSign := alg + "\n" + t.Format(x509TimeFormat) + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
		digest := sha256.Sum256([]byte(toSign))
		sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
		if err != nil {
			r.Error = fmt.Errorf("signing CreateSession with the job's key: %w", err)
			return
		}
		hr.Header.Set("Authorization", alg+" Credential="+cert.SerialNumber.String()+"/"+scope+
			", SignedHeaders="+signed+", Signature="+hex.EncodeToString(sig))
		r.SignedHeaderVals = hr.Header
	}
}

// x509CanonicalRequest returns the canonical request and the signed header
// list: every header but x509UnsignedHeaders, lower-cased and sorted, each
// value list comma-joined, see collapseSpaces.
func x509CanonicalRequest(method, path string, query url.Values, header http.Header, bodyHash string) (canonical, signed string) {
	vals := map[string][]string{}
	var names []string
	for k, v := range header {
		if x509UnsignedHeaders[http.CanonicalHeaderKey(k)] {
			continue
		}
		lk := strings.ToLower(k)
		if _, ok := vals[lk]; !ok {
			names = append(names, lk)
		}
		vals[lk] = append(vals[lk], v...)
	}
	slices.Sort(names)
	lines := make([]string, len(names))
	for i, k := range names {
		lines[i] = k + ":" + collapseSpaces(strings.Join(vals[k], ","))
	}
	if path == "" {
		path = "/"
	}
	signed = strings.Join(names, ";")
	canonical = method + "\n" + path + "\n" + strings.ReplaceAll(query.Encode(), "+", "%20") + "\n" +
		strings.Join(lines, "\n") + "\n\n" + signed + "\n" + bodyHash
	return canonical, signed
}
