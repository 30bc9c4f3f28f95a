package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jit-policy/jit-policy/internal/exchange"
	"github.com/jit-policy/jit-policy/issuers"
)

// writeFiles writes the certificate (and a generated key) and returns the
// outputs with their paths added.
func (p issueParams) writeFiles(outs []issuers.Output) ([]issuers.Output, error) {
	cert := outputValue(outs, "certificate")
	if cert == "" {
		return outs, nil
	}
	if p.issuer == "x509" {
		return p.writeX509Files(outs, cert)
	}
	if p.issuer != "ssh" {
		return outs, nil
	}
	base := "id_ed25519"
	dir := p.outDir
	if p.publicKey != "" {
		base = strings.TrimSuffix(filepath.Base(p.publicKey), ".pub")
		if dir == "" {
			dir = filepath.Dir(p.publicKey)
		}
	}
	if dir == "" {
		return outs, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if key := outputValue(outs, "private-key"); key != "" {
		if err := os.WriteFile(filepath.Join(dir, base), []byte(key), 0o600); err != nil {
			return nil, err
		}
	}
	certPath := filepath.Join(dir, base+"-cert.pub")
	if err := os.WriteFile(certPath, []byte(cert), 0o644); err != nil {
		return nil, err
	}
	return append(outs, issuers.Output{Name: "certificate-path", Value: certPath}), nil
}

func outputValue(outs []issuers.Output, name string) string {
	i := slices.IndexFunc(outs, func(o issuers.Output) bool { return o.Name == name })
	if i < 0 {
		return ""
	}
	return outs[i].Value
}

// print writes the lease id (text) or the JSON object; under GitHub
// Actions every secret is masked first, one line at a time.
func (p issueParams) print(res exchange.Result, outs []issuers.Output) int {
	if p.getenv("GITHUB_ACTIONS") == "true" {
		for _, o := range outs {
			if o.Secret {
				for _, line := range strings.Split(strings.TrimSpace(o.Value), "\n") {
					if line = strings.TrimSpace(line); line != "" {
						fmt.Fprintf(p.out, "::add-mask::%s\n", line)
					}
				}
			}
		}
	}
	if p.format == "text" {
		fmt.Fprintln(p.out, res.Lease.ID)
		return exitOK
	}
	m := map[string]string{issuers.OutputLeaseID: res.Lease.ID, issuers.OutputExpiresAt: res.Credential.ExpiresAt.UTC().Format(time.RFC3339)}
	for _, o := range outs {
		m[o.Name] = o.Value
	}
	b, err := json.Marshal(map[string]any{"lease_id": res.Lease.ID, "expires_at": res.Credential.ExpiresAt.UTC().Format(time.RFC3339), "outputs": m})
	if err != nil {
		fmt.Fprintln(p.err, err)
		return exitError
	}
	fmt.Fprintf(p.out, "%s\n", b)
	return exitOK
}

// writeX509Files writes cert.pem (and key.pem, 0600, for a generated key)
// into --out, when given.
func (p issueParams) writeX509Files(outs []issuers.Output, cert string) ([]issuers.Output, error) {
	if p.outDir == "" {
		return outs, nil
	}
	if err := os.MkdirAll(p.outDir, 0o700); err != nil {
		return nil, err
	}
	if key := outputValue(outs, "private-key"); key != "" {
		if err := os.WriteFile(filepath.Join(p.outDir, "key.pem"), []byte(key), 0o600); err != nil {
			return nil, err
		}
	}
	certPath := filepath.Join(p.outDir, "cert.pem")
	if err := os.WriteFile(certPath, []byte(cert), 0o644); err != nil {
		return nil, err
	}
	return append(outs, issuers.Output{Name: "certificate-path", Value: certPath}), nil
}
