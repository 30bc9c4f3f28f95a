package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jit-policy/jit-policy/internal/testproc"
)

// dirPrefix names the server's temporary directory, in /tmp when root
// (the postgres account must reach it) or os.TempDir.
const dirPrefix = "jit-pgtest-"

// installHint says how to get the server's binaries.
const installHint = "install PostgreSQL 15 (Debian/Ubuntu: apt-get install -y postgresql-15, or postgresql); .ci/run checks for it"

// start initialises a data directory and starts postgres on a free port of
// 127.0.0.1, then creates Role with a random password and its database.
func start() (*server, error) {
	bin, err := binDir()
	if err != nil {
		skipMsg = err.Error() + "; " + installHint
		return nil, err
	}
	cred, err := runAs()
	if err != nil {
		skipMsg = err.Error()
		return nil, err
	}
	base := os.TempDir()
	if cred != nil || len(base) > 60 { // the socket path must stay under 108 bytes
		base = "/tmp"
	}
	removeStale(base)
	dir, err := os.MkdirTemp(base, dirPrefix)
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir, data: filepath.Join(dir, "data"), password: randomPassword()}
	if err := s.setUp(bin, cred); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// setUp runs initdb, starts the server (on another port if the one picked
// was taken meanwhile) and creates the role and its database.
func (s *server) setUp(bin string, cred *syscall.Credential) error {
	if err := os.WriteFile(filepath.Join(s.dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		return err
	}
	if cred != nil {
		if err := os.Chown(s.dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("chown %s to postgres: %w", s.dir, err)
		}
	}
	initdb := command(filepath.Join(bin, "initdb"), cred, s.dir, "-D", s.data, "-U", "postgres",
		"--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync")
	if out, err := initdb.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	var err error
	for range 3 {
		if err = s.run(bin, cred); err == nil {
			break
		}
	}
	if err != nil {
		return err
	}
	ctx := context.Background()
	if err := s.admin(ctx, "creating role "+Role, fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s'", Role, s.password)); err != nil {
		return err
	}
	return s.admin(ctx, "creating database "+Role, fmt.Sprintf("CREATE DATABASE %s OWNER %s", Role, Role))
}

// run starts postgres on a free port and waits until it accepts
// connections on its socket.
func (s *server) run(bin string, cred *syscall.Credential) error {
	port, err := testproc.FreePort()
	if err != nil {
		return err
	}
	s.port = port
	log := &testproc.Buffer{}
	s.log = log
	cmd := command(filepath.Join(bin, "postgres"), cred, s.dir, "-D", s.data,
		"-c", "listen_addresses=127.0.0.1", "-p", strconv.Itoa(port), "-k", s.data,
		"-c", "max_connections=200")
	cmd.Stdout, cmd.Stderr = log, log
	// The postmaster gets SIGQUIT (immediate shutdown) when the thread that
	// started it exits: this goroutine's, locked to it until the postmaster
	// has exited, so only the test process's death ends it early.
	cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT
	exited, err := testproc.StartTied(cmd)
	if err != nil {
		return fmt.Errorf("starting postgres: %w", err)
	}
	s.proc, s.exited = cmd.Process, exited

	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := s.admin(ctx, "connecting", "SELECT 1")
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			s.proc = nil
			return fmt.Errorf("postgres exited at start:\n%s", log.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres did not accept connections within 30s: %w", err)
		}
	}
}

// stop shuts the server down (fast shutdown, then SIGKILL after 10 s) and
// removes its directory.
func (s *server) stop() {
	if s.proc != nil {
		_ = s.proc.Signal(syscall.SIGINT)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			_ = s.proc.Kill()
			<-s.exited
		}
		s.proc = nil
	}
	_ = os.RemoveAll(s.dir)
}

// stop stops the test binary's server, if it started.
func stop() {
	if srv != nil {
		srv.stop()
	}
}

// command prepares a PostgreSQL program to run in dir, as the postgres
// account when cred is set, with a minimal environment.
func command(path string, cred *syscall.Credential, dir string, args ...string) *exec.Cmd {
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "LC_ALL=C", "TZ=UTC"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	return cmd
}

// runAs returns the postgres account's credential when the process is root
// (initdb and postgres refuse to run as root), else nil.
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, and the postgres account to run PostgreSQL as is missing (%w); %s", err, installHint)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("the postgres account: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

// removeStale deletes the directories of servers whose test process died
// without stopping them (their postmaster died with it). A directory
// younger than a minute without an owner may be another test binary's that
// is being set up, and stays.
func removeStale(base string) {
	dirs, _ := filepath.Glob(filepath.Join(base, dirPrefix+"*"))
	for _, dir := range dirs {
		owner := filepath.Join(dir, "owner.pid")
		if _, err := os.Stat(owner); err != nil {
			if fi, err := os.Stat(dir); err != nil || time.Since(fi.ModTime()) < time.Minute {
				continue
			}
		}
		if alive(owner) || alive(filepath.Join(dir, "data", "postmaster.pid")) {
			continue
		}
		_ = os.RemoveAll(dir)
	}
}

// alive reports whether the process whose id is the first line of the file
// runs; false if the file is missing or holds no process id.
func alive(pidFile string) bool {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return false
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		return false
	}
	return syscall.Kill(pid, 0) != syscall.ESRCH
}
