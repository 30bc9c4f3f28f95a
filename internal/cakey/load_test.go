package cakey

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
)

// testKeys generates (once) the keys used by the file tests.
var testKeys = sync.OnceValue(func() map[string]crypto.Signer {
	must := func(k crypto.Signer, err error) crypto.Signer {
		if err != nil {
			panic(err)
		}
		return k
	}
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	return map[string]crypto.Signer{
		"ed25519": ed,
		"p256":    must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)),
		"p384":    must(ecdsa.GenerateKey(elliptic.P384(), rand.Reader)),
		"p521":    must(ecdsa.GenerateKey(elliptic.P521(), rand.Reader)),
		"rsa3072": must(rsa.GenerateKey(rand.Reader, 3072)),
		"rsa2048": must(rsa.GenerateKey(rand.Reader, 2048)),
	}
})

func pemBytes(t *testing.T, typ string, der []byte, err error) []byte {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func opensshBytes(t *testing.T, key crypto.Signer, passphrase string) []byte {
	t.Helper()
	var block *pem.Block
	var err error
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(key, "test")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(key, "test", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(block)
}

// writeKey writes data to a new file in dir with mode and returns its path.
func writeKey(t *testing.T, data []byte, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func samePublic(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}

// leaks reports whether msg contains part of a PEM body or a secret.
func leaks(msg string, data []byte, secrets ...string) bool {
	if b, _ := pem.Decode(data); b != nil {
		body := strings.Split(strings.TrimSpace(string(data)), "\n")
		if len(body) > 2 && len(body[1]) >= 16 && strings.Contains(msg, body[1][:16]) {
			return true
		}
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

func TestLoadFileFormats(t *testing.T) {
	k := testKeys()
	tests := []struct {
		name string
		key  crypto.Signer
		data func(t *testing.T, key crypto.Signer) []byte
	}{
		{"pkcs8-ed25519", k["ed25519"], pkcs8},
		{"pkcs8-p384", k["p384"], pkcs8},
		{"pkcs8-rsa3072", k["rsa3072"], pkcs8},
		{"sec1-p256", k["p256"], func(t *testing.T, key crypto.Signer) []byte {
			der, err := x509.MarshalECPrivateKey(key.(*ecdsa.PrivateKey))
			return pemBytes(t, "EC PRIVATE KEY", der, err)
		}},
		{"pkcs1-rsa3072", k["rsa3072"], func(t *testing.T, key crypto.Signer) []byte {
			return pemBytes(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key.(*rsa.PrivateKey)), nil)
		}},
		{"openssh-ed25519", k["ed25519"], openssh},
		{"openssh-p256", k["p256"], openssh},
		{"openssh-p384", k["p384"], openssh},
		{"openssh-rsa3072", k["rsa3072"], openssh},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeKey(t, tc.data(t, tc.key), 0o600)
			s, err := Load(context.Background(), "file://"+path, noEnv)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !samePublic(s.Public(), tc.key.Public()) {
				t.Errorf("loaded public key differs")
			}
			if _, err := NewSSHSigner(s); err != nil {
				t.Errorf("NewSSHSigner: %v", err)
			}
		})
	}
}

func pkcs8(t *testing.T, key crypto.Signer) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	return pemBytes(t, "PRIVATE KEY", der, err)
}

func openssh(t *testing.T, key crypto.Signer) []byte { return opensshBytes(t, key, "") }

func TestLoadFileRejects(t *testing.T) {
	k := testKeys()
	good := pkcs8(t, k["ed25519"])
	pubDER, _ := x509.MarshalPKIXPublicKey(k["p256"].Public())
	tests := []struct {
		name   string
		data   []byte
		mode   os.FileMode
		suffix string // appended to file://PATH
		want   string
	}{
		{"group-readable", good, 0o640, "", "chmod 600"},
		{"world-readable", good, 0o604, "", "chmod 600"},
		{"group-writable", good, 0o620, "", "chmod 600"},
		{"garbage", []byte("not a key\n"), 0o600, "", "no PEM or OpenSSH private key"},
		{"empty", nil, 0o600, "", "no PEM or OpenSSH private key"},
		{"public key", pemBytes(t, "PUBLIC KEY", pubDER, nil), 0o600, "", "not a private key"},
		{"encrypted pkcs8", pemBytes(t, "ENCRYPTED PRIVATE KEY", []byte{0x30, 0x03, 1, 2, 3}, nil), 0o600, "", "ssh-keygen -p"},
		{"rsa2048", pkcs8(t, k["rsa2048"]), 0o600, "", "at least 3072"},
		{"rsa2048-openssh", openssh(t, k["rsa2048"]), 0o600, "", "at least 3072"},
		{"p521", pkcs8(t, k["p521"]), 0o600, "", "P-256 or P-384"},
		{"corrupt pkcs8", pemBytes(t, "PRIVATE KEY", []byte{0x30, 0x01, 0}, nil), 0o600, "", `cannot parse the "PRIVATE KEY" block`},
		{"unknown option", good, 0o600, "?passphrase=x", `unknown option "passphrase"`},
		{"bad env name", good, 0o600, "?passphrase-env=A-B", "passphrase-env must name"},
		{"two env names", good, 0o600, "?passphrase-env=A&passphrase-env=B", "passphrase-env must name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeKey(t, tc.data, tc.mode)
			s, err := Load(context.Background(), "file://"+path+tc.suffix, noEnv)
			if err == nil {
				t.Fatalf("Load succeeded (%T), want error containing %q", s, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "file") {
				t.Errorf("err = %v, want it to name file and contain %q", err, tc.want)
			}
			if leaks(err.Error(), tc.data) {
				t.Errorf("error leaks key material: %v", err)
			}
		})
	}
}

func TestLoadFilePaths(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, uri, want string }{
		{"missing", "file://" + filepath.Join(dir, "nope"), "cannot open key file"},
		{"directory", "file://" + dir, "not a regular file"},
		{"no path", "file://", "no path"},
		{"no path with query", "file://?passphrase-env=X", "no path"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.Chmod(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			_, err := Load(context.Background(), tc.uri, noEnv)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestLoadFileRelativePath(t *testing.T) {
	dir := t.TempDir()
	if _, err := Init(filepath.Join(dir, "ca"), "ssh", Ed25519); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	if _, err := Load(context.Background(), "file://ca/ssh-ca", noEnv); err != nil {
		t.Errorf("relative file://ca/ssh-ca: %v", err)
	}
}
