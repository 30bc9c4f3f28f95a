package ghcmd

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"strings"
)

// The environment files' variables. The runner creates each file before a
// step and reads it after the step, whatever the step's outcome.
const (
	EnvOutput  = "GITHUB_OUTPUT"       // step outputs
	EnvState   = "GITHUB_STATE"        // state for the action's post step (as STATE_<name>)
	EnvEnv     = "GITHUB_ENV"          // environment of the job's later steps
	EnvSummary = "GITHUB_STEP_SUMMARY" // Markdown for the job summary
)

// Pair is one name and value for an environment file.
type Pair struct {
	Name, Value string
}

// delimiterPrefix starts every heredoc delimiter, as in actions/core.
const delimiterPrefix = "ghadelimiter_"

// Format returns name and value in the runner's heredoc form,
// "name<<DELIM\nvalue\nDELIM\n", with a random delimiter that occurs in
// neither. The runner reads the value back exactly, whatever it holds,
// except that a value ending in CR would lose that CR (the runner reads
// CR LF as a line end), so such a value is refused, as are names the
// runner cannot read back (empty, holding "=", "<<", CR or LF, or ending
// in "<").
func Format(name, value string) (string, error) {
	if name == "" || strings.ContainsAny(name, "=\r\n") || strings.Contains(name, "<<") || strings.HasSuffix(name, "<") {
		return "", fmt.Errorf("environment file: invalid name %q", name)
	}
	if strings.HasSuffix(value, "\r") {
		return "", fmt.Errorf("environment file: the value of %s ends in a carriage return", name)
	}
	delim := delimiterPrefix + rand.Text()
	if strings.Contains(name, delim) || strings.Contains(value, delim) {
		// 128 random bits: only a value that knows the delimiter gets here.
		return "", fmt.Errorf("environment file: the value of %s contains the delimiter", name)
	}
	return name + "<<" + delim + "\n" + value + "\n" + delim + "\n", nil
}

// Append appends the pairs, in heredoc form, to the file at path in one
// write. The file must exist (the runner creates it): a missing file
// means the variable points somewhere wrong.
func Append(path string, pairs ...Pair) error {
	var b strings.Builder
	for _, p := range pairs {
		s, err := Format(p.Name, p.Value)
		if err != nil {
			return err
		}
		b.WriteString(s)
	}
	return AppendText(path, b.String())
}

// AppendText appends text to the existing file at path in one write.
func AppendText(path, text string) error {
	if path == "" {
		return errors.New("environment file: no path")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
