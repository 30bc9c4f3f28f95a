package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/issuers"
)

// Output names of the ssh issuer, besides issuers.OutputLeaseID and
// issuers.OutputExpiresAt.
const (
	OutputCertificate = "certificate" // the certificate, one authorized_keys line (not secret)
	OutputPrivateKey  = "private-key" // with GenerateKey: OpenSSH PEM (secret)
)

// maxKeyIDBytes bounds a certificate's key id.
const maxKeyIDBytes = 1024

// Issuer signs SSH user certificates. It is safe for concurrent use.
type Issuer struct {
	ca         ssh.Signer
	algorithms []string // what ca signs with; see signingAlgorithms
	maxTTL     time.Duration
	roles      map[string]*role
	caKey      []byte // the CA's public key, wire format
}

var _ issuers.Issuer = (*Issuer)(nil)

// New returns an issuer for cfg that signs with ca. It copies cfg and
// checks what issuing relies on: a positive max_ttl, at least one role,
// every role's principals, extensions and critical options, and a CA key
// of a supported type (an RSA CA is made to sign with rsa-sha2-512).
func New(cfg *config.SSHIssuer, ca ssh.Signer) (*Issuer, error) {
	if cfg == nil {
		return nil, errors.New("ssh issuer: not configured")
	}
	signer, err := caSigner(ca)
	if err != nil {
		return nil, err
	}
	algorithms := signingAlgorithms(signer)
	if len(algorithms) == 0 {
		return nil, errors.New("ssh issuer: the CA signer allows no signature algorithm")
	}
	if cfg.MaxTTL.Duration <= 0 {
		return nil, errors.New("ssh issuer: max_ttl must be positive")
	}
	if len(cfg.Roles) == 0 {
		return nil, errors.New("ssh issuer: no roles")
	}
	i := &Issuer{
		ca:         signer,
		algorithms: algorithms,
		maxTTL:     cfg.MaxTTL.Duration,
		roles:      make(map[string]*role, len(cfg.Roles)),
		caKey:      signer.PublicKey().Marshal(),
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.Roles)) {
		r, err := compileRole(cfg.Roles[name])
		if err != nil {
			return nil, fmt.Errorf("ssh issuer: role %s: %w", name, err)
		}
		i.roles[name] = r
	}
	return i, nil
}

// Issue signs a user certificate for req.Lease: the key from req.PublicKey
// or, with req.GenerateKey, a fresh Ed25519 key; clamped as in [Issuer.Plan];
// with the lease's serial and key id. Outputs: lease-id, expires-at,
// certificate, and private-key (secret) when generated.
func (i *Issuer) Issue(ctx context.Context, req issuers.Request) (issuers.Credential, error) {
	if err := ctx.Err(); err != nil {
		return issuers.Credential{}, err
	}
	id := req.Lease.Credential
	if id.Serial == 0 {
		return issuers.Credential{}, errors.New("ssh issuer: the lease has no certificate serial (0 cannot be revoked by serial)")
	}
	if err := checkKeyID(id.KeyID); err != nil {
		return issuers.Credential{}, err
	}
	plan, err := i.Plan(req)
	if err != nil {
		return issuers.Credential{}, fmt.Errorf("ssh issuer, role %s: %w", req.Lease.Role, err)
	}
	key, privatePEM, err := i.userKey(req, id.KeyID)
	if err != nil {
		return issuers.Credential{}, err
	}
	cert := &ssh.Certificate{
		Key:             key,
		Serial:          id.Serial,
		CertType:        ssh.UserCert,
		KeyId:           id.KeyID,
		ValidPrincipals: plan.Principals,
		ValidAfter:      uint64(plan.ValidAfter.Unix()),
		ValidBefore:     uint64(plan.ValidBefore.Unix()),
		Permissions: ssh.Permissions{
			CriticalOptions: plan.CriticalOptions,
			Extensions:      plan.Extensions,
		},
	}
	line, err := i.sign(cert)
	if err != nil {
		return issuers.Credential{}, err
	}
	outs := []issuers.Output{
		{Name: issuers.OutputLeaseID, Value: req.Lease.ID},
		{Name: issuers.OutputExpiresAt, Value: plan.ValidBefore.Format(time.RFC3339)},
		{Name: OutputCertificate, Value: line},
	}
	if privatePEM != "" {
		outs = append(outs, issuers.Output{Name: OutputPrivateKey, Value: privatePEM, Secret: true})
	}
	return issuers.Credential{Identity: id, ExpiresAt: plan.ValidBefore, Outputs: outs}, nil
}

// userKey returns the key to certify and, when generated, its private key.
func (i *Issuer) userKey(req issuers.Request, comment string) (ssh.PublicKey, string, error) {
	switch {
	case req.GenerateKey && len(req.PublicKey) > 0:
		return nil, "", errors.New("ssh issuer: pass a public key or ask to generate one, not both")
	case req.GenerateKey:
		return generateKey(comment)
	case len(req.PublicKey) == 0:
		return nil, "", errors.New("ssh issuer: no public key to certify; pass one or ask to generate one")
	}
	key, err := ParsePublicKey(req.PublicKey)
	if err != nil {
		return nil, "", err
	}
	if bytes.Equal(key.Marshal(), i.caKey) {
		return nil, "", errors.New("public key: is the CA's own key; refusing to certify it")
	}
	return key, "", nil
}

func checkKeyID(id string) error {
	if id == "" {
		return errors.New("ssh issuer: the lease has no certificate key id")
	}
	if len(id) > maxKeyIDBytes {
		return fmt.Errorf("ssh issuer: key id longer than %d bytes", maxKeyIDBytes)
	}
	if err := checkText("key id", id, false); err != nil {
		return fmt.Errorf("ssh issuer: %w", err)
	}
	return nil
}

// Revoke does nothing and returns nil: an issued SSH certificate cannot be
// recalled. The caller revokes it by republishing the KRL (serial and key
// id) from the lease store after marking the lease revoked.
func (i *Issuer) Revoke(context.Context, lease.Lease) error { return nil }
