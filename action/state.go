package action

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jit-policy/jit-policy/action/ghcmd"
)

// Names of the values Run saves in GITHUB_STATE; the runner hands them to
// the post step as the environment variables StateEnv(name).
const (
	StateLeaseIDs    = "lease-ids"     // comma-separated lease ids to revoke
	StateConfig      = "config"        // absolute path of the config Run used
	StateAgentPID    = "ssh-agent-pid" // the ssh-agent Run started
	StateAgentSocket = "ssh-auth-sock"
	// With the broker input: the broker's URL and the audience of the
	// fresh token the post step requests to revoke through it.
	StateBroker   = "broker"
	StateAudience = "audience"
)

// postStates returns the name of every state the post step reads. Run
// writes each of them, blank, before anything else (see blankState).
func postStates() []string {
	return []string{StateLeaseIDs, StateConfig, StateAgentPID, StateAgentSocket, StateBroker, StateAudience}
}

// clearPostState saves every state the post step reads, blank, first of
// all, in both modes and whatever fails next, so that none can come from a
// later step's GITHUB_ENV. Without GITHUB_STATE nothing can be saved:
// Run's requireFiles reports it.
func clearPostState(getenv func(string) string) error {
	path := getenv(ghcmd.EnvState)
	if path == "" {
		return nil
	}
	if err := ghcmd.Append(path, blankState()...); err != nil {
		return fmt.Errorf("clearing the post step's state in %s (check the runner's file is writable): %w", ghcmd.EnvState, err)
	}
	return nil
}

// blankState returns every state the post step reads, blank. The runner
// hands the post step the job's environment first and the action's
// saved state last, so a state the main step never wrote could come from
// GITHUB_ENV of any later step (STATE_broker=https://evil,
// STATE_lease-ids of other jobs' leases); written blank, the saved state
// overrides whatever the environment holds.
func blankState() []ghcmd.Pair {
	names := postStates()
	pairs := make([]ghcmd.Pair, len(names))
	for i, n := range names {
		pairs[i] = ghcmd.Pair{Name: n}
	}
	return pairs
}

// Limits on the lease-ids state.
const (
	maxLeaseIDs      = 100
	maxLeaseIDLength = 128
)

// StateEnv returns the variable the runner sets for state name in the
// post step: STATE_ and the name as written ("lease-ids" →
// STATE_lease-ids).
func StateEnv(name string) string { return "STATE_" + name }

// FormatLeaseIDs joins lease ids for the lease-ids state.
func FormatLeaseIDs(ids []string) string { return strings.Join(ids, ",") }

// ParseLeaseIDs reads the lease-ids state: ids separated by commas and/or
// white space, each 1 to 128 ASCII letters, digits, '-', '_' or '.';
// repeats are dropped. Empty input is no ids. Anything else is an error
// naming the offending entry by position only (the state may have been
// tampered with, and is not echoed).
func ParseLeaseIDs(s string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || isSpace(r) })
	for i, f := range fields {
		if err := checkLeaseID(f); err != nil {
			return nil, fmt.Errorf("lease id #%d: %w", i+1, err)
		}
		if seen[f] {
			continue
		}
		if len(out) == maxLeaseIDs {
			return nil, fmt.Errorf("more than %d lease ids", maxLeaseIDs)
		}
		seen[f] = true
		out = append(out, f)
	}
	return out, nil
}

// checkLeaseID checks one lease id's length and characters.
func checkLeaseID(id string) error {
	if len(id) > maxLeaseIDLength {
		return fmt.Errorf("longer than %d bytes", maxLeaseIDLength)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return errors.New("holds a character other than letters, digits, '-', '_' and '.'")
		}
	}
	if id == "." || id == ".." {
		return errors.New("is a path element")
	}
	return nil
}

// parsePID reads the ssh-agent-pid state: empty is none (0).
func parsePID(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	pid, err := strconv.Atoi(s)
	if err != nil || pid <= 1 {
		return 0, errors.New("state ssh-agent-pid is not a process id")
	}
	return pid, nil
}
