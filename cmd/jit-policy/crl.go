package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/jit-policy/jit-policy/internal/app"
	"github.com/jit-policy/jit-policy/issuers/registry"
)

// crlParams are the inputs of `jit-policy krl`.
type crlParams struct {
	config, out string
	stderr      io.Writer
}

func newCRLCommand(s streams) *cobra.Command {
	p := crlParams{stderr: s.err}
	cmd := &cobra.Command{
		Use:   "crl --config FILE [--out FILE]",
		Short: "Write the X.509 certificate revocation list from the lease store",
		Long: `Write the CRL (PEM, signed by the X.509 CA key, increasing number, NextUpdate
in 24h) of every revoked, unexpired X.509 certificate: to the config's crl:
target, or to --out. revoke and sweep republish it too.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return exit(runCRL(cmd.Context(), p)) },
	}
	cmd.Flags().StringVar(&p.config, "config", configFile, "jit-policy.yaml")
	cmd.Flags().StringVar(&p.out, "out", "", "write here instead of the config's crl: target")
	return cmd
}

func runCRL(ctx context.Context, p crlParams) int {
	rt, err := app.Open(ctx, p.config, os.Getenv)
	if err != nil {
		fmt.Fprintln(p.stderr, err)
		return exitUsage
	}
	defer rt.Close()
	if p.out != "" {
		rt.Config.CRL = "file://" + p.out
		if rt.Issuers, err = registry.New(rt.Config, os.Getenv); err != nil {
			fmt.Fprintln(p.stderr, err)
			return exitUsage
		}
	}
	if _, ok := rt.Issuers["x509"]; !ok {
		fmt.Fprintln(p.stderr, "no x509 issuer is configured: nothing to write")
		return exitUsage
	}
	if err := rt.Revoker().PublishAll(ctx, time.Now()); err != nil {
		fmt.Fprintln(p.stderr, err)
		return exitLeftUnrevoked
	}
	return exitOK
}
