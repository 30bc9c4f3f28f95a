// Package sealtest reads back, for tests, the plaintext that
// seal.FormatOutputs writes (and a sealed file decrypts to).
package sealtest

import (
	"fmt"
	"strings"

	"github.com/jit-policy/jit-policy/internal/seal"
)

// ParseOutputs parses the format written by seal.FormatOutputs, with its
// rules for names, into the outputs in order.
func ParseOutputs(text string) ([]seal.Output, error) {
	var outs []seal.Output
	for n := 1; text != ""; n++ {
		line, rest, _ := strings.Cut(text, "\n")
		i := strings.IndexAny(line, "=<")
		if i < 0 {
			return nil, fmt.Errorf("sealtest: output %d: want name=value or name<<DELIM", n)
		}
		name := line[:i]
		if _, err := seal.FormatOutputs([]seal.Output{{Name: name}}); err != nil { // checks the name
			return nil, fmt.Errorf("sealtest: output %d: %w", n, err)
		}
		if line[i] == '=' {
			outs = append(outs, seal.Output{Name: name, Value: line[i+1:]})
			text = rest
			continue
		}
		delim, ok := strings.CutPrefix(line[i:], "<<")
		if !ok || delim == "" || strings.ContainsAny(delim, " \t\r") {
			return nil, fmt.Errorf("sealtest: output %d (%s): bad heredoc delimiter", n, name)
		}
		if !strings.HasSuffix(rest, "\n") {
			rest += "\n"
		}
		end := strings.Index(rest, "\n"+delim+"\n")
		if end < 0 {
			return nil, fmt.Errorf("sealtest: output %d (%s): missing closing %s line", n, name, delim)
		}
		outs = append(outs, seal.Output{Name: name, Value: rest[:end]})
		text = rest[end+len(delim)+2:]
	}
	return outs, nil
}
