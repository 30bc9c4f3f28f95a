package seal

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/pem"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"filippo.io/age/armor"
	"golang.org/x/crypto/ssh"
)

type testKeys struct {
	edPriv  ed25519.PrivateKey
	edLine  string
	rsaPriv *rsa.PrivateKey
	rsaLine string
}

var cachedKeys *testKeys

func keys(t testing.TB) *testKeys {
	t.Helper()
	if cachedKeys != nil {
		return cachedKeys
	}
	edPub, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("ed25519: %v", err)
	}
	rsaPriv, err := rsa.GenerateKey(rand.Reader, 3072)
	if err != nil {
		t.Fatalf("rsa: %v", err)
	}
	cachedKeys = &testKeys{
		edPriv:  edPriv,
		edLine:  authorizedKey(t, edPub) + " alice@laptop",
		rsaPriv: rsaPriv,
		rsaLine: authorizedKey(t, &rsaPriv.PublicKey),
	}
	return cachedKeys
}

func authorizedKey(t testing.TB, pub any) string {
	t.Helper()
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatalf("ssh.NewPublicKey: %v", err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp)))
}

func decrypt(t *testing.T, sealed string, id age.Identity) string {
	t.Helper()
	r, err := age.Decrypt(armor.NewReader(strings.NewReader(sealed)), id)
	if err != nil {
		t.Fatalf("age.Decrypt: %v", err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read plaintext: %v", err)
	}
	return string(b)
}

func TestSealSSHRoundTrip(t *testing.T) {
	k := keys(t)
	rs, err := Recipients([]string{k.edLine, k.rsaLine})
	if err != nil {
		t.Fatalf("Recipients: %v", err)
	}
	if len(rs) != 2 || rs[0].Type != "ssh-ed25519" || rs[1].Type != "ssh-rsa" {
		t.Fatalf("recipients = %+v", rs)
	}
	for _, r := range rs {
		if !strings.HasPrefix(r.Fingerprint, "SHA256:") {
			t.Fatalf("fingerprint %q, want SHA256:…", r.Fingerprint)
		}
	}
	const secret = "postgres password: hunter2\n"
	sealed, err := Seal([]byte(secret), rs)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if !strings.HasPrefix(sealed, "-----BEGIN AGE ENCRYPTED FILE-----\n") || !strings.HasSuffix(sealed, "-----END AGE ENCRYPTED FILE-----\n") {
		t.Fatalf("not armored:\n%s", sealed)
	}
	if strings.Contains(sealed, "hunter2") {
		t.Fatalf("plaintext visible in sealed output")
	}

	edID, err := agessh.NewEd25519Identity(k.edPriv)
	if err != nil {
		t.Fatalf("NewEd25519Identity: %v", err)
	}
	if got := decrypt(t, sealed, edID); got != secret {
		t.Fatalf("ed25519 decrypt = %q, want %q", got, secret)
	}
	rsaID, err := agessh.NewRSAIdentity(k.rsaPriv)
	if err != nil {
		t.Fatalf("NewRSAIdentity: %v", err)
	}
	if got := decrypt(t, sealed, rsaID); got != secret {
		t.Fatalf("rsa decrypt = %q, want %q", got, secret)
	}

	// A key that is not a recipient cannot open it.
	_, otherPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("ed25519: %v", err)
	}
	otherID, err := agessh.NewEd25519Identity(otherPriv)
	if err != nil {
		t.Fatalf("NewEd25519Identity: %v", err)
	}
	if _, err := age.Decrypt(armor.NewReader(strings.NewReader(sealed)), otherID); err == nil {
		t.Fatalf("decrypt with a non-recipient key succeeded")
	}
}

func TestSealAgeX25519RoundTrip(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatalf("GenerateX25519Identity: %v", err)
	}
	pub := id.Recipient().String()
	rs, err := Recipients([]string{" " + pub + "\n", pub})
	if err != nil {
		t.Fatalf("Recipients: %v", err)
	}
	if len(rs) != 1 || rs[0].Type != "age" || rs[0].Fingerprint != pub {
		t.Fatalf("recipients = %+v, want one age recipient %s", rs, pub)
	}
	sealed, err := Seal([]byte("AKIA…"), rs)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if got := decrypt(t, sealed, id); got != "AKIA…" {
		t.Fatalf("decrypt = %q", got)
	}
}

func TestSealOutputsRoundTrip(t *testing.T) {
	k := keys(t)
	rs, err := Recipients([]string{k.edLine})
	if err != nil {
		t.Fatalf("Recipients: %v", err)
	}
	outs := []Output{
		{"aws_access_key_id", "AKIAEXAMPLE"},
		{"aws_secret_access_key", "s3cr=t/+x"},
		{"empty", ""},
		{"pem", "-----BEGIN X-----\nabc\nEOF\n-----END X-----\n"},
		{"crlf", "a\r\nb"},
	}
	sealed, err := SealOutputs(outs, rs)
	if err != nil {
		t.Fatalf("SealOutputs: %v", err)
	}
	id, err := agessh.NewEd25519Identity(k.edPriv)
	if err != nil {
		t.Fatalf("NewEd25519Identity: %v", err)
	}
	text := decrypt(t, sealed, id)
	want := "aws_access_key_id=AKIAEXAMPLE\n" +
		"aws_secret_access_key=s3cr=t/+x\n" +
		"empty=\n" +
		"pem<<EOF_1\n-----BEGIN X-----\nabc\nEOF\n-----END X-----\n\nEOF_1\n" +
		"crlf<<EOF\na\r\nb\nEOF\n"
	if text != want {
		t.Fatalf("plaintext =\n%q\nwant\n%q", text, want)
	}
}

func TestFormatOutputsRefusals(t *testing.T) {
	for _, outs := range [][]Output{
		nil,
		{{"", "x"}},
		{{"a=b", "x"}},
		{{"a b", "x"}},
		{{"a<<", "x"}},
		{{"a", "1"}, {"a", "2"}},
	} {
		if _, err := FormatOutputs(outs); err == nil {
			t.Fatalf("FormatOutputs(%q) succeeded", outs)
		}
	}
}

func TestRecipientsRefusals(t *testing.T) {
	k := keys(t)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("ecdsa: %v", err)
	}
	ecLine := authorizedKey(t, &ecKey.PublicKey)

	edPub := k.edPriv.Public().(ed25519.PublicKey)
	skLine := "sk-ssh-ed25519@openssh.com " + b64(ssh.Marshal(struct {
		Name, Key, App string
	}{"sk-ssh-ed25519@openssh.com", string(edPub), "ssh:"}))

	_, caPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("ed25519: %v", err)
	}
	caSigner, err := ssh.NewSignerFromKey(caPriv)
	if err != nil {
		t.Fatalf("NewSignerFromKey: %v", err)
	}
	edSSH, err := ssh.NewPublicKey(edPub)
	if err != nil {
		t.Fatalf("NewPublicKey: %v", err)
	}
	cert := &ssh.Certificate{Key: edSSH, CertType: ssh.UserCert, KeyId: "alice", ValidPrincipals: []string{"alice"}, ValidBefore: ssh.CertTimeInfinity}
	if err := cert.SignCert(rand.Reader, caSigner); err != nil {
		t.Fatalf("SignCert: %v", err)
	}
	certLine := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(cert)))

	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatalf("rsa 1024: %v", err)
	}
	rsa1024Line := authorizedKey(t, &rsa1024.PublicKey)

	for _, tc := range []struct {
		name string
		keys []string
		want []string // substrings of the error
	}{
		{"empty list", nil, []string{"no recipient"}},
		{"empty string", []string{" "}, []string{"empty key"}},
		{"ecdsa", []string{ecLine}, []string{"ecdsa-sha2-nistp256", "unsupported key type", "ssh-ed25519", "ssh-rsa"}},
		{"sk", []string{skLine}, []string{"sk-ssh-ed25519@openssh.com", "unsupported key type", "ssh-ed25519"}},
		{"certificate", []string{certLine}, []string{"ssh-ed25519-cert-v01@openssh.com", "certificates are not supported", "ssh-rsa"}},
		{"rsa 1024", []string{rsa1024Line}, []string{"1024-bit RSA key refused", "2048"}},
		{"garbage", []string{"not a key at all"}, []string{"not an age X25519 recipient or OpenSSH public key"}},
		{"bad base64", []string{"ssh-ed25519 AAAA!!!"}, []string{"not an age X25519 recipient or OpenSSH public key"}},
		{"bad age", []string{"age1notvalid"}, []string{"invalid age X25519 recipient"}},
		{"options", []string{`command="true" ` + k.edLine}, []string{"options are not allowed"}},
		{"two lines", []string{k.edLine + "\n" + k.rsaLine}, []string{"one key per recipient"}},
		{"one bad among good", []string{k.edLine, ecLine}, []string{"recipient 2", "ecdsa-sha2-nistp256"}},
	} {
		rs, err := Recipients(tc.keys)
		if err == nil {
			t.Fatalf("%s: Recipients succeeded: %+v", tc.name, rs)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Fatalf("%s: error %q does not contain %q", tc.name, err, w)
			}
		}
	}

	if _, err := Seal([]byte("x"), nil); err == nil {
		t.Fatalf("Seal with no recipients succeeded")
	}
	if _, err := Seal([]byte("x"), []Recipient{{}}); err == nil {
		t.Fatalf("Seal with an empty recipient succeeded")
	}
}

func TestFromGitHubKeys(t *testing.T) {
	k := keys(t)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("ecdsa: %v", err)
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatalf("GenerateX25519Identity: %v", err)
	}
	// GitHub returns "type base64" without a comment.
	edNoComment := strings.Join(strings.Fields(k.edLine)[:2], " ")
	rs, skipped := FromGitHubKeys([]string{
		edNoComment,
		authorizedKey(t, &ecKey.PublicKey),
		k.rsaLine,
		k.edLine, // duplicate of the first
		"garbage",
		id.Recipient().String(), // age keys are not GitHub SSH keys
	})
	if len(rs) != 2 || rs[0].Type != "ssh-ed25519" || rs[1].Type != "ssh-rsa" {
		t.Fatalf("recipients = %+v", rs)
	}
	if len(skipped) != 3 || !strings.HasPrefix(skipped[0], "ecdsa-sha2-nistp256 SHA256:") {
		t.Fatalf("skipped = %q", skipped)
	}
	if rs, skipped := FromGitHubKeys(nil); len(rs) != 0 || len(skipped) != 0 {
		t.Fatalf("FromGitHubKeys(nil) = %v, %q", rs, skipped)
	}
}

// ageVersion is the filippo.io/age version this module builds with.
func ageVersion(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "filippo.io/age").Output()
	if err != nil {
		t.Fatalf("go list -m filippo.io/age: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// TestREADMEDecryptCommand runs the age CLI, built from the filippo.io/age
// module in go.mod, exactly as DecryptCommand tells the requester to.
func TestREADMEDecryptCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the age CLI")
	}
	if DecryptCommand != "age -d -i ~/.ssh/id_ed25519 secret.age" {
		t.Fatalf("DecryptCommand = %q", DecryptCommand)
	}
	k := keys(t)
	dir := t.TempDir()
	ageBin := filepath.Join(dir, "age")
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	// Built in a module of its own (the CLI needs modules ours does not),
	// at the version go.mod pins.
	mod := filepath.Join(dir, "agecli")
	if err := os.MkdirAll(mod, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module agecli\n\ngo 1.26\n\nrequire filippo.io/age "+ageVersion(t)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	build := exec.Command(gobin, "build", "-o", ageBin, "filippo.io/age/cmd/age")
	build.Dir = mod
	build.Env = append(os.Environ(), "GOTOOLCHAIN=local", "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	if out, err := build.CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("building the age CLI (filippo.io/age/cmd/age): %v\n%s", err, out)
		}
		t.Skipf("cannot build the age CLI (filippo.io/age/cmd/age): %v\n%s", err, out)
	}

	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatalf("mkdir: %v", err)
	}
	writeKey := func(name string, priv any) {
		block, err := ssh.MarshalPrivateKey(priv, "")
		if err != nil {
			t.Fatalf("MarshalPrivateKey: %v", err)
		}
		if err := os.WriteFile(filepath.Join(home, ".ssh", name), pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatalf("write key: %v", err)
		}
	}
	writeKey("id_ed25519", k.edPriv)
	writeKey("id_rsa", k.rsaPriv)

	rs, err := Recipients([]string{k.edLine, k.rsaLine})
	if err != nil {
		t.Fatalf("Recipients: %v", err)
	}
	outs := []Output{{"password", "hunter2"}, {"note", "two\nlines"}}
	sealed, err := SealOutputs(outs, rs)
	if err != nil {
		t.Fatalf("SealOutputs: %v", err)
	}
	work := filepath.Join(dir, "work")
	if err := os.MkdirAll(work, 0o700); err != nil {
		t.Fatalf("mkdir: %v", err)
	}
	if err := os.WriteFile(filepath.Join(work, "secret.age"), []byte(sealed), 0o600); err != nil {
		t.Fatalf("write secret.age: %v", err)
	}

	want := "password=hunter2\nnote<<EOF\ntwo\nlines\nEOF\n"
	for _, key := range []string{"id_ed25519", "id_rsa"} {
		// The README command, with ~ expanded as the shell would.
		args := strings.Fields(strings.Replace(DecryptCommand, "id_ed25519", key, 1))
		for i, a := range args {
			if rest, ok := strings.CutPrefix(a, "~/"); ok {
				args[i] = filepath.Join(home, rest)
			}
		}
		cmd := exec.Command(ageBin, args[1:]...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "HOME="+home)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: age %q: %v\n%s", key, args[1:], err, stderr.String())
		}
		if string(out) != want {
			t.Fatalf("%s: age -d output = %q, want %q", key, out, want)
		}
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
