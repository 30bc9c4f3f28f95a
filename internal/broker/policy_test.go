package broker

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/engine"
)

// waitFor bounds every poll in these tests; reloads normally land within
// the 250 ms debounce plus a compile.
const waitFor = 10 * time.Second

func rolePolicy(role string) string {
	return "package jit\n\nallow if input.request.role == \"" + role + "\"\n"
}

// brokenPolicy has a syntax error on line 3.
const brokenPolicy = "package jit\n\nallow if input.request.role == \"a\" )\n"

func writeFile(t testing.TB, path, src string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
}

// loadRolePolicy writes rolePolicy(role) to policy.rego in a fresh folder
// and loads that folder; it returns the file, for the test to rewrite, and
// the Policy.
func loadRolePolicy(t testing.TB, role string) (string, *Policy) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "policy.rego")
	writeFile(t, file, rolePolicy(role))
	p, err := LoadPolicy(context.Background(), []string{filepath.Dir(file)}, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return file, p
}

func policyInput(role string) engine.Input {
	return engine.Input{
		Version: engine.Version,
		Kind:    engine.KindPipeline,
		Now:     time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC),
		Request: engine.Request{Issuer: "ssh", Role: role, TTLSeconds: 900, Principals: []string{"deploy"}},
		Token:   map[string]any{"iss": "https://token.actions.githubusercontent.com", "repository_id": "42"},
	}
}

func allowed(t testing.TB, p *Policy, role string) bool {
	t.Helper()
	d, err := p.Decide(context.Background(), policyInput(role))
	if err != nil {
		t.Fatalf("Decide(%s): %v", role, err)
	}
	return d.Allowed
}

// waitAllowed polls Decide until role is allowed.
func waitAllowed(t *testing.T, p *Policy, role string) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !allowed(t, p, role) {
		if time.Now().After(deadline) {
			t.Fatalf("role %q still denied after %s: the change was not picked up", role, waitFor)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// nextReload waits for the next onReload report.
func nextReload(t *testing.T, reloads <-chan error) error {
	t.Helper()
	select {
	case err := <-reloads:
		return err
	case <-time.After(waitFor):
		t.Fatalf("no reload reported within %s", waitFor)
		return nil
	}
}

// startWatch runs Watch until the test ends and returns once it listens:
// it sends SIGHUP (with a handler of the test's own registered, so the
// signal never kills the test) until Watch reports a reload. That first
// reload is not passed on to onReload.
func startWatch(t *testing.T, p *Policy, onReload func(error)) {
	t.Helper()
	hup := make(chan os.Signal, 8)
	signal.Notify(hup, syscall.SIGHUP)
	t.Cleanup(func() { signal.Stop(hup) })
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	var once sync.Once
	listening := false
	var mu sync.Mutex
	wrapped := func(err error) {
		mu.Lock()
		first := !listening
		listening = true
		mu.Unlock()
		if first {
			once.Do(func() { close(ready) })
			return
		}
		onReload(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Watch(ctx, wrapped) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Watch returned %v after its context ended, want nil", err)
			}
		case <-time.After(waitFor):
			t.Errorf("Watch did not return within %s after its context ended", waitFor)
		}
	})
	deadline := time.After(waitFor)
	for {
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ready:
			return
		case err := <-done:
			t.Fatalf("Watch returned early: %v", err)
		case <-deadline:
			t.Fatalf("Watch not listening within %s", waitFor)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func TestLoadPolicy(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "policy.rego"), rolePolicy("a"))
	before := time.Now()
	p, err := LoadPolicy(context.Background(), []string{dir}, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !allowed(t, p, "a") || allowed(t, p, "b") {
		t.Fatalf("want role a allowed and role b denied")
	}
	at, rev := p.Loaded()
	if at.Before(before) || len(rev) != 64 {
		t.Fatalf("Loaded() = %v, %q: want a time after %v and a sha256 hex revision", at, rev, before)
	}

	// The revision covers the loaded files only.
	writeFile(t, filepath.Join(dir, "notes.txt"), "not policy")
	writeFile(t, filepath.Join(dir, "policy_test.rego"), "package jit_test\n")
	if got, err := revision([]string{dir}); err != nil || got != rev {
		t.Fatalf("revision after adding non-policy files = %q, %v; want %q", got, err, rev)
	}
	writeFile(t, filepath.Join(dir, "data.json"), `{"x": 1}`)
	if got, err := revision([]string{dir}); err != nil || got == rev {
		t.Fatalf("revision after adding data.json = %q, %v; want a new one", got, err)
	}
}

func TestLoadPolicyFirstLoadMustSucceed(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "policy.rego"), brokenPolicy)
	if _, err := LoadPolicy(context.Background(), []string{dir}, engine.Options{}); err == nil || !strings.Contains(err.Error(), "policy.rego") {
		t.Fatalf("LoadPolicy of a broken policy: err = %v, want one naming policy.rego", err)
	}
	if _, err := LoadPolicy(context.Background(), nil, engine.Options{}); err == nil {
		t.Fatalf("LoadPolicy without folders: want an error")
	}
}

func TestPolicyReloadKeepsPrevious(t *testing.T) {
	file, p := loadRolePolicy(t, "a")
	at, rev := p.Loaded()

	for name, src := range map[string]string{
		"syntax error":  brokenPolicy,
		"compile error": "package jit\n\nallow if input.request.role == undefined_var\n",
	} {
		writeFile(t, file, src)
		err := p.Reload(context.Background())
		if err == nil {
			t.Fatalf("%s: Reload succeeded", name)
		}
		for _, want := range []string{"policy.rego:3", "previous policy", "stays in force", shortRevision(rev)} {
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("%s: Reload error %q does not mention %q", name, err, want)
			}
		}
		if !allowed(t, p, "a") || allowed(t, p, "b") {
			t.Fatalf("%s: the previous policy is no longer in force", name)
		}
		if gotAt, gotRev := p.Loaded(); !gotAt.Equal(at) || gotRev != rev {
			t.Fatalf("%s: Loaded() changed after a failed reload", name)
		}
	}

	writeFile(t, file, rolePolicy("b"))
	if err := p.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if allowed(t, p, "a") || !allowed(t, p, "b") {
		t.Fatalf("after a good reload want role b allowed, role a denied")
	}
	if _, gotRev := p.Loaded(); gotRev == rev {
		t.Fatalf("the revision did not change with the policy")
	}
}

func TestPolicyWatch(t *testing.T) {
	file, p := loadRolePolicy(t, "a")
	dir := filepath.Dir(file)
	if !allowed(t, p, "a") {
		t.Fatalf("role a denied by the first policy")
	}
	reloads := make(chan error, 100)
	startWatch(t, p, func(err error) { reloads <- err })

	// A change is picked up.
	writeFile(t, file, rolePolicy("b"))
	waitAllowed(t, p, "b")
	if allowed(t, p, "a") {
		t.Fatalf("role a still allowed after the policy changed to role b")
	}
	if err := nextReload(t, reloads); err != nil {
		t.Fatalf("reload reported %v, want nil", err)
	}
	_, revB := p.Loaded()

	// A broken policy is reported and the last good one stays.
	writeFile(t, file, brokenPolicy)
	err := nextReload(t, reloads)
	if err == nil || !strings.Contains(err.Error(), "policy.rego") || !strings.Contains(err.Error(), "stays in force") {
		t.Fatalf("reload of a broken policy reported %v, want an error naming policy.rego", err)
	}
	if !allowed(t, p, "b") || allowed(t, p, "a") {
		t.Fatalf("the last good policy is not in force after a broken reload")
	}
	if _, rev := p.Loaded(); rev != revB {
		t.Fatalf("the revision changed after a failed reload")
	}

	// Fixing it back to the files in force still reloads and reports.
	writeFile(t, file, rolePolicy("b"))
	if err := nextReload(t, reloads); err != nil {
		t.Fatalf("reload after the fix reported %v, want nil", err)
	}
	if !allowed(t, p, "b") {
		t.Fatalf("role b denied after the fix")
	}

	// A new subfolder is watched: its first file and a later change of it.
	sub := filepath.Join(dir, "team", "nested")
	if err := os.MkdirAll(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	extra := filepath.Join(sub, "extra.rego")
	writeFile(t, extra, rolePolicy("c"))
	waitAllowed(t, p, "c")
	writeFile(t, extra, rolePolicy("d"))
	waitAllowed(t, p, "d")
	if allowed(t, p, "c") || !allowed(t, p, "b") {
		t.Fatalf("after changing the subfolder's file want role c denied, role b allowed")
	}
}

func TestPolicyWatchSIGHUP(t *testing.T) {
	// Our own handler first: should Watch not be listening yet, SIGHUP
	// must not end the test binary.
	safety := make(chan os.Signal, 1)
	signal.Notify(safety, syscall.SIGHUP)
	defer signal.Stop(safety)

	_, p := loadRolePolicy(t, "a")
	at, _ := p.Loaded()
	var ok, failed atomic.Int32
	startWatch(t, p, func(err error) {
		if err != nil {
			failed.Add(1)
			return
		}
		ok.Add(1)
	})

	// Nothing changed on disk: only SIGHUP can cause this reload.
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(waitFor)
	for ok.Load() == 0 {
		if failed.Load() > 0 {
			t.Fatalf("the reload on SIGHUP failed")
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reload within %s of SIGHUP", waitFor)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got, _ := p.Loaded(); !got.After(at) {
		t.Fatalf("Loaded() time %v not after the first load %v", got, at)
	}
	if !allowed(t, p, "a") {
		t.Fatalf("role a denied after the SIGHUP reload")
	}
}

func TestPolicyConcurrentDecideAndReload(t *testing.T) {
	file, p := loadRolePolicy(t, "a")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				d, err := p.Decide(ctx, policyInput("a"))
				if err != nil && ctx.Err() == nil {
					errs <- err
					return
				}
				if d.ID == "" {
					errs <- errors.New("decision without an id")
					return
				}
			}
		})
	}
	wg.Go(func() {
		for ctx.Err() == nil {
			_, _ = p.Loaded()
		}
	})

	// Reloads from two goroutines, the policy flipping between roles and
	// a broken version.
	srcs := []string{rolePolicy("b"), brokenPolicy, rolePolicy("a")}
	var reloaders sync.WaitGroup
	for g := range 2 {
		reloaders.Go(func() {
			for i := range 2 * len(srcs) {
				if g == 0 {
					if err := os.WriteFile(file, []byte(srcs[i%len(srcs)]), 0o600); err != nil {
						errs <- err
						return
					}
				}
				_ = p.Reload(ctx) // failures are expected: a broken version is among them
			}
		})
	}
	reloaders.Wait()
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Decide during reloads: %v", err)
	}

	// The last write was role a: one more reload settles on it.
	if err := p.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !allowed(t, p, "a") {
		t.Fatalf("role a denied after the last reload")
	}
}

// TestPolicyDecideAllocs keeps the hot path honest: Decide through Policy
// allocates exactly what the engine does.
func TestPolicyDecideAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	ctx := context.Background()
	eng, p := engineAndPolicy(t)
	in := policyInput("a")
	viaEngine := testing.AllocsPerRun(50, func() { _, _ = eng.Decide(ctx, in) })
	viaPolicy := testing.AllocsPerRun(50, func() { _, _ = p.Decide(ctx, in) })
	if viaPolicy > viaEngine {
		t.Fatalf("Decide allocates %v times through Policy, %v on the engine", viaPolicy, viaEngine)
	}
}

// BenchmarkPolicyDecide compares Decide through Policy with Decide on the
// engine directly: the indirection should cost nothing measurable.
func BenchmarkPolicyDecide(b *testing.B) {
	ctx := context.Background()
	eng, p := engineAndPolicy(b)
	in := policyInput("a")
	for _, bc := range []struct {
		name string
		d    interface {
			Decide(context.Context, engine.Input) (engine.Decision, error)
		}
	}{{"engine", eng}, {"policy", p}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if d, err := bc.d.Decide(ctx, in); err != nil || !d.Allowed {
					b.Fatalf("Decide = %+v, %v", d, err)
				}
			}
		})
		b.Run(bc.name+"-parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if d, err := bc.d.Decide(ctx, in); err != nil || !d.Allowed {
						b.Errorf("Decide = %+v, %v", d, err)
						return
					}
				}
			})
		})
	}
}

// engineAndPolicy loads one policy folder both as an engine and as a
// Policy, to compare Decide through the two.
func engineAndPolicy(tb testing.TB) (*engine.Engine, *Policy) {
	tb.Helper()
	dir := tb.TempDir()
	writeFile(tb, filepath.Join(dir, "policy.rego"), rolePolicy("a"))
	ctx := context.Background()
	eng, err := engine.Load(ctx, []string{dir}, engine.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	p, err := LoadPolicy(ctx, []string{dir}, engine.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return eng, p
}
