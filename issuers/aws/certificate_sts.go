package aws

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Certificate mode without a trust anchor: STS AssumeRoleWithCertificate
// (MinIO) at sts_endpoint, over mutual TLS with the job's certificate, and
// advice on the errors it meets.

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
