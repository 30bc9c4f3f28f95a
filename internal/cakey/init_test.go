package cakey

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// noEnv is a getenv that knows no variables.
func noEnv(string) string { return "" }

// checkAlg reports whether pub is of the algorithm alg.
func checkAlg(pub crypto.PublicKey, alg Algorithm) bool {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return alg == Ed25519
	case *ecdsa.PublicKey:
		return alg == ECDSAP256 && k.Curve == elliptic.P256()
	case *rsa.PublicKey:
		return (alg == RSA3072 && k.N.BitLen() == 3072) || (alg == RSA4096 && k.N.BitLen() == 4096)
	}
	return false
}

func fileMode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestInitLoadRoundTrip(t *testing.T) {
	tests := []struct {
		kind string
		alg  Algorithm
	}{
		{"ssh", Ed25519}, {"ssh", ECDSAP256}, {"ssh", RSA3072}, {"ssh", RSA4096},
		{"x509", Ed25519}, {"x509", ECDSAP256}, {"x509", RSA3072}, {"x509", RSA4096},
	}
	for _, tc := range tests {
		t.Run(tc.kind+"/"+string(tc.alg), func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "new", "ca") // missing: Init creates it
			paths, err := Init(dir, tc.kind, tc.alg)
			if err != nil {
				t.Fatalf("Init: %v", err)
			}
			if len(paths) != 2 {
				t.Fatalf("Init returned %v, want 2 paths", paths)
			}
			if m := fileMode(t, dir); m != 0o700 {
				t.Errorf("dir mode = %04o, want 0700", m)
			}
			if m := fileMode(t, paths[0]); m != 0o600 {
				t.Errorf("%s mode = %04o, want 0600", paths[0], m)
			}
			signer, err := Load(context.Background(), "file://"+paths[0], noEnv)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !checkAlg(signer.Public(), tc.alg) {
				t.Errorf("loaded key %T is not %s", signer.Public(), tc.alg)
			}
			pubData, err := os.ReadFile(paths[1])
			if err != nil {
				t.Fatal(err)
			}
			if tc.kind == "ssh" {
				checkSSHFiles(t, paths, pubData, signer)
			} else {
				checkX509Files(t, paths, pubData, signer)
			}
		})
	}
}

func checkSSHFiles(t *testing.T, paths []string, pubData []byte, signer crypto.Signer) {
	t.Helper()
	if want := filepath.Join(filepath.Dir(paths[0]), "ssh-ca"); paths[0] != want || paths[1] != want+".pub" {
		t.Errorf("paths = %v", paths)
	}
	if m := fileMode(t, paths[1]); m != 0o644 {
		t.Errorf("%s mode = %04o, want 0644", paths[1], m)
	}
	pub, comment, _, rest, err := ssh.ParseAuthorizedKey(pubData)
	if err != nil || len(rest) != 0 {
		t.Fatalf("ssh-ca.pub is not one authorized_keys line: %v (rest %q)", err, rest)
	}
	if comment != sshKeyComment {
		t.Errorf("comment = %q", comment)
	}
	got, err := ssh.NewPublicKey(signer.Public())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Marshal(), pub.Marshal()) {
		t.Errorf("loaded key does not match ssh-ca.pub")
	}
	// OpenSSH itself must read the private key (when ssh-keygen is here).
	if _, err := exec.LookPath("ssh-keygen"); err == nil {
		out, err := exec.Command("ssh-keygen", "-y", "-f", paths[0]).Output()
		if err != nil {
			t.Fatalf("ssh-keygen -y: %v", err)
		}
		if fields := strings.Fields(string(pubData)); !strings.HasPrefix(string(out), fields[0]+" "+fields[1]) {
			t.Errorf("ssh-keygen -y = %q, want %q", out, pubData)
		}
	}
}

func checkX509Files(t *testing.T, paths []string, pemData []byte, signer crypto.Signer) {
	t.Helper()
	if paths[0] != filepath.Join(filepath.Dir(paths[0]), "x509-ca.key") || filepath.Base(paths[1]) != "x509-ca.pem" {
		t.Errorf("paths = %v", paths)
	}
	if m := fileMode(t, paths[1]); m != 0o644 {
		t.Errorf("%s mode = %04o, want 0644", paths[1], m)
	}
	keyData, _ := os.ReadFile(paths[0])
	if b, _ := pem.Decode(keyData); b == nil || b.Type != "PRIVATE KEY" {
		t.Errorf("x509-ca.key is not a PKCS#8 PEM")
	}
	block, rest := pem.Decode(pemData)
	if block == nil || block.Type != "CERTIFICATE" || len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("x509-ca.pem is not one CERTIFICATE block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if pk, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !pk.Equal(signer.Public()) {
		t.Errorf("loaded key does not match the certificate's")
	}
	if err := cert.CheckSignatureFrom(cert); err != nil {
		t.Errorf("not self-signed: %v", err)
	}
	if cert.Subject.CommonName != "jit-policy CA" || !cert.IsCA || !cert.BasicConstraintsValid {
		t.Errorf("subject %q IsCA %v", cert.Subject.CommonName, cert.IsCA)
	}
	if cert.MaxPathLen != 0 || !cert.MaxPathLenZero {
		t.Errorf("MaxPathLen = %d (zero %v), want 0", cert.MaxPathLen, cert.MaxPathLenZero)
	}
	if cert.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Errorf("KeyUsage = %v", cert.KeyUsage)
	}
	if d := cert.NotAfter.Sub(cert.NotBefore); d < 3650*24*time.Hour || d > 3654*24*time.Hour {
		t.Errorf("validity = %v, want 10 years", d)
	}
	if cert.NotBefore.After(time.Now()) {
		t.Errorf("NotBefore %v is in the future", cert.NotBefore)
	}
}

func TestInitDefaultAlgorithm(t *testing.T) {
	paths, err := Init(t.TempDir(), "ssh", "")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Load(context.Background(), "file://"+paths[0], noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if !checkAlg(s.Public(), Ed25519) {
		t.Errorf("default algorithm gave %T, want Ed25519", s.Public())
	}
}

func TestInitRefusesOverwrite(t *testing.T) {
	tests := []struct {
		kind     string
		existing []string
	}{
		{"ssh", []string{"ssh-ca"}},
		{"ssh", []string{"ssh-ca.pub"}},
		{"ssh", []string{"ssh-ca", "ssh-ca.pub"}},
		{"x509", []string{"x509-ca.key"}},
		{"x509", []string{"x509-ca.pem"}},
	}
	for _, tc := range tests {
		t.Run(tc.kind+"/"+strings.Join(tc.existing, "+"), func(t *testing.T) {
			dir := t.TempDir()
			for _, name := range tc.existing {
				if err := os.WriteFile(filepath.Join(dir, name), []byte("keep"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Init(dir, tc.kind, Ed25519)
			if err == nil || !strings.Contains(err.Error(), "refusing to overwrite") {
				t.Fatalf("Init over %v: err = %v, want refusal", tc.existing, err)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != len(tc.existing) {
				t.Errorf("Init wrote files despite refusing: %v", entries)
			}
			for _, name := range tc.existing {
				if b, _ := os.ReadFile(filepath.Join(dir, name)); string(b) != "keep" {
					t.Errorf("%s was changed", name)
				}
			}
		})
	}
}

func TestInitSecondRunRefused(t *testing.T) {
	dir := t.TempDir()
	first, err := Init(dir, "x509", ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(first[0])
	if _, err := Init(dir, "x509", ECDSAP256); err == nil {
		t.Fatal("second Init succeeded")
	}
	if after, _ := os.ReadFile(first[0]); !bytes.Equal(before, after) {
		t.Error("second Init changed the key")
	}
}

func TestInitErrors(t *testing.T) {
	tests := []struct {
		name, dir, kind string
		alg             Algorithm
		want            string
	}{
		{"kind", "d", "pgp", Ed25519, `unknown CA kind "pgp"`},
		{"alg", "d", "ssh", "rsa-2048", `unknown algorithm "rsa-2048"`},
		{"no dir", "", "ssh", Ed25519, "no directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			dir := tc.dir
			if dir != "" {
				dir = filepath.Join(base, dir)
			}
			_, err := Init(dir, tc.kind, tc.alg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
			if dir != "" {
				if _, err := os.Stat(dir); err == nil {
					t.Errorf("Init created %s despite the error", dir)
				}
			}
		})
	}
}
