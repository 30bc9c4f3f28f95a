package aws

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

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
// the certificate's NotAfter. Should a server still return an expiration
// well past the lease's, the exchange refuses the credentials and revokes
// the lease (internal/exchange, backendClockSlack).

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
