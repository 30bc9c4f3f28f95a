package cakey

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/signature/kms"
	"golang.org/x/crypto/ssh"

	"github.com/jit-policy/jit-policy/internal/cakey/kmstest"
)

// TestUnknownSchemeRunsNoPlugin puts fake sigstore-kms-<scheme> plugins on
// PATH that would create a marker file, and checks that Load refuses every
// other scheme without running them. A control shows that sigstore's own
// kms.Get does run such a plugin, so the fakes are real.
func TestUnknownSchemeRunsNoPlugin(t *testing.T) {
	bin, markers := t.TempDir(), t.TempDir()
	for _, name := range []string{"evil", "EVIL", "AWSKMS", "http", "fakekms", "file"} {
		script := "#!/bin/sh\ntouch '" + filepath.Join(markers, name) + "'\nexit 1\n"
		if err := os.WriteFile(filepath.Join(bin, "sigstore-kms-"+name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))

	tests := []struct{ uri, want string }{
		{"evil://key", `unsupported CA key scheme "evil"`},
		{"EVIL://key", `unsupported CA key scheme "EVIL"`},
		{"AWSKMS:///alias/x", `unsupported CA key scheme "AWSKMS"`},
		{"http://example.com/key", `unsupported CA key scheme "http"`},
		{"fakekms://key", `unsupported CA key scheme "fakekms"`},
		{"FILE:///tmp/key", `unsupported CA key scheme "FILE"`},
		{"awskms:/alias/x", "has no scheme"},
		{"ca/ssh-ca", "has no scheme"},
		{"", "has no scheme"},
	}
	for _, tc := range tests {
		t.Run(tc.uri, func(t *testing.T) {
			s, err := Load(context.Background(), tc.uri, noEnv)
			if err == nil {
				t.Fatalf("Load(%q) = %T, want error", tc.uri, s)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "awskms://") {
				t.Errorf("err = %v, want %q and the accepted schemes", err, tc.want)
			}
		})
	}
	if entries, _ := os.ReadDir(markers); len(entries) != 0 {
		t.Fatalf("a KMS plugin was executed: markers %v", entries)
	}

	// Control: sigstore alone would run the plugin.
	sv, err := kms.Get(context.Background(), "evil://key", crypto.SHA256)
	if err == nil {
		_, _ = sv.PublicKey()
	}
	if _, err := os.Stat(filepath.Join(markers, "evil")); err != nil {
		t.Errorf("control: kms.Get did not run sigstore-kms-evil (%v); the fake plugin test proves nothing", err)
	}
}

// TestKnownSchemesReachProvider checks that each known scheme goes to its
// sigstore provider: a malformed reference is rejected by the provider
// (before any network use) with an error naming the scheme.
func TestKnownSchemesReachProvider(t *testing.T) {
	for _, uri := range []string{"awskms://", "gcpkms://not-a-key", "azurekms://", "hashivault://"} {
		t.Run(uri, func(t *testing.T) {
			_, err := Load(context.Background(), uri, noEnv)
			s := strings.TrimSuffix(uri[:strings.Index(uri, "://")+3], "://")
			if err == nil || !strings.Contains(err.Error(), "cakey: "+s+":") {
				t.Errorf("err = %v, want an error naming %s", err, s)
			}
			if err != nil && strings.Contains(err.Error(), "unsupported CA key scheme") {
				t.Errorf("known scheme refused as unknown: %v", err)
			}
		})
	}
}

// TestAWSKMSUnreachable loads an awskms key from an endpoint where nothing
// listens: Load itself fails, naming the scheme.
func TestAWSKMSUnreachable(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_KMS": "http://127.0.0.1:1", "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_CONFIG_FILE": filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "none"),
	} {
		t.Setenv(k, v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := Load(ctx, "awskms:///alias/nowhere", noEnv)
	if err == nil || !strings.Contains(err.Error(), "cakey: awskms:") {
		t.Errorf("err = %v, want an awskms error", err)
	}
}

// TestAWSKMSInNamespace runs against local-kms in a private network
// namespace (see package kmstest): an ECC_NIST_P256 key signs an SSH
// certificate and an X.509 certificate through Load.
func TestAWSKMSInNamespace(t *testing.T) {
	key := kmstest.AWS(t, "jit-policy-cakey-test")
	if key == nil {
		return
	}
	ctx := context.Background()
	s, err := Load(ctx, key.URI, noEnv)
	if err != nil {
		t.Fatalf("Load(%s): %v", key.URI, err)
	}
	if !samePublic(s.Public(), key.Public) {
		t.Errorf("Load's public key differs from the created key's")
	}
	ca, err := NewSSHSigner(s)
	if err != nil {
		t.Fatal(err)
	}
	if cert := signAndCheckCert(t, ca); cert != nil && cert.Signature.Format != ssh.KeyAlgoECDSA256 {
		t.Errorf("signature format = %q", cert.Signature.Format)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "kms CA"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, s.Public(), s)
	if err != nil {
		t.Fatalf("X.509 signing through KMS: %v", err)
	}
	if cert, err := x509.ParseCertificate(der); err != nil || cert.CheckSignatureFrom(cert) != nil {
		t.Errorf("KMS-signed X.509 certificate does not verify (%v)", err)
	}
	if _, err := Load(ctx, "awskms:///alias/does-not-exist", noEnv); err == nil || !strings.Contains(err.Error(), "cakey: awskms:") {
		t.Errorf("missing alias: err = %v, want an awskms error", err)
	}
}

// fakeRemote is a crypto.Signer whose Sign is supplied by the test.
type fakeRemote struct {
	pub  crypto.PublicKey
	sign func(digest []byte, opts crypto.SignerOpts) ([]byte, error)
}

func (f fakeRemote) Public() crypto.PublicKey { return f.pub }
func (f fakeRemote) Sign(_ io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	return f.sign(d, o)
}

// TestVerifiedSigner checks that a KMS signature that does not verify as
// requested (e.g. RSA-PSS from an AWS key when SSH asks for PKCS#1 v1.5
// SHA-512) is refused rather than returned.
func TestVerifiedSigner(t *testing.T) {
	rk := testKeys()["rsa3072"].(*rsa.PrivateKey)
	ek := testKeys()["p256"]
	tests := []struct {
		name string
		key  crypto.Signer
		sign func([]byte, crypto.SignerOpts) ([]byte, error)
		want string // "" means success
	}{
		{"rsa pkcs1v15", rk, func(d []byte, o crypto.SignerOpts) ([]byte, error) { return rk.Sign(rand.Reader, d, o) }, ""},
		{"rsa pss instead", rk, func(d []byte, o crypto.SignerOpts) ([]byte, error) {
			return rsa.SignPSS(rand.Reader, rk, crypto.SHA512, d, nil)
		}, "does not verify"},
		{"ecdsa", ek, func(d []byte, o crypto.SignerOpts) ([]byte, error) { return ek.Sign(rand.Reader, d, o) }, ""},
		{"ecdsa garbage", ek, func([]byte, crypto.SignerOpts) ([]byte, error) { return []byte{0x30, 0}, nil }, "does not verify"},
		{"kms error", ek, func([]byte, crypto.SignerOpts) ([]byte, error) { return nil, errors.New("throttled") }, "signing: throttled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := &verifiedSigner{signer: fakeRemote{tc.key.Public(), tc.sign}, pub: tc.key.Public(), scheme: "awskms"}
			h := sha512.Sum512([]byte("data"))
			_, err := v.Sign(rand.Reader, h[:], crypto.SHA512)
			if tc.want == "" && err != nil {
				t.Errorf("Sign: %v", err)
			}
			if tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "awskms")) {
				t.Errorf("err = %v, want %q naming awskms", err, tc.want)
			}
		})
	}
}
