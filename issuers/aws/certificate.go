package aws

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsv1 "github.com/aws/aws-sdk-go/aws"
	"github.com/aws/aws-sdk-go/aws/awserr"
	"github.com/aws/aws-sdk-go/aws/client"
	"github.com/aws/aws-sdk-go/aws/credentials"
	"github.com/aws/aws-sdk-go/aws/defaults"
	"github.com/aws/aws-sdk-go/aws/endpoints"
	"github.com/aws/aws-sdk-go/aws/request"
	"github.com/aws/rolesanywhere-credential-helper/rolesanywhere"

	"github.com/jit-policy/jit-policy/issuers"
	x509issuer "github.com/jit-policy/jit-policy/issuers/x509"
)

// Certificate mode: the x509 issuer's CA is the trust anchor. The job gets
// a short-lived client certificate (the x509 role X509Role, with the
// lease's serial) whose key is generated in memory and never written
// anywhere, and that certificate is exchanged for temporary credentials:
//
//   - trust_anchor_arn set: IAM Roles Anywhere CreateSession, signed
//     (SigV4-X509, AWS4-X509-ECDSA-SHA256) with the certificate's key as
//     github.com/aws/rolesanywhere-credential-helper signs it. The
//     session is named by Roles Anywhere after the certificate's serial, so
//     the lease's session name is that serial in hex. Roles Anywhere takes
//     no session policy, tags or source identity per request: scope with
//     the profile (session policy, managed policies) and the role's trust
//     policy conditions on the certificate's subject (aws:PrincipalTag/x509Subject/CN).
//   - no trust anchor: STS AssumeRoleWithCertificate at sts_endpoint
//     (MinIO), over mutual TLS with the certificate. MinIO maps the
//     certificate's subject CN to the MinIO policy of that name and takes
//     no session policy.
//
// Neither exchange can narrow a session with a session policy, so a role
// with session_policy or managed_session_policies is refused in
// certificate mode rather than issued wider than configured.
//
// The session never outlives the certificate: the requested duration is
// the certificate's lifetime when the x509 role's (or CA's) limit is
// shorter than the AWS role's. MinIO itself also caps the credentials at
// the certificate's NotAfter. Should a server still return a later
// expiration, the lease records the server's (the credentials are valid
// until then whatever happens to the certificate) and a warning is logged.

// maxSTSResponse bounds the body read from AssumeRoleWithCertificate.
const maxSTSResponse = 1 << 20

// jobCertificate is the job's issued certificate and its in-memory key.
type jobCertificate struct {
	cert  *x509.Certificate
	key   crypto.Signer
	keyID string
}

// assumeWithCertificate issues the job's client certificate and exchanges
// it for a session: Roles Anywhere when the role has a trust anchor, else
// STS AssumeRoleWithCertificate at sts_endpoint.
func (i *Issuer) assumeWithCertificate(ctx context.Context, p plan, req issuers.Request) (session, error) {
	if p.policy != "" || len(p.role.ManagedSessionPolicies) > 0 {
		return session{}, errors.New("certificate mode takes no session_policy or managed_session_policies (neither Roles Anywhere CreateSession nor AssumeRoleWithCertificate accepts one): scope the Roles Anywhere profile, or the MinIO policy the certificate's common name names, instead")
	}
	c, err := i.jobCertificate(ctx, p, req)
	if err != nil {
		return session{}, err
	}
	dur := p.ttl
	if want := req.Now.Add(p.ttl).Truncate(time.Second); c.cert.NotAfter.Before(want) {
		dur = c.cert.NotAfter.Sub(req.Now).Truncate(time.Second)
		if dur < MinTTL {
			return session{}, fmt.Errorf("the job's certificate (x509 role %s) lives %v, under STS's minimum of %d s: raise the x509 role's or issuer's max_ttl (or renew the CA)", p.role.X509Role, dur, int64(MinTTL/time.Second))
		}
	}
	var s session
	if p.role.TrustAnchorARN != "" {
		s, err = i.createSession(ctx, p, dur, c)
	} else {
		s, err = i.assumeRoleWithCertificate(ctx, p, dur, c)
	}
	if err != nil {
		return session{}, err
	}
	s.keyID = c.keyID
	if s.creds.Expires.After(c.cert.NotAfter) {
		i.log.Warn("aws: the credentials outlive the job's certificate; the lease records the credentials' expiry",
			"lease", req.Lease.ID, "key_id", c.keyID,
			"expires", s.creds.Expires.UTC().Format(time.RFC3339), "certificate_not_after", c.cert.NotAfter.UTC().Format(time.RFC3339))
	}
	return s, nil
}

// jobCertificate issues the job's client certificate through the x509
// issuer, with the lease's serial when it records one.
func (i *Issuer) jobCertificate(ctx context.Context, p plan, req issuers.Request) (jobCertificate, error) {
	l := req.Lease
	l.Role = p.role.X509Role
	if !strings.HasPrefix(l.Credential.KeyID, x509issuer.KeyIDPrefix) {
		id, err := x509issuer.NewKeyID()
		if err != nil {
			return jobCertificate{}, err
		}
		l.Credential.KeyID = id
	}
	cred, err := i.certs.Issue(ctx, issuers.Request{
		Lease:       l,
		Now:         req.Now,
		TTL:         p.ttl,
		GenerateKey: true,
		Claims:      req.Claims,
	})
	if err != nil {
		return jobCertificate{}, fmt.Errorf("issuing the job's certificate (x509 role %s): %w", p.role.X509Role, err)
	}
	var certPEM, keyPEM string
	for _, o := range cred.Outputs {
		switch o.Name {
		case x509issuer.OutputCertificate:
			certPEM = o.Value
		case x509issuer.OutputPrivateKey:
			keyPEM = o.Value
		}
	}
	b, _ := pem.Decode([]byte(certPEM))
	if b == nil || b.Type != "CERTIFICATE" {
		return jobCertificate{}, errors.New("the x509 issuer returned no PEM certificate")
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return jobCertificate{}, fmt.Errorf("parsing the job's certificate: %w", err)
	}
	b, _ = pem.Decode([]byte(keyPEM))
	if b == nil || b.Type != "PRIVATE KEY" {
		return jobCertificate{}, errors.New("the x509 issuer returned no PKCS #8 private key")
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return jobCertificate{}, fmt.Errorf("parsing the job's private key: %w", err)
	}
	key, ok := k.(crypto.Signer)
	if !ok {
		return jobCertificate{}, fmt.Errorf("the job's private key (%T) cannot sign", k)
	}
	if pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(cert.PublicKey) {
		return jobCertificate{}, errors.New("the job's private key does not match its certificate")
	}
	return jobCertificate{cert: cert, key: key, keyID: cred.Identity.KeyID}, nil
}

// --- STS AssumeRoleWithCertificate (MinIO) ---

// assumeRoleWithCertificate exchanges the certificate at sts_endpoint over
// mutual TLS.
func (i *Issuer) assumeRoleWithCertificate(ctx context.Context, p plan, dur time.Duration, c jobCertificate) (session, error) {
	base, err := url.Parse(i.cfg.STSEndpoint)
	if err != nil || base.Scheme != "https" || base.Host == "" {
		return session{}, fmt.Errorf("certificate mode exchanges the certificate over TLS: sts_endpoint must be an https:// URL, not %q", i.cfg.STSEndpoint)
	}
	q := url.Values{
		"Action":          {"AssumeRoleWithCertificate"},
		"Version":         {"2011-06-15"},
		"DurationSeconds": {strconv.FormatInt(int64(dur/time.Second), 10)},
	}
	u := strings.TrimRight(i.cfg.STSEndpoint, "/") + "/?" + q.Encode()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return session{}, err
	}
	client := i.mtlsClient(tls.Certificate{Certificate: [][]byte{c.cert.Raw}, PrivateKey: c.key, Leaf: c.cert})
	defer client.CloseIdleConnections()
	resp, err := client.Do(hreq)
	if err != nil {
		return session{}, fmt.Errorf("sts AssumeRoleWithCertificate at %s: %w%s", i.cfg.STSEndpoint, err, tlsAdvice(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxSTSResponse+1))
	if err != nil {
		return session{}, fmt.Errorf("sts AssumeRoleWithCertificate: reading the response: %w", err)
	}
	if len(body) > maxSTSResponse {
		return session{}, fmt.Errorf("sts AssumeRoleWithCertificate: response over %d bytes", maxSTSResponse)
	}
	if resp.StatusCode != http.StatusOK {
		return session{}, certificateSTSError(resp.Status, body, c.cert)
	}
	var out struct {
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
	if err := xml.Unmarshal(body, &out); err != nil {
		return session{}, fmt.Errorf("sts AssumeRoleWithCertificate: the response is not an AssumeRoleWithCertificateResponse: %w", err)
	}
	cr := out.Result.Credentials
	if cr.AccessKeyID == "" || cr.SecretAccessKey == "" || cr.Expiration.IsZero() {
		return session{}, errors.New("sts AssumeRoleWithCertificate returned no credentials")
	}
	return session{
		creds: aws.Credentials{
			AccessKeyID: cr.AccessKeyID, SecretAccessKey: cr.SecretAccessKey, SessionToken: cr.SessionToken,
			CanExpire: true, Expires: cr.Expiration,
		},
		// MinIO names no session: keep the lease's own name.
		sessionName: p.sessionName,
	}, nil
}

// mtlsClient is a one-use client like i.http (same roots, same timeout)
// that presents cert. It keeps no idle connection, so no other request
// can ride the authenticated connection.
func (i *Issuer) mtlsClient(cert tls.Certificate) *http.Client {
	var tr *http.Transport
	if t, ok := i.http.Transport.(*http.Transport); ok {
		tr = t.Clone()
	} else {
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	if tr.TLSClientConfig == nil {
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	tr.TLSClientConfig.Certificates = []tls.Certificate{cert}
	tr.TLSClientConfig.GetClientCertificate = nil
	tr.DisableKeepAlives = true
	timeout := i.http.Timeout
	if timeout == 0 {
		timeout = backendTimeout
	}
	return &http.Client{Transport: tr, Timeout: timeout}
}

// tlsAdvice hints at the usual cause of a failed TLS connection.
func tlsAdvice(err error) string {
	var unknown x509.UnknownAuthorityError
	var hostname x509.HostnameError
	switch {
	case errors.As(err, &unknown):
		return " (the server's certificate is not trusted: set issuers.aws.endpoint_ca to its CA)"
	case errors.As(err, &hostname):
		return " (the server's certificate does not name the sts_endpoint host)"
	case strings.Contains(err.Error(), "remote error: tls:"):
		return " (the server refused the client certificate: it must trust the x509 issuer's CA, e.g. MinIO holds it in its certs CAs/ folder)"
	}
	return ""
}

// certificateSTSError turns an STS ErrorResponse into an error with what
// to do.
func certificateSTSError(status string, body []byte, cert *x509.Certificate) error {
	var e struct {
		XMLName xml.Name `xml:"ErrorResponse"`
		Error   struct {
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
		} `xml:"Error"`
		RequestID string `xml:"RequestId"`
	}
	if xml.Unmarshal(body, &e) != nil || e.Error.Code == "" {
		return fmt.Errorf("sts AssumeRoleWithCertificate: %s: %.300q", status, body)
	}
	err := fmt.Errorf("sts AssumeRoleWithCertificate: %s: %s: %s", status, e.Error.Code, e.Error.Message)
	msg := strings.ToLower(e.Error.Message)
	switch {
	case e.Error.Code == "InvalidClientCertificate" || strings.Contains(msg, "unknown authority"):
		return fmt.Errorf("%w (the server does not trust the certificate's CA: put the x509 issuer's CA certificate in MinIO's certs CAs/ folder and restart it)", err)
	case strings.Contains(msg, "disabled") || e.Error.Code == "STSNotInitialized":
		return fmt.Errorf("%w (enable the API: start MinIO with MINIO_IDENTITY_TLS_ENABLE=on)", err)
	case strings.Contains(msg, "policy"):
		return fmt.Errorf("%w (the certificate's common name %q must name a MinIO policy: create it, or fix the x509 role's common_name)", err, cert.Subject.CommonName)
	case strings.Contains(msg, "duration"):
		return fmt.Errorf("%w (MinIO takes DurationSeconds from 900 to 31536000)", err)
	}
	return err
}

// --- IAM Roles Anywhere CreateSession ---

// createSession calls Roles Anywhere CreateSession (the credential
// helper's rolesanywhere client), signed with the job's certificate key. The call
// goes through i.http (endpoint_ca, timeout) and is bound by ctx.
func (i *Issuer) createSession(ctx context.Context, p plan, dur time.Duration, c jobCertificate) (session, error) {
	alg, err := x509SigningAlgorithm(c.key)
	if err != nil {
		return session{}, err
	}
	// No v1 session: it would apply AWS_CA_BUNDLE to the transport,
	// replacing endpoint_ca. The client is built from i.http alone.
	cfg := defaults.Config().
		WithRegion(i.cfg.Region).
		WithHTTPClient(i.http).
		WithCredentials(credentials.AnonymousCredentials).
		WithMaxRetries(2)
	ep := i.cfg.RolesAnywhereEndpoint
	if ep == "" {
		re, err := endpoints.DefaultResolver().EndpointFor(rolesanywhere.EndpointsID, i.cfg.Region)
		if err != nil {
			return session{}, fmt.Errorf("roles anywhere endpoint for %s: %w (set rolesanywhere_endpoint)", i.cfg.Region, err)
		}
		ep = re.URL
	}
	ra := rolesanywhere.New(v1Config{client.Config{
		Config: cfg, Handlers: defaults.Handlers(), Endpoint: ep,
		SigningRegion: i.cfg.Region, SigningName: rolesanywhere.EndpointsID, ResolvedRegion: i.cfg.Region,
	}})
	ra.Handlers.Sign.Clear()
	ra.Handlers.Sign.PushBackNamed(request.NamedHandler{
		Name: "v4x509.SignRequestHandler",
		Fn:   signX509Handler(c.key, alg, c.cert, time.Now),
	})
	certB64 := base64.StdEncoding.EncodeToString(c.cert.Raw)
	out, err := ra.CreateSessionWithContext(ctx, &rolesanywhere.CreateSessionInput{
		Cert:            &certB64,
		ProfileArn:      awsv1.String(p.role.ProfileARN),
		TrustAnchorArn:  awsv1.String(p.role.TrustAnchorARN),
		RoleArn:         awsv1.String(p.role.RoleARN),
		DurationSeconds: awsv1.Int64(int64(dur / time.Second)),
	})
	if err != nil {
		return session{}, fmt.Errorf("rolesanywhere:CreateSession %s: %w", p.role.RoleARN, adviseRolesAnywhere(err, i.cfg.Region))
	}
	if len(out.CredentialSet) == 0 || out.CredentialSet[0] == nil || out.CredentialSet[0].Credentials == nil {
		return session{}, errors.New("rolesanywhere:CreateSession returned no credentials")
	}
	set := out.CredentialSet[0]
	cr := set.Credentials
	exp, err := time.Parse(time.RFC3339, awsv1.StringValue(cr.Expiration))
	if err != nil || awsv1.StringValue(cr.AccessKeyId) == "" || awsv1.StringValue(cr.SecretAccessKey) == "" {
		return session{}, fmt.Errorf("rolesanywhere:CreateSession returned incomplete credentials (expiration %q)", awsv1.StringValue(cr.Expiration))
	}
	s := session{
		creds: aws.Credentials{
			AccessKeyID: *cr.AccessKeyId, SecretAccessKey: *cr.SecretAccessKey,
			SessionToken: awsv1.StringValue(cr.SessionToken), CanExpire: true, Expires: exp,
		},
		sessionName: RolesAnywhereSessionName(c.cert.SerialNumber),
	}
	if u := set.AssumedRoleUser; u != nil {
		s.assumedRoleID = awsv1.StringValue(u.AssumedRoleId)
		// arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION names the session
		// authoritatively.
		if arn := awsv1.StringValue(u.Arn); strings.Contains(arn, ":assumed-role/") {
			if name := arn[strings.LastIndex(arn, "/")+1:]; name != "" {
				s.sessionName = name
			}
		}
	}
	return s, nil
}

// v1Config hands the v1 rolesanywhere client a fixed configuration.
type v1Config struct{ c client.Config }

func (p v1Config) ClientConfig(_ string, cfgs ...*awsv1.Config) client.Config {
	c := p.c
	c.Config = c.Config.Copy(cfgs...)
	return c
}

// RolesAnywhereSessionName is the role session name IAM Roles Anywhere
// gives a session: the certificate's serial number in hex.
func RolesAnywhereSessionName(serial *big.Int) string { return serial.Text(16) }

// x509SigningAlgorithm is the SigV4-X509 algorithm for key.
func x509SigningAlgorithm(key crypto.Signer) (string, error) {
	switch key.Public().(type) {
	case *ecdsa.PublicKey:
		return "AWS4-X509-ECDSA-SHA256", nil
	case *rsa.PublicKey:
		return "AWS4-X509-RSA-SHA256", nil
	}
	return "", fmt.Errorf("roles anywhere signs with ECDSA or RSA keys, not %T", key.Public())
}

// adviseRolesAnywhere adds what to do to common CreateSession errors.
func adviseRolesAnywhere(err error, region string) error {
	var ae awserr.Error
	if !errors.As(err, &ae) {
		return err
	}
	switch ae.Code() {
	case "AccessDeniedException":
		return fmt.Errorf("%w (the trust anchor must hold the x509 issuer's CA certificate and be enabled, the profile must be enabled and list the role, and the role's trust policy must allow rolesanywhere.amazonaws.com sts:AssumeRole, sts:TagSession and sts:SetSourceIdentity)", err)
	case "ValidationException":
		return fmt.Errorf("%w (check the ARNs and that the lifetime is within the profile's duration_seconds)", err)
	case "ResourceNotFoundException":
		return fmt.Errorf("%w (the trust anchor or profile does not exist in region %s)", err, region)
	case request.CanceledErrorCode:
		return fmt.Errorf("%w (the call ran out of time)", err)
	}
	return err
}

// SigV4-X509, the request signature of Roles Anywhere CreateSession. This
// is a port of CreateRequestSignFunction in
// github.com/aws/rolesanywhere-credential-helper v1.4.0
// (aws_signing_helper/signer.go). That package cannot be imported: it
// links PKCS #11 and the macOS keychain through cgo (release builds are
// CGO_ENABLED=0) and TPM code. The tests check this port against an
// independent verifier.
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
