package action

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/jit-policy/jit-policy/action/ghcmd"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/oidctest"
)

// userKey writes a fresh Ed25519 key pair as dir/NAME and dir/NAME.pub
// and returns the public key line and the .pub path.
func userKey(t *testing.T, dir, name string) (string, string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	line := string(ssh.MarshalAuthorizedKey(signer.PublicKey()))
	mustWrite(t, filepath.Join(dir, name), string(pemEncode(block)))
	mustWrite(t, filepath.Join(dir, name+".pub"), line)
	return strings.TrimSpace(line), filepath.Join(dir, name+".pub")
}

func TestRunIssues(t *testing.T) {
	e := newTestEnv(t)
	line, pubPath := userKey(t, e.dir, "deploy_key")
	tests := []struct {
		name      string
		inputs    map[string]string
		generated bool
		certName  string
		exportEnv bool
	}{
		{name: "generate-key", generated: true, certName: "id_ed25519-cert.pub"},
		{name: "public key line", inputs: map[string]string{InputGenerateKey: "", InputPublicKey: line}, certName: "id_ed25519-cert.pub"},
		{name: "public key file", inputs: map[string]string{InputGenerateKey: "false", InputPublicKey: pubPath}, certName: "deploy_key-cert.pub"},
		{name: "export-env", inputs: map[string]string{InputExportEnv: "true", InputTTL: "5m", InputPrincipals: "nobody,\n daemon"}, generated: true, certName: "id_ed25519-cert.pub", exportEnv: true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := e.newJob(t, "issue"+string(rune('a'+i)))
			for k, v := range tc.inputs {
				j.env[InputEnv(k)] = v
			}
			start := time.Now()
			if code := j.run(); code != ExitOK {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, j.stdout.String(), j.stderr.String())
			}
			outs := j.parse(j.output)
			id := outs["lease-id"]
			if l := e.lease(t, id); l.State != lease.Active || l.Job.Repository != "org/app" {
				t.Errorf("lease %s: %+v, want active for org/app", id, l)
			}
			cert := j.cert(outs)
			if !bytes.Equal(cert.SignatureKey.Marshal(), e.ca.Marshal()) {
				t.Errorf("certificate not signed by the CA")
			}
			if !slices.Equal(cert.ValidPrincipals, []string{"nobody"}) {
				t.Errorf("principals %v, want [nobody]", cert.ValidPrincipals)
			}
			exp, err := time.Parse(time.RFC3339, outs["expires-at"])
			if err != nil || exp.Unix() != int64(cert.ValidBefore) {
				t.Errorf("expires-at %q (%v), certificate valid before %d", outs["expires-at"], err, cert.ValidBefore)
			}
			maxTTL := 10 * time.Minute // the policy's grant
			if tc.inputs[InputTTL] == "5m" {
				maxTTL = 5 * time.Minute
			}
			if exp.After(start.Add(maxTTL + time.Minute)) {
				t.Errorf("expires %v, more than %v after the start", exp, maxTTL)
			}
			certPath := outs["certificate-path"]
			if want := filepath.Join(j.runnerTemp, "jit-policy", id, tc.certName); certPath != want {
				t.Errorf("certificate-path %q, want %q", certPath, want)
			}
			if got := strings.TrimSpace(mustRead(t, certPath)); got != outs["certificate"] {
				t.Errorf("certificate file differs from the output")
			}
			key, hasKey := outs["private-key"]
			if hasKey != tc.generated {
				t.Fatalf("private-key output present %v, want %v", hasKey, tc.generated)
			}
			if tc.generated {
				signer, err := ssh.ParsePrivateKey([]byte(key))
				if err != nil {
					t.Fatalf("private-key: %v", err)
				}
				if !bytes.Equal(signer.PublicKey().Marshal(), cert.Key.Marshal()) {
					t.Errorf("private-key is not the certified key")
				}
				fi, err := os.Stat(outs["private-key-path"])
				if err != nil || fi.Mode().Perm() != 0o600 || outs["private-key-path"] != strings.TrimSuffix(certPath, "-cert.pub") {
					t.Errorf("private-key-path %q: %v %v", outs["private-key-path"], fi, err)
				}
			}
			if st := j.parse(j.state); st[StateLeaseIDs] != id || st[StateConfig] != e.config || len(st) != len(postStates()) ||
				st[StateBroker] != "" || st[StateAudience] != "" || st[StateAgentPID] != "" || st[StateAgentSocket] != "" {
				t.Errorf("state %v, want lease-ids %s, config %s and every other state of the post step blank", st, id, e.config)
			}
			sum := mustRead(t, j.summary)
			for _, want := range []string{"| Lease | Issuer | Role | Principals | Subject | Repository | Run | Expires |", "| " + id + " | ssh | deploy | nobody | repo:org/app:environment:prod | org/app | 987654321 attempt 1, job 24681357 | " + outs["expires-at"] + " |"} {
				if !strings.Contains(sum, want) {
					t.Errorf("summary lacks %q:\n%s", want, sum)
				}
			}
			env := mustRead(t, j.envFile)
			if !tc.exportEnv {
				if env != "" {
					t.Errorf("GITHUB_ENV written without export-env:\n%s", env)
				}
				return
			}
			got := j.parse(j.envFile)
			for name, out := range map[string]string{"JIT_LEASE_ID": "lease-id", "JIT_EXPIRES_AT": "expires-at", "JIT_SSH_CERTIFICATE": "certificate",
				"JIT_SSH_CERTIFICATE_PATH": "certificate-path", "JIT_SSH_PRIVATE_KEY": "private-key", "JIT_SSH_PRIVATE_KEY_PATH": "private-key-path"} {
				if got[name] != outs[out] || got[name] == "" {
					t.Errorf("GITHUB_ENV %s = %q, want output %s = %q", name, got[name], out, outs[out])
				}
			}
		})
	}
}

// TestRunMasksSecrets checks that with generate-key every line of the
// private key (and the ID token) is masked before anything else is
// printed, and that no other line of stdout, stderr or the audit log holds
// any of them.
func TestRunMasksSecrets(t *testing.T) {
	e := newTestEnv(t)
	j := e.newJob(t, "mask")
	j.env["RUNNER_DEBUG"] = "1"
	if code := j.run(); code != ExitOK {
		t.Fatalf("exit %d\n%s", code, j.stdout.String())
	}
	secrets := maskLinesOf(t, j.parse(j.output)["private-key"])
	if len(secrets) < 3 {
		t.Fatalf("private key has %d lines", len(secrets))
	}
	_, firstOther, masked := leadingMasks(j.stdout.String())
	for _, s := range secrets {
		if !masked[s] {
			t.Errorf("key line %q is not masked before the first other line", s)
		}
	}
	if len(masked) != len(secrets)+1 {
		t.Errorf("%d masks, want the token and %d key lines", len(masked), len(secrets))
	}
	logs := map[string]string{"stdout": j.stdout.String(), "stderr": j.stderr.String(), "audit": mustRead(t, filepath.Join(e.dir, "audit.jsonl"))}
	for name, text := range logs {
		for i, l := range lines(text) {
			if strings.HasPrefix(l, "::add-mask::") && name == "stdout" && i < firstOther {
				continue
			}
			for s := range masked {
				if strings.Contains(l, s) {
					t.Errorf("%s line %d holds a secret outside ::add-mask::: %q", name, i+1, l)
				}
			}
		}
	}
}

// isBlankState reports whether a parsed state holds exactly the states
// the post step reads, each blank: what Run saves before anything else.
func isBlankState(st map[string]string) bool {
	if len(st) != len(postStates()) {
		return false
	}
	for _, name := range postStates() {
		if v, ok := st[name]; !ok || v != "" {
			return false
		}
	}
	return true
}

// maskLinesOf returns the lines of a secret that must be masked.
func maskLinesOf(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func TestRunDenied(t *testing.T) {
	e := newTestEnv(t)
	tests := []struct {
		name   string
		claims map[string]any
		want   []string
	}{
		{name: "one reason", claims: map[string]any{"ref": "refs/heads/dev"}, want: []string{"::error::denied: ref refs/heads/dev is not refs/heads/main"}},
		{name: "two reasons, escaped", claims: map[string]any{"ref": "refs/heads/x\n::warning::injected 100%", "environment": "dev\r"}, want: []string{
			"::error::denied: environment dev%0D is not prod",
			"::error::denied: ref refs/heads/x%0A::warning::injected 100%25 is not refs/heads/main",
		}},
		{name: "no allow, no reason", claims: map[string]any{"repository_id": "1"}, want: []string{"::error::denied: no policy rule allowed the request (data.jit.allow is not true)"}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := e.newJob(t, "deny"+string(rune('a'+i)))
			tokenFile := filepath.Join(e.dir, "token"+string(rune('a'+i)))
			mustWrite(t, tokenFile, e.oidc.Mint(t, oidctest.MintOptions{Claims: tc.claims}))
			j.env[InputEnv(InputTokenFile)] = tokenFile
			if code := j.run(); code != ExitDenied {
				t.Fatalf("exit %d, want %d\n%s", code, ExitDenied, j.stdout.String())
			}
			var errs []string
			for _, l := range lines(j.stdout.String()) {
				if strings.HasPrefix(l, "::") && !strings.HasPrefix(l, "::add-mask::") {
					errs = append(errs, l)
				}
			}
			slices.Sort(errs)
			if !slices.Equal(errs, tc.want) {
				t.Errorf("commands:\n%s\nwant:\n%s", strings.Join(errs, "\n"), strings.Join(tc.want, "\n"))
			}
			for _, f := range []string{j.output, j.envFile} {
				if s := mustRead(t, f); s != "" {
					t.Errorf("%s written on denial: %q", filepath.Base(f), s)
				}
			}
			if st := j.parse(j.state); !isBlankState(st) {
				t.Errorf("state %v on denial, want every state of the post step blank", st)
			}
			if sum := mustRead(t, j.summary); !strings.Contains(sum, "access denied") {
				t.Errorf("summary:\n%s", sum)
			}
		})
	}
}

// TestRunErrors checks that bad inputs and a missing runner file fail
// with exit 2 and ::error:: lines before any token is requested.
func TestRunErrors(t *testing.T) {
	e := newTestEnv(t)
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no role", map[string]string{InputEnv(InputRole): ""}, "::error::input role is required"},
		{"bad bool", map[string]string{InputEnv(InputExportEnv): "yes"}, "::error::input export-env: use true or false"},
		{"bad ttl", map[string]string{InputEnv(InputTTL): "soon"}, `::error::input ttl: "soon" is not a duration such as 10m or 1h`},
		{"key and generate", map[string]string{InputEnv(InputPublicKey): "x.pub"}, "::error::inputs public-key and generate-key: give one, not both"},
		{"no key", map[string]string{InputEnv(InputGenerateKey): ""}, "::error::give input public-key (a key line or a .pub file) or generate-key: true"},
		{"missing key file", map[string]string{InputEnv(InputGenerateKey): "", InputEnv(InputPublicKey): "/nonexistent/k.pub"}, "::error::input public-key: neither an authorized_keys line nor a readable file: no such file or directory"},
		{"no GITHUB_OUTPUT", map[string]string{"GITHUB_OUTPUT": ""}, "::error::GITHUB_OUTPUT is not set: run this inside a GitHub Actions step"},
		{"no GITHUB_STATE", map[string]string{"GITHUB_STATE": ""}, "::error::GITHUB_STATE is not set: run this inside a GitHub Actions step"},
		{"no GITHUB_ENV for export", map[string]string{"GITHUB_ENV": "", InputEnv(InputExportEnv): "true"}, "::error::GITHUB_ENV is not set: run this inside a GitHub Actions step"},
		{"agent needs the private key", map[string]string{InputEnv(InputGenerateKey): "", InputEnv(InputSSHAgent): "true", InputEnv(InputPublicKey): "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGnb7pKfRyT4wOdE1w0s9V8Qm3l0I2rW6yjd8cHqL0F0"}, "::error::input ssh-agent: ssh-agent needs the private key"},
		{"no config", map[string]string{InputEnv(InputConfig): filepath.Join(e.dir, "missing.yaml")}, "::error::open config"},
		{"no runner token", map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": ""}, "::error::no OIDC ID token available"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := e.newJob(t, "err"+string(rune('a'+i)))
			tokens := j.runRefused(tc.env)
			if !strings.Contains(j.stdout.String(), tc.want) {
				t.Errorf("stdout:\n%s\nwant a line starting %q", j.stdout.String(), tc.want)
			}
			for _, r := range tokens {
				t.Errorf("requested a token: %s", r)
			}
			if _, noState := tc.env[ghcmd.EnvState]; !noState {
				if st := j.parse(j.state); !isBlankState(st) {
					t.Errorf("state %v, want every state of the post step blank", st)
				}
			} else if s := mustRead(t, j.state); s != "" {
				t.Errorf("state written without GITHUB_STATE: %q", s)
			}
		})
	}
}
