package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/jit-policy/jit-policy/internal/loopback"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/time/rate"

	"github.com/jit-policy/jit-policy/engine"
	"github.com/jit-policy/jit-policy/internal/app"
	"github.com/jit-policy/jit-policy/internal/broker"
	"github.com/jit-policy/jit-policy/internal/exchange"
)

// serveParams are the inputs of `jit-policy serve`.
type serveParams struct {
	config          string
	addr            string
	tlsCert, tlsKey string
	rate            float64 // issues per second per token subject; 0: the default
	burst           int
	drain           time.Duration
	getenv          func(string) string
	// listening, when set, receives the bound address once the server
	// accepts connections (":0" picks a port).
	listening func(addr string)
	out, err  io.Writer
}

func newServeCommand(s streams) *cobra.Command {
	p := serveParams{getenv: os.Getenv, out: s.out, err: s.err}
	cmd := &cobra.Command{
		Use:   "serve --config FILE --addr HOST:PORT [--tls-cert F --tls-key F]",
		Short: "Run the broker: jobs send their OIDC token, the broker holds the keys",
		Long: `Serve the broker API (/v1/issue, /v1/revoke, the CA keys and revocation
lists, /healthz, /readyz, /metrics) with the config's policy, issuers and
lease store. A non-loopback address needs --tls-cert and --tls-key. The
policy reloads on SIGHUP and when its folder changes (a policy that fails to
compile keeps the previous one in force); SIGINT/SIGTERM drain in-flight
requests and stop.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return exit(runServe(cmd.Context(), p)) },
	}
	f := cmd.Flags()
	f.StringVar(&p.config, "config", configFile, "jit-policy.yaml")
	f.StringVar(&p.addr, "addr", "127.0.0.1:8443", "listen address")
	f.StringVar(&p.tlsCert, "tls-cert", "", "TLS certificate (PEM)")
	f.StringVar(&p.tlsKey, "tls-key", "", "TLS private key (PEM)")
	f.Float64Var(&p.rate, "rate", 0, "issues and revocations per second per token subject (0: the default, 20/s)")
	f.IntVar(&p.burst, "burst", 0, "rate-limit burst per subject (0: the default)")
	f.DurationVar(&p.drain, "drain", 30*time.Second, "how long shutdown waits for in-flight requests")
	return cmd
}

// serveGCPercent is the broker's GOGC unless the environment sets one.
const serveGCPercent = 400

func runServe(ctx context.Context, p serveParams) int {
	if err := checkListen(p.addr, p.tlsCert, p.tlsKey); err != nil {
		fmt.Fprintln(p.err, err)
		return exitError
	}
	if p.getenv("GOGC") == "" {
		// The broker's live heap is small (tens of MB) and nearly all it
		// allocates is per request garbage: collecting at 5× rather than 2×
		// the live heap costs little memory and saves GC CPU per request.
		// GOGC in the environment overrides this.
		debug.SetGCPercent(serveGCPercent)
	}
	rt, err := app.Open(ctx, p.config, p.getenv)
	if err != nil {
		fmt.Fprintln(p.err, err)
		return exitError
	}
	defer rt.Close()
	var policy *broker.Policy
	x, err := rt.ExchangeDeciding(ctx, p.err, func(ctx context.Context, dirs []string, opts engine.Options) (exchange.Decider, error) {
		policy, err = broker.LoadPolicy(ctx, dirs, opts)
		return policy, err
	})
	if err != nil {
		fmt.Fprintln(p.err, err)
		return exitError
	}
	log := slog.New(slog.NewJSONHandler(p.err, nil))
	cfg := broker.Config{Exchange: x, Revoker: rt.Revoker(), Lists: rt.Lists(), Burst: p.burst, Logger: log, Registry: serveRegistry(rt.Leases)}
	if p.rate > 0 {
		cfg.RatePerSubject = rate.Limit(p.rate)
	}
	srv, err := broker.New(cfg)
	if err != nil {
		fmt.Fprintln(p.err, err)
		return exitError
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	// SIGHUP reloads (Watch); held from here on, so a SIGHUP before Watch
	// listens, or after it failed, never stops the broker.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
			}
		}
	}()
	go func() {
		err := policy.Watch(ctx, func(err error) {
			srv.PolicyReloaded(err == nil)
			if err != nil {
				log.Error("policy reload failed; the previous policy stays in force", "error", err)
				return
			}
			_, rev := policy.Loaded()
			log.Info("policy reloaded", "revision", rev)
		})
		if err != nil {
			srv.PolicyReloaded(false)
			log.Error("watching the policy failed: it reloads no more until a restart", "error", err)
		}
	}()
	return serveHTTP(ctx, p, srv, log)
}

// serveHTTP listens and serves until ctx ends, then drains.
func serveHTTP(ctx context.Context, p serveParams, srv *broker.Server, log *slog.Logger) int {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		fmt.Fprintf(p.err, "listening on %s: %v\n", p.addr, err)
		return exitError
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if p.tlsCert != "" {
		scheme = "https"
		cert, err := tls.LoadX509KeyPair(p.tlsCert, p.tlsKey)
		if err != nil {
			ln.Close()
			fmt.Fprintf(p.err, "loading the TLS certificate: %v\n", err)
			return exitError
		}
		hs.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
		ln = tls.NewListener(ln, hs.TLSConfig)
	}
	srv.SetReady(true, "")
	fmt.Fprintf(p.out, "jit-policy serve: listening on %s://%s\n", scheme, ln.Addr())
	if p.listening != nil {
		p.listening(ln.Addr().String())
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		fmt.Fprintf(p.err, "serving: %v\n", err)
		return exitError
	case <-ctx.Done():
	}
	srv.SetReady(false, "shutting down")
	drain, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.drain)
	defer cancel()
	if err := hs.Shutdown(drain); err != nil && !errors.Is(err, http.ErrServerClosed) {
		// Past the drain: close what is left, and let the handlers still
		// running (a revocation finishes its record) return before the
		// store closes.
		_ = hs.Close()
		fmt.Fprintf(p.err, "draining: %v\n", err)
		finish, cancel := context.WithTimeout(context.WithoutCancel(ctx), handlersAfterClose)
		defer cancel()
		if err := srv.Wait(finish); err != nil {
			fmt.Fprintf(p.err, "closing: %v\n", err)
		}
		return exitError
	}
	fmt.Fprintln(p.out, "jit-policy serve: stopped")
	return exitOK
}

// handlersAfterClose bounds the wait, once the drain is over and the
// connections are closed, for handlers to return: longer than a
// revocation's own deadline.
const handlersAfterClose = time.Minute

// checkListen refuses a non-loopback address without TLS, and half a TLS
// configuration.
func checkListen(addr, cert, key string) error {
	if (cert == "") != (key == "") {
		return errors.New("give both --tls-cert and --tls-key, or neither")
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %w", addr, err)
	}
	if cert != "" {
		return nil
	}
	if loopback.Is(host) {
		return nil
	}
	return fmt.Errorf("--addr %s is not a loopback address: serving tokens and credentials over the network needs --tls-cert and --tls-key", addr)
}
