// Command jit-policy evaluates just-in-time access requests against Rego
// policies kept in git, tests those policies, and issues and revokes the
// short-lived credentials they allow.
//
// Each subcommand is a params struct and a plain function that returns the
// exit code; cobra only parses flags into the struct.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], streams{in: os.Stdin, out: os.Stdout, err: os.Stderr})
	stop()
	os.Exit(code)
}
