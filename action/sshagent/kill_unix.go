//go:build !windows

package sshagent

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
)

// kill ends pid with SIGTERM if it is an ssh-agent. Where /proc exists
// (Linux) a pid that is gone or names another program is left alone.
func kill(pid int) error {
	if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil {
		if strings.TrimSpace(string(comm)) != "ssh-agent" {
			return nil // the agent is gone and its pid reused
		}
	} else if _, serr := os.Stat("/proc/self"); serr == nil {
		return nil // /proc works: the process is gone
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("ssh-agent: stopping pid %d: %w", pid, err)
	}
	return nil
}
