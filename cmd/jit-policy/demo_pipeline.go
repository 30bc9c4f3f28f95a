package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jit-policy/jit-policy/examples"
	"github.com/jit-policy/jit-policy/internal/devoidc"
)

// demoConfig is the demo's jit-policy.yaml: the example's SSH role, a file
// CA, and the demo's own loopback OIDC issuer as the only trusted one.
const demoConfig = `version: jit-policy/v1
policy: ./policies
audit: file://audit.jsonl
oidc:
  - issuer: %s
    audience: jit-policy
leases: file://.jit/leases.db
krl: file://.jit/revoked.krl
issuers:
  ssh:
    ca_key: file://ca/ssh-ca
    ca_public_key: file://ca/ssh-ca.pub
    max_ttl: 1h
    roles:
      deploy: {principals: [deploy], max_ttl: 15m, critical_options: {source-address: 10.0.0.0/8}}
`

// demoPipeline issues an SSH certificate from the example policy for a
// locally minted CI token, shows it, and revokes it.
func demoPipeline(ctx context.Context, p demoParams, dir string) int {
	iss, err := devoidc.Start()
	if err != nil {
		fmt.Fprintf(p.err, "demo: %v\n", err)
		return exitError
	}
	defer iss.Close()
	config := filepath.Join(dir, "jit-policy.yaml")
	if err := os.WriteFile(config, fmt.Appendf(nil, demoConfig, iss.URL()), 0o600); err != nil {
		fmt.Fprintf(p.err, "demo: %v\n", err)
		return exitError
	}
	claims, err := exampleClaims()
	if err != nil {
		fmt.Fprintf(p.err, "demo: %v\n", err)
		return exitError
	}
	token, err := iss.Mint("jit-policy", claims)
	if err != nil {
		fmt.Fprintf(p.err, "demo: %v\n", err)
		return exitError
	}
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		fmt.Fprintf(p.err, "demo: %v\n", err)
		return exitError
	}

	fmt.Fprintln(p.out, "\n== jit-policy ca init --kind ssh --out ca")
	if code := runCAInit(caInitParams{kind: "ssh", out: filepath.Join(dir, "ca"), algorithm: "ed25519", stdout: io.Discard, stderr: p.err}); code != exitOK {
		return code
	}
	if code := runList(ctx, listParams{issuer: "ssh", config: config, stderr: p.err}); code != exitOK {
		return code
	}
	fmt.Fprintf(p.out, "\n== jit-policy issue --issuer ssh --role deploy --generate-key --token TOKEN (a CI token for %s from a local issuer)\n", claims["repository"])
	var out bytes.Buffer
	code := runIssue(ctx, issueParams{config: config, issuer: "ssh", role: "deploy", generateKey: true, tokenFile: tokenFile,
		outDir: filepath.Join(dir, "keys"), format: "json", getenv: func(string) string { return "" }, out: &out, err: p.err})
	if code != exitOK {
		return code
	}
	var issued struct {
		LeaseID string            `json:"lease_id"`
		Outputs map[string]string `json:"outputs"`
	}
	if err := json.Unmarshal(out.Bytes(), &issued); err != nil {
		fmt.Fprintf(p.err, "demo: reading the issue output: %v\n", err)
		return exitError
	}
	fmt.Fprintf(p.out, "lease %s, expires %s\n", issued.LeaseID, issued.Outputs["expires-at"])
	if err := describeCert(p.out, issued.Outputs["certificate"]); err != nil {
		fmt.Fprintf(p.err, "demo: %v\n", err)
		return exitError
	}

	fmt.Fprintln(p.out, "\n== jit-policy leases")
	if code := runLeases(ctx, leasesParams{config: config, format: "table", state: "all", out: p.out, err: p.err}); code != exitOK {
		return code
	}
	fmt.Fprintf(p.out, "\n== jit-policy revoke --lease %s\n", issued.LeaseID)
	if code := runRevoke(ctx, revokeParams{config: config, leaseID: issued.LeaseID, out: p.out, err: p.err}); code != exitOK {
		return code
	}
	return checkRevoked(p, filepath.Join(dir, ".jit", "revoked.krl"), issued.Outputs["certificate-path"])
}

// exampleClaims are the verified claims of the example's allowed pipeline
// input, less the ones the issuer sets itself.
func exampleClaims() (map[string]any, error) {
	data, err := fs.ReadFile(examples.FS(), "inputs/pipeline-ssh-allow.json")
	if err != nil {
		return nil, err
	}
	var in struct {
		Token map[string]any `json:"token"`
	}
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, fmt.Errorf("reading the example input: %w", err)
	}
	for _, k := range []string{"iss", "aud", "iat", "nbf", "exp", "jti"} {
		delete(in.Token, k)
	}
	return in.Token, nil
}

// describeCert prints a certificate the way `ssh-keygen -L` does.
func describeCert(w io.Writer, line string) error {
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return fmt.Errorf("parsing the certificate: %w", err)
	}
	c, ok := pub.(*ssh.Certificate)
	if !ok {
		return fmt.Errorf("not a certificate: %s", pub.Type())
	}
	fmt.Fprintf(w, "        Type: %s user certificate\n", c.Type())
	fmt.Fprintf(w, "        Public key: %s\n", ssh.FingerprintSHA256(c.Key))
	fmt.Fprintf(w, "        Signing CA: %s %s (using %s)\n", c.SignatureKey.Type(), ssh.FingerprintSHA256(c.SignatureKey), c.Signature.Format)
	fmt.Fprintf(w, "        Key ID: %q\n", c.KeyId)
	fmt.Fprintf(w, "        Serial: %d\n", c.Serial)
	fmt.Fprintf(w, "        Valid: from %s to %s\n", time.Unix(int64(c.ValidAfter), 0).Format("2006-01-02T15:04:05"), time.Unix(int64(c.ValidBefore), 0).Format("2006-01-02T15:04:05"))
	fmt.Fprintf(w, "        Principals:\n                %s\n", strings.Join(c.ValidPrincipals, "\n                "))
	for _, sec := range []struct {
		name string
		m    map[string]string
	}{{"Critical Options", c.CriticalOptions}, {"Extensions", c.Extensions}} {
		fmt.Fprintf(w, "        %s:", sec.name)
		if len(sec.m) == 0 {
			fmt.Fprint(w, " (none)")
		}
		fmt.Fprintln(w)
		for _, k := range slices.Sorted(func(yield func(string) bool) {
			for k := range sec.m {
				if !yield(k) {
					return
				}
			}
		}) {
			fmt.Fprintf(w, "                %s %s\n", k, sec.m[k])
		}
	}
	return nil
}

// checkRevoked shows the KRL revoking the certificate, with ssh-keygen -Q
// when it is installed.
func checkRevoked(p demoParams, krlPath, certPath string) int {
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		fmt.Fprintf(p.out, "the KRL at %s now lists the certificate (install openssh-client to check it with ssh-keygen -Q)\n", krlPath)
		return exitOK
	}
	fmt.Fprintln(p.out, "\n== ssh-keygen -Q -f .jit/revoked.krl keys/id_ed25519-cert.pub")
	out, err := exec.Command("ssh-keygen", "-Q", "-f", krlPath, certPath).CombinedOutput()
	fmt.Fprint(p.out, strings.ReplaceAll(string(out), filepath.Dir(certPath)+"/", "keys/"))
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		fmt.Fprintf(p.err, "demo: the KRL does not revoke the certificate (%v)\n", err)
		return exitError
	}
	return exitOK
}
