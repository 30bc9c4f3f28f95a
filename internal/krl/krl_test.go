package krl

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

const bigSerial = 1<<63 + 5 // does not fit in an int64

// sshKeygen returns the path of ssh-keygen. Without it the test is skipped,
// or fails when CI=true so that CI cannot silently lose coverage.
func sshKeygen(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("ssh-keygen")
	if err != nil {
		if _, serr := os.Stat("/usr/bin/ssh-keygen"); serr == nil {
			return "/usr/bin/ssh-keygen"
		}
		if os.Getenv("CI") == "true" {
			t.Fatalf("ssh-keygen not found (%v) and CI=true: install openssh-client", err)
		}
		t.Skipf("ssh-keygen not found (%v): install openssh-client to run this test", err)
	}
	return p
}

// newCA returns an Ed25519 signer; a nil seed means a random key.
func newCA(t *testing.T, seed []byte) ssh.Signer {
	t.Helper()
	var priv ed25519.PrivateKey
	if seed == nil {
		var err error
		if _, priv, err = ed25519.GenerateKey(rand.Reader); err != nil {
			t.Fatalf("generating CA key: %v", err)
		}
	} else {
		priv = ed25519.NewKeyFromSeed(seed)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatalf("making CA signer: %v", err)
	}
	return s
}

// writeCert issues a user certificate signed by ca and writes it, in
// authorized_keys format as ssh-keygen writes *-cert.pub, under dir.
func writeCert(t *testing.T, dir, name string, ca ssh.Signer, serial uint64, keyID string) string {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("generating user key: %v", err)
	}
	pub, err := ssh.NewPublicKey(priv.Public())
	if err != nil {
		t.Fatalf("wrapping user key: %v", err)
	}
	cert := &ssh.Certificate{
		Key:             pub,
		Serial:          serial,
		CertType:        ssh.UserCert,
		KeyId:           keyID,
		ValidPrincipals: []string{"deploy"},
		ValidBefore:     ssh.CertTimeInfinity,
	}
	if err := cert.SignCert(rand.Reader, ca); err != nil {
		t.Fatalf("signing certificate %s: %v", name, err)
	}
	p := filepath.Join(dir, name+"-cert.pub")
	if err := os.WriteFile(p, ssh.MarshalAuthorizedKey(cert), 0o644); err != nil {
		t.Fatalf("writing certificate %s: %v", name, err)
	}
	return p
}

// queryRevoked runs `ssh-keygen -Q -f krlPath certPath` and reports whether
// the certificate is revoked. ssh-keygen exits 0 and prints "PATH (COMMENT):
// ok" when the key is not revoked, exits 1 and prints "...: REVOKED" when it
// is, and exits 255 when the KRL cannot be loaded; anything else fails the
// test.
func queryRevoked(t *testing.T, keygen, krlPath, certPath string) bool {
	t.Helper()
	out, err := exec.Command(keygen, "-Q", "-f", krlPath, certPath).CombinedOutput()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("running ssh-keygen -Q: %v", err)
		}
		code = ee.ExitCode()
	}
	switch {
	case code == 0 && bytes.Contains(out, []byte(": ok")) && !bytes.Contains(out, []byte("REVOKED")):
		return false
	case code == 1 && bytes.Contains(out, []byte("REVOKED")):
		return true
	}
	t.Fatalf("ssh-keygen -Q -f %s %s: exit %d, output:\n%s", krlPath, certPath, code, out)
	return false
}

func TestRevocationMatchesSSHKeygen(t *testing.T) {
	keygen := sshKeygen(t)
	dir := t.TempDir()
	ca := newCA(t, nil)
	otherCA := newCA(t, nil)

	// Every case checks every certificate. The other CA's certificates
	// reuse the main CA's serials and key IDs, so they would be reported
	// revoked if the KRL were not scoped to the CA key.
	type cert struct {
		name   string
		ca     ssh.Signer
		serial uint64
		keyID  string
	}
	certs := []cert{
		{"s1", ca, 1, "alice@example.com"},
		{"s2", ca, 2, "bob"},
		{"s3", ca, 3, "dave"},
		{"big", ca, bigSerial, "carol"},
		{"max", ca, math.MaxUint64, "frank"},
		{"zero", ca, 0, "erin"},
		{"other-s1", otherCA, 1, "alice@example.com"},
		{"other-s2", otherCA, 2, "bob"},
		{"other-big", otherCA, bigSerial, "carol"},
	}
	paths := map[string]string{}
	for _, c := range certs {
		paths[c.name] = writeCert(t, dir, c.name, c.ca, c.serial, c.keyID)
	}

	tests := []struct {
		name        string
		serials     []uint64
		keyIDs      []string
		wantRevoked []string
	}{
		{name: "empty KRL revokes nothing"},
		{
			name:        "by serial",
			serials:     []uint64{2, bigSerial},
			wantRevoked: []string{"s2", "big"},
		},
		{
			name:        "by serial, largest",
			serials:     []uint64{math.MaxUint64},
			wantRevoked: []string{"max"},
		},
		{
			name:        "by key ID, exact match only",
			keyIDs:      []string{"alice@example.com", "erin", "car", "Bob"},
			wantRevoked: []string{"s1", "zero"},
		},
		{
			name:        "serials and key IDs, unsorted with duplicates",
			serials:     []uint64{bigSerial, 1, bigSerial, 1},
			keyIDs:      []string{"dave", "dave", "bob"},
			wantRevoked: []string{"s1", "s2", "s3", "big"},
		},
		{
			name:        "serial and key ID naming the same certificate",
			serials:     []uint64{3},
			keyIDs:      []string{"dave"},
			wantRevoked: []string{"s3"},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := Marshal(Spec{
				CAKey:       ca.PublicKey(),
				Serials:     tt.serials,
				KeyIDs:      tt.keyIDs,
				Version:     uint64(i + 1),
				GeneratedAt: time.Now(),
				Comment:     tt.name,
			})
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			krlPath := filepath.Join(t.TempDir(), "revoked_keys")
			if err := WriteFile(krlPath, data); err != nil {
				t.Fatalf("WriteFile: %v", err)
			}
			for _, c := range certs {
				got := queryRevoked(t, keygen, krlPath, paths[c.name])
				want := slices.Contains(tt.wantRevoked, c.name)
				if got != want {
					t.Errorf("certificate %s (serial %d, key ID %q, other CA %t): revoked = %t, want %t",
						c.name, c.serial, c.keyID, c.ca == otherCA, got, want)
				}
			}
		})
	}
}

// TestMarshalMatchesSSHKeygen compares Marshal's output byte for byte with
// the KRL `ssh-keygen -k` writes for the same revocations. ssh-keygen picks
// the most compact serial encoding (list, range or bitmap); for serials
// far apart that is a single sorted list, the only encoding Marshal uses,
// so the cases below use sparse serials. ssh-keygen cannot set a comment
// and stamps the current time, which is copied from its output.
func TestMarshalMatchesSSHKeygen(t *testing.T) {
	keygen := sshKeygen(t)
	ca := newCA(t, nil)
	dir := t.TempDir()
	caPath := filepath.Join(dir, "ca.pub")
	if err := os.WriteFile(caPath, ssh.MarshalAuthorizedKey(ca.PublicKey()), 0o644); err != nil {
		t.Fatalf("writing CA public key: %v", err)
	}

	tests := []struct {
		name    string
		serials []uint64
		keyIDs  []string
	}{
		{name: "empty"},
		{name: "one serial", serials: []uint64{1}},
		{name: "sparse serials", serials: []uint64{bigSerial, 1, 1_000_000, bigSerial}},
		{name: "key IDs", keyIDs: []string{"zed", "alice@example.com", "Bob", "alice", "zed"}},
		{
			name:    "serials and key IDs",
			serials: []uint64{1 << 40, 7, math.MaxUint64},
			keyIDs:  []string{"jit:ticket-123", "jit:ticket-12"},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var spec strings.Builder
			for _, s := range tt.serials {
				fmt.Fprintf(&spec, "serial: %d\n", s)
			}
			for _, id := range tt.keyIDs {
				fmt.Fprintf(&spec, "id: %s\n", id)
			}
			specPath := filepath.Join(t.TempDir(), "spec")
			if err := os.WriteFile(specPath, []byte(spec.String()), 0o600); err != nil {
				t.Fatalf("writing spec: %v", err)
			}
			version := uint64(100 + i)
			wantPath := filepath.Join(t.TempDir(), "krl")
			cmd := exec.Command(keygen, "-k", "-f", wantPath, "-s", caPath, "-z", fmt.Sprint(version), specPath)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("ssh-keygen -k: %v\n%s", err, out)
			}
			want, err := os.ReadFile(wantPath)
			if err != nil {
				t.Fatalf("reading ssh-keygen's KRL: %v", err)
			}
			// generated_date follows magic (8), format version (4) and
			// krl_version (8).
			if len(want) < 28 {
				t.Fatalf("ssh-keygen's KRL is only %d bytes", len(want))
			}
			generated := time.Unix(int64(be64(want[20:28])), 0)

			got, err := Marshal(Spec{
				CAKey:       ca.PublicKey(),
				Serials:     tt.serials,
				KeyIDs:      tt.keyIDs,
				Version:     version,
				GeneratedAt: generated,
			})
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Marshal differs from ssh-keygen -k\n got: %x\nwant: %x", got, want)
			}
		})
	}
}

func be64(b []byte) uint64 {
	var v uint64
	for _, c := range b[:8] {
		v = v<<8 | uint64(c)
	}
	return v
}

func TestMarshalErrors(t *testing.T) {
	ca := newCA(t, nil)
	caCert := &ssh.Certificate{Key: ca.PublicKey(), Serial: 9, CertType: ssh.UserCert, ValidPrincipals: []string{"deploy"}, ValidBefore: ssh.CertTimeInfinity}
	if err := caCert.SignCert(rand.Reader, ca); err != nil {
		t.Fatalf("signing certificate: %v", err)
	}

	tests := []struct {
		name    string
		spec    Spec
		wantErr string
	}{
		{"no CA key", Spec{Serials: []uint64{1}}, "CA key is required"},
		{"CA key is a certificate", Spec{CAKey: caCert, Serials: []uint64{1}}, "is a certificate"},
		{"serial 0 alone", Spec{CAKey: ca.PublicKey(), Serials: []uint64{0}}, "serial 0"},
		{"serial 0 among others", Spec{CAKey: ca.PublicKey(), Serials: []uint64{5, 0, 3}}, "serial 0"},
		{"empty key ID", Spec{CAKey: ca.PublicKey(), KeyIDs: []string{"a", ""}}, "empty key ID"},
		{"NUL in key ID", Spec{CAKey: ca.PublicKey(), KeyIDs: []string{"a\x00b"}}, "NUL"},
		{"NUL in comment", Spec{CAKey: ca.PublicKey(), Comment: "x\x00"}, "NUL"},
		{"generated before 1970", Spec{CAKey: ca.PublicKey(), GeneratedAt: time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC)}, "before 1970"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := Marshal(tt.spec)
			if err == nil {
				t.Fatalf("Marshal succeeded (%d bytes), want an error containing %q", len(data), tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Marshal error = %q, want it to contain %q", err, tt.wantErr)
			}
			if data != nil {
				t.Errorf("Marshal returned %d bytes alongside an error", len(data))
			}
		})
	}
}

func TestMarshalLeavesInputAlone(t *testing.T) {
	serials := []uint64{3, 1, 3}
	keyIDs := []string{"b", "a", "b"}
	if _, err := Marshal(Spec{CAKey: newCA(t, nil).PublicKey(), Serials: serials, KeyIDs: keyIDs}); err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if !slices.Equal(serials, []uint64{3, 1, 3}) {
		t.Errorf("Marshal modified Serials: %v", serials)
	}
	if !slices.Equal(keyIDs, []string{"b", "a", "b"}) {
		t.Errorf("Marshal modified KeyIDs: %q", keyIDs)
	}
}

func TestMarshalZeroGeneratedAt(t *testing.T) {
	data, err := Marshal(Spec{CAKey: newCA(t, nil).PublicKey()})
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if got := be64(data[20:28]); got != 0 {
		t.Errorf("generated_date for the zero time = %d, want 0", got)
	}
}

// goldenSpec is a fixed spec whose encoding is kept in testdata/golden.krl.
func goldenSpec(t *testing.T) Spec {
	return Spec{
		CAKey:       newCA(t, bytes.Repeat([]byte{0x42}, ed25519.SeedSize)).PublicKey(),
		Serials:     []uint64{bigSerial, 1, 2, 2},
		KeyIDs:      []string{"bob", "alice@example.com", "alice@example.com"},
		Version:     42,
		GeneratedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Comment:     "jit-policy golden KRL",
	}
}

func TestMarshalGolden(t *testing.T) {
	golden := filepath.Join("testdata", "golden.krl")
	spec := goldenSpec(t)
	got, err := Marshal(spec)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatalf("creating testdata: %v", err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatalf("updating golden file: %v", err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("reading golden file (run go test -run TestMarshalGolden -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Marshal output differs from %s (rerun with -update if the change is intended)\n got: %x\nwant: %x", golden, got, want)
	}

	// The same revocations in another order, with other duplicates, give
	// the same bytes.
	shuffled := spec
	shuffled.Serials = []uint64{2, 1, bigSerial, 1, 2}
	shuffled.KeyIDs = []string{"alice@example.com", "bob", "bob"}
	again, err := Marshal(shuffled)
	if err != nil {
		t.Fatalf("Marshal (shuffled): %v", err)
	}
	if !bytes.Equal(again, got) {
		t.Errorf("Marshal of the reordered spec differs\n got: %x\nwant: %x", again, got)
	}
}

// TestGoldenListsWithSSHKeygen checks that ssh-keygen loads the golden KRL
// and lists what the spec revokes (ssh-keygen merges serials 1 and 2 into
// a range when listing).
func TestGoldenListsWithSSHKeygen(t *testing.T) {
	keygen := sshKeygen(t)
	golden := filepath.Join("testdata", "golden.krl")
	out, err := exec.Command(keygen, "-Q", "-l", "-f", golden).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen -Q -l -f %s: %v\n%s", golden, err, out)
	}
	fp := ssh.FingerprintSHA256(goldenSpec(t).CAKey)
	for _, want := range []string{
		"# KRL version 42",
		"# Comment: jit-policy golden KRL",
		"# CA key ssh-ed25519 " + fp,
		"serial: 1-2",
		fmt.Sprintf("serial: %d", uint64(bigSerial)),
		"id: alice@example.com",
		"id: bob",
	} {
		if !strings.Contains(string(out), want+"\n") {
			t.Errorf("ssh-keygen -Q -l output lacks line %q; output:\n%s", want, out)
		}
	}
}
