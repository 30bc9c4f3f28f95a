// Package kmstest runs a test against local-kms, a real AWS KMS emulator,
// inside a private network namespace.
//
// local-kms listens on all interfaces and cannot be told otherwise, so it is
// never started in the host's network namespace: [AWS] re-executes the
// calling test's binary, restricted to that one test, under
// `unshare --net --pid --fork --kill-child` (plus --map-root-user when not
// root) with local-kms listening on 127.0.0.1:8080 inside. The PID namespace
// guarantees local-kms dies with the test.
//
// Requirements: local-kms (see [InstallCommand]) on PATH or in ~/go/bin,
// util-linux unshare, iproute2 ip, and permission to create namespaces. When
// one is missing the test fails if CI=true and is skipped otherwise.
package kmstest

import (
	"context"
	"crypto"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/signature/kms"
	_ "github.com/sigstore/sigstore/pkg/signature/kms/aws" // awskms:// provider
)

// InstallCommand installs the local-kms version these tests were written for.
const InstallCommand = "GOFLAGS=-mod=mod go install github.com/nsmithuk/local-kms@v0.0.0-20260228092603-2a5e92d09ab6"

// Endpoint is local-kms's address inside the namespace.
const Endpoint = "http://127.0.0.1:8080"

const insideEnv = "JIT_KMSTEST_INSIDE"

// Key is a KMS key created for the test.
type Key struct {
	URI    string           // awskms:///alias/NAME
	Public crypto.PublicKey // the key's public key, as returned on creation
}

// AWS must be the first call of a top-level test:
//
//	k := kmstest.AWS(t, "ssh-ca")
//	if k == nil {
//		return // ran (or was skipped) in the namespace
//	}
//	// use k.URI with AWS_* already pointing at local-kms
//
// Outside the namespace it runs the test again inside one, reports that run's
// result as this test's, and returns nil. Inside, it waits for local-kms,
// creates an ECC_NIST_P256 SIGN_VERIFY key with the alias "alias/"+alias,
// and returns it. The process environment there has AWS_ENDPOINT_URL_KMS,
// AWS_REGION and dummy credentials set, and no other AWS_* variables.
func AWS(t *testing.T, alias string) *Key {
	t.Helper()
	if os.Getenv(insideEnv) != "1" {
		runOutside(t)
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	waitListening(ctx, t)
	uri := "awskms:///alias/" + alias
	sv, err := kms.Get(ctx, uri, crypto.SHA256)
	if err != nil {
		t.Fatalf("kmstest: kms.Get(%s): %v", uri, err)
	}
	pub, err := sv.CreateKey(ctx, "ECC_NIST_P256")
	if err != nil {
		t.Fatalf("kmstest: creating %s: %v", uri, err)
	}
	return &Key{URI: uri, Public: pub}
}

// waitListening waits until local-kms accepts connections.
func waitListening(ctx context.Context, t *testing.T) {
	t.Helper()
	addr := strings.TrimPrefix(Endpoint, "http://")
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("kmstest: local-kms not listening on %s: %v", addr, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// unavailable fails (CI=true) or skips the test for a missing prerequisite.
func unavailable(t *testing.T, why string) {
	t.Helper()
	msg := fmt.Sprintf("kmstest: %s; install local-kms with `%s` (and util-linux unshare, iproute2 ip)", why, InstallCommand)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " [CI=true: this test may not be skipped]")
	}
	t.Skip(msg)
}

// findLocalKMS looks on PATH, then in GOBIN / GOPATH/bin / ~/go/bin.
func findLocalKMS() (string, error) {
	if p, err := exec.LookPath("local-kms"); err == nil {
		return p, nil
	}
	var dirs []string
	if d := os.Getenv("GOBIN"); d != "" {
		dirs = append(dirs, d)
	}
	if d := os.Getenv("GOPATH"); d != "" {
		dirs = append(dirs, filepath.Join(filepath.SplitList(d)[0], "bin"))
	}
	if h, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(h, "go", "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "local-kms")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("local-kms not found on PATH nor in %s", strings.Join(dirs, ", "))
}

const script = `ip link set lo up || exit 97
KMS_DATA_PATH="$KMSTEST_DATA" PORT=8080 "$KMSTEST_LOCAL_KMS" >"$KMSTEST_LOG" 2>&1 &
exec "$KMSTEST_BINARY" -test.run="$KMSTEST_RUN" -test.v -test.count=1 -test.timeout=2m`

// runOutside re-executes the test inside the namespace and reports on it.
func runOutside(t *testing.T) {
	t.Helper()
	if strings.Contains(t.Name(), "/") {
		t.Fatal("kmstest.AWS must be called from a top-level test, not a subtest")
	}
	localKMS, err := findLocalKMS()
	if err != nil {
		unavailable(t, err.Error())
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		unavailable(t, "unshare not found on PATH")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		unavailable(t, "ip not found on PATH")
	}
	flags := []string{"--net", "--pid", "--fork", "--kill-child"}
	if os.Geteuid() != 0 {
		flags = append([]string{"--map-root-user"}, flags...)
	}
	if out, err := exec.Command(unshare, append(flags, "true")...).CombinedOutput(); err != nil {
		unavailable(t, fmt.Sprintf("cannot create namespaces (%v: %s)", err, strings.TrimSpace(string(out))))
	}
	dir := t.TempDir()
	logPath := filepath.Join(dir, "local-kms.log")
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, unshare, append(flags, "sh", "-c", script)...)
	cmd.Env = append(withoutAWS(os.Environ()),
		insideEnv+"=1",
		"KMSTEST_DATA="+filepath.Join(dir, "data"),
		"KMSTEST_LOCAL_KMS="+localKMS,
		"KMSTEST_LOG="+logPath,
		"KMSTEST_BINARY="+os.Args[0],
		"KMSTEST_RUN=^"+regexp.QuoteMeta(t.Name())+"$",
		"AWS_ENDPOINT_URL_KMS="+Endpoint,
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=kmstest",
		"AWS_SECRET_ACCESS_KEY=kmstest",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE="+filepath.Join(dir, "no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "no-aws-credentials"),
	)
	out, err := cmd.CombinedOutput()
	passed := strings.Contains(string(out), "--- PASS: "+t.Name()+" ")
	if err != nil || !passed {
		kmsLog, _ := os.ReadFile(logPath)
		t.Fatalf("kmstest: %s inside the namespace did not pass (%v):\n%s\nlocal-kms log:\n%s", t.Name(), err, out, tail(kmsLog, 4000))
	}
	t.Logf("ran inside a private network namespace with local-kms:\n%s", out)
}

// withoutAWS drops AWS_* variables so no real account is ever used.
func withoutAWS(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, insideEnv+"=") {
			out = append(out, kv)
		}
	}
	return out
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
