// Package ghcmd speaks to the GitHub Actions runner: workflow commands on
// standard output (::add-mask::, ::error::, ::warning::) and the
// environment files the runner reads after a step (GITHUB_OUTPUT,
// GITHUB_STATE, GITHUB_ENV, GITHUB_STEP_SUMMARY). It knows the runner's
// escaping and heredoc rules and nothing about jit-policy.
package ghcmd

import (
	"fmt"
	"io"
	"strings"
)

// EscapeData escapes a workflow command's data as the runner unescapes it:
// % as %25, CR as %0D, LF as %0A. Escaped data is always one line, so a
// value cannot start a command of its own.
func EscapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// Mask registers value as a secret with the runner, which from then on
// replaces it with *** in the job log. A multi-line value is masked one
// line at a time (the runner masks each registered string verbatim, and a
// log line never holds more than one line of the value); each line is
// trimmed of surrounding white space and empty lines are skipped. Call it
// before anything could print the value.
func Mask(w io.Writer, value string) error {
	var b strings.Builder
	for _, line := range MaskLines(value) {
		b.WriteString("::add-mask::" + EscapeData(line) + "\n")
	}
	if b.Len() == 0 {
		return nil
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// MaskLines returns the strings Mask registers for value: its lines,
// trimmed, without empty ones.
func MaskLines(value string) []string {
	var out []string
	for line := range strings.Lines(value) {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// Error writes an error annotation: the step's log shows msg in red and
// the run's summary lists it. msg may span lines; it is escaped.
func Error(w io.Writer, msg string) {
	fmt.Fprintf(w, "::error::%s\n", EscapeData(msg))
}

// Warning writes a warning annotation.
func Warning(w io.Writer, msg string) {
	fmt.Fprintf(w, "::warning::%s\n", EscapeData(msg))
}
