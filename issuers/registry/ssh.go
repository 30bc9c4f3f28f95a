package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jit-policy/jit-policy/internal/cakey"
	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/internal/krl"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/issuers"
	sshissuer "github.com/jit-policy/jit-policy/issuers/ssh"
)

// sshEntry is the SSH issuer: it signs with the CA key (loaded on the
// first Issue) and revokes by publishing the KRL, which needs only the CA's
// public key.
type sshEntry struct {
	lazy
	cfg    *config.SSHIssuer
	getenv func(string) string
	krl    string
}

// caPublicKey reads ca_public_key when set, else the public half of ca_key
// (which, for a KMS key, asks the KMS: bounded by caKeyTimeout).
func (e *sshEntry) caPublicKey(ctx context.Context) (ssh.PublicKey, error) {
	if p, ok := config.FilePath(e.cfg.CAPublicKey); ok {
		return readCAPublicKey(p)
	}
	ctx, cancel := context.WithTimeout(ctx, caKeyTimeout)
	defer cancel()
	key, err := cakey.Load(ctx, e.cfg.CAKey, e.getenv)
	if err != nil {
		return nil, fmt.Errorf("reading the SSH CA public key (set ca_public_key to revoke without reaching ca_key): %w", err)
	}
	return ssh.NewPublicKey(key.Public())
}

// readCAPublicKey reads the ca_public_key file at p (an authorized_keys
// line).
func readCAPublicKey(p string) (ssh.PublicKey, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("reading ca_public_key: %w", err)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(data)
	if err != nil {
		return nil, fmt.Errorf("parsing ca_public_key %s: %w", p, err)
	}
	return pub, nil
}

// checkCAPublicKey returns an error unless configured, the key read from
// ca_public_key at p, is the public key of signer, the CA key: the KRL
// names ca_public_key, so a stale one (left behind when ca_key was
// rotated) would publish KRLs that revoke none of the certificates signed.
func checkCAPublicKey(p string, configured ssh.PublicKey, signer ssh.Signer) error {
	actual := signer.PublicKey()
	if bytes.Equal(configured.Marshal(), actual.Marshal()) {
		return nil
	}
	return fmt.Errorf("ca_public_key %s (%s) is not the public key of ca_key (%s): KRLs would revoke none of the certificates ca_key signs; point ca_public_key at the current CA's .pub file, or remove it to read the public key from ca_key",
		p, ssh.FingerprintSHA256(configured), ssh.FingerprintSHA256(actual))
}

// caKeyTimeout bounds reaching a KMS for the CA's public key.
const caKeyTimeout = 20 * time.Second

// newSSH builds the SSH issuer: it loads ca_key and, when ca_public_key is
// set too, refuses a ca_public_key that is not ca_key's public key.
// Revoking, sweeping and listing never call it (see sshEntry.caPublicKey),
// so they keep working from ca_public_key alone.
func newSSH(ctx context.Context, c *config.SSHIssuer, getenv func(string) string) (issuers.Issuer, error) {
	// A KMS signer keeps the context for every later call: it must not be
	// the one request's context that first built the issuer.
	key, err := cakey.Load(context.WithoutCancel(ctx), c.CAKey, getenv)
	if err != nil {
		return nil, fmt.Errorf("loading the SSH CA key: %w", err)
	}
	signer, err := cakey.NewSSHSigner(key)
	if err != nil {
		return nil, fmt.Errorf("loading the SSH CA key: %w", err)
	}
	if p, ok := config.FilePath(c.CAPublicKey); ok {
		pub, err := readCAPublicKey(p)
		if err != nil {
			return nil, err
		}
		if err := checkCAPublicKey(p, pub, signer); err != nil {
			return nil, fmt.Errorf("ssh issuer: %w", err)
		}
	}
	return sshissuer.New(c, signer)
}

// Revoke has nothing to do at a backend: a certificate is revoked by the
// KRL that Publish writes.
func (*sshEntry) Revoke(context.Context, lease.Lease) error { return nil }

// Publish writes the KRL (List) to the krl: file, atomically.
func (e *sshEntry) Publish(ctx context.Context, revoked []lease.Lease) error {
	data, err := e.List(ctx, revoked)
	if err != nil {
		return err
	}
	return krl.WriteFile(e.krl, data)
}

// List returns the KRL of revoked: every revoked, unexpired certificate
// of the CA, by serial and by key id.
func (e *sshEntry) List(ctx context.Context, revoked []lease.Lease) ([]byte, error) {
	ca, err := e.caPublicKey(ctx)
	if err != nil {
		return nil, err
	}
	spec := krl.Spec{CAKey: ca, Version: uint64(time.Now().UnixNano()), GeneratedAt: time.Now(), Comment: "jit-policy"}
	for _, l := range revoked {
		if l.Credential.Serial != 0 {
			spec.Serials = append(spec.Serials, l.Credential.Serial)
		}
		if l.Credential.KeyID != "" {
			spec.KeyIDs = append(spec.KeyIDs, l.Credential.KeyID)
		}
	}
	return krl.Marshal(spec)
}

// CA returns the CA's public key as an authorized_keys line
// (ca_public_key, else the public half of ca_key).
func (e *sshEntry) CA(ctx context.Context) ([]byte, error) {
	ca, err := e.caPublicKey(ctx)
	if err != nil {
		return nil, err
	}
	return ssh.MarshalAuthorizedKey(ca), nil
}

// Check refuses, before the token is spent or a lease recorded, what the
// SSH issuer's Issue would refuse for the request's own values: a public
// key it does not certify and, once the issuer is built (the CA key
// loaded by an earlier Issue), principals or options the role and grant
// do not allow. Check never loads the CA key itself: a KMS that hangs
// must hang after the lease is recorded, where the sweep finds it.
func (e *sshEntry) Check(_ context.Context, req issuers.Request) error {
	switch {
	case req.GenerateKey && len(req.PublicKey) > 0:
		return errors.New("ssh issuer: pass a public key or ask to generate one, not both")
	case !req.GenerateKey && len(req.PublicKey) == 0:
		return errors.New("ssh issuer: no public key to certify; pass one or ask to generate one")
	case len(req.PublicKey) > 0:
		if _, err := sshissuer.ParsePublicKey(req.PublicKey); err != nil {
			return err
		}
	}
	if p, ok := e.built().(*sshissuer.Issuer); ok {
		if _, err := p.Plan(req); err != nil {
			return fmt.Errorf("ssh issuer, role %s: %w", req.Lease.Role, err)
		}
	}
	return nil
}

// SignsOnly reports that SSH issuing is signing in memory with the serial
// and key id the exchange chose (issuers.Signer).
func (*sshEntry) SignsOnly() bool { return true }
