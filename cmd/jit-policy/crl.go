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

// listParams are the inputs of `jit-policy krl` and `jit-policy crl`: which
// issuer's revocation list to write, and where.
type listParams struct {
	issuer      string // "ssh" (KRL) or "x509" (CRL)
	config, out string
	stderr      io.Writer
}

func newKRLCommand(s streams) *cobra.Command {
	return newListCommand(s, "ssh", "krl", "Write the SSH key revocation list from the lease store",
		`Write the KRL (OpenSSH's RevokedKeys format) of every revoked, unexpired SSH
certificate: to the config's krl: target, or to --out. sshd refuses every key
when RevokedKeys is unreadable, so write it once before pointing sshd at it.`)
}

func newCRLCommand(s streams) *cobra.Command {
	return newListCommand(s, "x509", "crl", "Write the X.509 certificate revocation list from the lease store",
		`Write the CRL (PEM, signed by the X.509 CA key, increasing number, NextUpdate
in 24h) of every revoked, unexpired X.509 certificate: to the config's crl:
target, or to --out. revoke and sweep republish it too.`)
}

func newListCommand(s streams, issuer, name, short, long string) *cobra.Command {
	p := listParams{issuer: issuer, stderr: s.err}
	cmd := &cobra.Command{
		Use:   name + " --config FILE [--out FILE]",
		Short: short,
		Long:  long,
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return exit(runList(cmd.Context(), p)) },
	}
	cmd.Flags().StringVar(&p.config, "config", configFile, "jit-policy.yaml")
	cmd.Flags().StringVar(&p.out, "out", "", "write here instead of the config's "+name+": target")
	return cmd
}

// runList writes one issuer's revocation list from the lease store.
func runList(ctx context.Context, p listParams) int {
	rt, err := app.Open(ctx, p.config, os.Getenv)
	if err != nil {
		fmt.Fprintln(p.stderr, err)
		return exitUsage
	}
	defer rt.Close()
	if p.out != "" {
		if p.issuer == "ssh" {
			rt.Config.KRL = "file://" + p.out
		} else {
			rt.Config.CRL = "file://" + p.out
		}
		if rt.Issuers, err = registry.New(rt.Config, os.Getenv); err != nil {
			fmt.Fprintln(p.stderr, err)
			return exitUsage
		}
	}
	if _, ok := rt.Issuers[p.issuer]; !ok {
		fmt.Fprintf(p.stderr, "no %s issuer is configured: nothing to write\n", p.issuer)
		return exitUsage
	}
	if err := rt.Revoker().Publish(ctx, p.issuer, time.Now()); err != nil {
		fmt.Fprintln(p.stderr, err)
		return exitLeftUnrevoked
	}
	return exitOK
}
