package registry

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jit-policy/jit-policy/internal/cakey"
	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/internal/lease"
)

// sshCA creates an SSH CA with `jit-policy ca init` in a fresh directory
// and returns the paths of its key and its public key.
func sshCA(t *testing.T) (key, pub string) {
	t.Helper()
	paths, err := cakey.Init(t.TempDir(), "ssh", cakey.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	return paths[0], paths[1]
}

// sshFingerprint returns the SHA256 fingerprint of the public key file at p.
func sshFingerprint(t *testing.T, p string) string {
	t.Helper()
	pub, err := readCAPublicKey(p)
	if err != nil {
		t.Fatal(err)
	}
	return ssh.FingerprintSHA256(pub)
}

func sshConfig(caKey, caPub string) *config.SSHIssuer {
	c := &config.SSHIssuer{
		CAKey:  "file://" + caKey,
		MaxTTL: config.Duration{Duration: time.Hour},
		Roles:  map[string]config.SSHRole{"deploy": {Principals: []string{"deploy"}}},
	}
	if caPub != "" {
		c.CAPublicKey = "file://" + caPub
	}
	return c
}

// TestNewSSHChecksCAPublicKey: the issuer is not built when ca_public_key
// is not ca_key's public key, and the error names both fingerprints and
// the fix.
func TestNewSSHChecksCAPublicKey(t *testing.T) {
	key, pub := sshCA(t)
	_, oldPub := sshCA(t) // the CA before a rotation
	garbage := filepath.Join(t.TempDir(), "garbage.pub")
	if err := os.WriteFile(garbage, []byte("not a key\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		caPub   string
		wantErr []string // substrings of the error; nil: no error
	}{
		{name: "matching ca_public_key", caPub: pub},
		{name: "no ca_public_key", caPub: ""},
		{name: "stale ca_public_key", caPub: oldPub, wantErr: []string{
			oldPub, sshFingerprint(t, oldPub), sshFingerprint(t, pub),
			"point ca_public_key at the current CA's .pub file, or remove it",
		}},
		{name: "missing ca_public_key file", caPub: filepath.Join(t.TempDir(), "absent.pub"), wantErr: []string{"reading ca_public_key"}},
		{name: "unparsable ca_public_key", caPub: garbage, wantErr: []string{"parsing ca_public_key"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			iss, err := newSSH(context.Background(), sshConfig(key, tc.caPub), os.Getenv)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("newSSH: %v", err)
				}
				if iss == nil {
					t.Fatal("newSSH returned no issuer")
				}
				return
			}
			if err == nil {
				t.Fatal("newSSH accepted the configuration; want an error")
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

// TestSSHRevocationNeedsNoCAKey: with ca_public_key set, the CA line and
// the KRL come from it alone, ca_key unreachable; the key check of newSSH
// does not apply there.
func TestSSHRevocationNeedsNoCAKey(t *testing.T) {
	_, pub := sshCA(t)
	wantKey, err := readCAPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	absentKey := filepath.Join(t.TempDir(), "absent")
	revoked := []lease.Lease{{ID: "lease-1", Issuer: "ssh", Credential: lease.Credential{Serial: 7, KeyID: "ci:deploy"}}}
	e := &sshEntry{cfg: sshConfig(absentKey, pub), getenv: os.Getenv, krl: filepath.Join(t.TempDir(), "krl")}
	cases := []struct {
		name string
		call func(context.Context) ([]byte, error)
		// caKey extracts the SSH wire bytes of the CA key the output names.
		caKey func(t *testing.T, out []byte) []byte
	}{
		{name: "CA", call: e.CA, caKey: func(t *testing.T, out []byte) []byte {
			k, _, _, _, err := ssh.ParseAuthorizedKey(out)
			if err != nil {
				t.Fatalf("parsing the CA line %q: %v", out, err)
			}
			return k.Marshal()
		}},
		{name: "List", call: func(ctx context.Context) ([]byte, error) { return e.List(ctx, revoked) }, caKey: func(t *testing.T, out []byte) []byte {
			if !bytes.Contains(out, wantKey.Marshal()) {
				return nil // the KRL's CA section holds the key's wire bytes
			}
			return wantKey.Marshal()
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.call(context.Background())
			if err != nil {
				t.Fatalf("%s without ca_key: %v", tc.name, err)
			}
			if k := tc.caKey(t, got); !bytes.Equal(k, wantKey.Marshal()) {
				t.Errorf("%s does not name the CA of ca_public_key %s", tc.name, pub)
			}
		})
	}
}
