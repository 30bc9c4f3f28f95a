package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/jit-policy/jit-policy/internal/cakey"
)

// caInitParams are the inputs of `jit-policy ca init`.
type caInitParams struct {
	kind, out, algorithm string
	stdout, stderr       io.Writer
}

func newCACommand(s streams) *cobra.Command {
	ca := &cobra.Command{Use: "ca", Short: "Manage file CA keys (for trials; use a KMS key in production)"}
	p := caInitParams{stdout: s.out, stderr: s.err}
	initCmd := &cobra.Command{
		Use:   "init --kind ssh|x509 --out DIR",
		Short: "Create a CA key pair",
		Long: `Create a CA key: ssh writes DIR/ssh-ca (0600) and DIR/ssh-ca.pub; x509 writes
DIR/x509-ca.key (0600) and DIR/x509-ca.pem. Existing files are never
overwritten. A file CA key is for trials: in production keep the key in a KMS
(ca_key: awskms:///alias/…) reachable only from the trusted workflow.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return exit(runCAInit(p)) },
	}
	initCmd.Flags().StringVar(&p.kind, "kind", "ssh", "ssh or x509")
	initCmd.Flags().StringVar(&p.out, "out", "", "folder to write the key into")
	initCmd.Flags().StringVar(&p.algorithm, "algorithm", "", "ed25519, ecdsa-p256, rsa-3072 or rsa-4096 (default: ed25519 for ssh, ecdsa-p256 for x509)")
	_ = initCmd.MarkFlagRequired("out")
	ca.AddCommand(initCmd)
	return ca
}

func runCAInit(p caInitParams) int {
	if p.kind != "ssh" && p.kind != "x509" {
		fmt.Fprintf(p.stderr, "--kind %q: use ssh or x509\n", p.kind)
		return exitUsage
	}
	alg := cakey.Algorithm(p.algorithm)
	if alg == "" {
		alg = cakey.Ed25519
		if p.kind == "x509" {
			alg = cakey.ECDSAP256 // what X.509 relying parties (AWS Roles Anywhere, Kubernetes) accept
		}
	}
	paths, err := cakey.Init(p.out, p.kind, alg)
	if err != nil {
		fmt.Fprintln(p.stderr, err)
		return exitLeftUnrevoked
	}
	for _, path := range paths {
		fmt.Fprintln(p.stdout, path)
	}
	return exitOK
}
