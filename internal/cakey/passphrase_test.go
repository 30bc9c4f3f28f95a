package cakey

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// envOf returns a getenv over a fixed map.
func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadEncryptedOpenSSH(t *testing.T) {
	const pass = "correct horse battery staple"
	k := testKeys()
	// Encrypt each key once: the bcrypt KDF is deliberately slow.
	encrypted := map[string][]byte{}
	for _, name := range []string{"ed25519", "p256", "p384", "rsa3072"} {
		encrypted[name] = opensshBytes(t, k[name], pass)
	}
	tests := []struct {
		name   string
		key    string // in testKeys
		suffix string
		env    map[string]string
		want   string // "" means success
	}{
		{"default env", "ed25519", "", map[string]string{"JIT_CA_PASSPHRASE": pass}, ""},
		{"named env", "p256", "?passphrase-env=MY_CA_PASS", map[string]string{"MY_CA_PASS": pass}, ""},
		{"rsa named env", "rsa3072", "?passphrase-env=MY_CA_PASS", map[string]string{"MY_CA_PASS": pass}, ""},
		{"missing", "ed25519", "", nil, "set the environment variable JIT_CA_PASSPHRASE"},
		{"named env missing", "ed25519", "?passphrase-env=MY_CA_PASS", map[string]string{"JIT_CA_PASSPHRASE": pass}, "set the environment variable MY_CA_PASS"},
		{"wrong", "ed25519", "", map[string]string{"JIT_CA_PASSPHRASE": "hunter2"}, "passphrase in JIT_CA_PASSPHRASE does not decrypt"},
		{"wrong named", "p384", "?passphrase-env=P", map[string]string{"P": "hunter2"}, "passphrase in P does not decrypt"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := encrypted[tc.key]
			path := writeKey(t, data, 0o600)
			s, err := Load(context.Background(), "file://"+path+tc.suffix, envOf(tc.env))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if !samePublic(s.Public(), k[tc.key].Public()) {
					t.Errorf("loaded public key differs")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if leaks(err.Error(), data, pass, "hunter2") {
				t.Errorf("error leaks key material or passphrase: %v", err)
			}
		})
	}
}

// TestLoadSSHKeygenEncrypted loads keys that OpenSSH's own ssh-keygen wrote
// with a passphrase (-N), in its own format and as legacy encrypted PEM.
func TestLoadSSHKeygenEncrypted(t *testing.T) {
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Skip("ssh-keygen not found (apt-get install openssh-client); the x/crypto-encrypted case still runs")
	}
	const pass = "s3cret passphrase"
	tests := []struct{ name, typ, bits, format string }{
		{"ed25519", "ed25519", "", ""},
		{"ecdsa-384", "ecdsa", "384", ""},
		{"rsa-3072", "rsa", "3072", ""},
		{"ecdsa-256-legacy-pem", "ecdsa", "256", "PEM"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "ca")
			args := []string{"-q", "-t", tc.typ, "-N", pass, "-C", "ca", "-f", path}
			if tc.bits != "" {
				args = append(args, "-b", tc.bits)
			}
			if tc.format != "" {
				args = append(args, "-m", tc.format)
			}
			if out, err := exec.Command("ssh-keygen", args...).CombinedOutput(); err != nil {
				t.Fatalf("ssh-keygen: %v: %s", err, out)
			}
			if tc.format == "PEM" {
				if b, _ := os.ReadFile(path); !strings.Contains(string(b), "Proc-Type: 4,ENCRYPTED") {
					t.Fatalf("ssh-keygen -m PEM did not write a legacy encrypted PEM:\n%.60s", b)
				}
			}
			pubData, err := os.ReadFile(path + ".pub")
			if err != nil {
				t.Fatal(err)
			}
			want, _, _, _, err := ssh.ParseAuthorizedKey(pubData)
			if err != nil {
				t.Fatal(err)
			}
			uri := "file://" + path + "?passphrase-env=CA_PASS"
			if _, err := Load(context.Background(), uri, noEnv); err == nil || !strings.Contains(err.Error(), "CA_PASS") {
				t.Errorf("without passphrase: err = %v, want it to name CA_PASS", err)
			}
			if _, err := Load(context.Background(), uri, envOf(map[string]string{"CA_PASS": "nope"})); err == nil || !strings.Contains(err.Error(), "does not decrypt") {
				t.Errorf("wrong passphrase: err = %v", err)
			}
			s, err := Load(context.Background(), uri, envOf(map[string]string{"CA_PASS": pass}))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			got, err := ssh.NewPublicKey(s.Public())
			if err != nil {
				t.Fatal(err)
			}
			if string(got.Marshal()) != string(want.Marshal()) {
				t.Errorf("loaded key does not match ssh-keygen's .pub")
			}
		})
	}
}

// TestLoadDefaultGetenv checks that a nil getenv reads the process environment.
func TestLoadDefaultGetenv(t *testing.T) {
	const pass = "from the environment"
	path := writeKey(t, opensshBytes(t, testKeys()["ed25519"], pass), 0o600)
	t.Setenv("JIT_CA_PASSPHRASE", pass)
	if _, err := Load(context.Background(), "file://"+path, nil); err != nil {
		t.Errorf("Load with nil getenv: %v", err)
	}
}
