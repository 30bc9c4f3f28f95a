// Package ghcmdtest reads back, for tests, the environment files that
// package ghcmd writes ($GITHUB_OUTPUT, $GITHUB_STATE, $GITHUB_ENV).
package ghcmdtest

import (
	"fmt"
	"strings"
)

// Parse reads an environment file as the runner does: "name=value" lines
// and "name<<DELIM" heredocs whose value runs up to a line that is exactly
// DELIM; lines end in LF or CR LF, and a heredoc's value keeps its inner
// line ends; empty lines between entries are skipped. A later entry for a
// name replaces an earlier one. It returns an error for a line that is
// neither form, an empty name, or a heredoc without its closing delimiter.
func Parse(data string) (map[string]string, error) {
	out := map[string]string{}
	rest := data
	for lineNo := 1; rest != ""; lineNo++ {
		line, _, next := cutLine(rest)
		rest = next
		if line == "" {
			continue
		}
		eq, hd := strings.Index(line, "="), strings.Index(line, "<<")
		switch {
		case eq >= 0 && (hd < 0 || eq < hd):
			if eq == 0 {
				return nil, fmt.Errorf("line %d: empty name", lineNo)
			}
			out[line[:eq]] = line[eq+1:]
		case hd >= 0:
			name, delim := line[:hd], line[hd+2:]
			if name == "" || delim == "" {
				return nil, fmt.Errorf("line %d: heredoc needs a name and a delimiter", lineNo)
			}
			var value strings.Builder
			closed, prevEnd := false, ""
			for rest != "" {
				l, end, n := cutLine(rest)
				rest = n
				lineNo++
				if l == delim {
					closed = true
					break
				}
				value.WriteString(prevEnd + l)
				prevEnd = end
			}
			if !closed {
				return nil, fmt.Errorf("line %d: heredoc for %s has no closing delimiter", lineNo, name)
			}
			out[name] = value.String()
		default:
			return nil, fmt.Errorf("line %d: neither name=value nor name<<DELIMITER", lineNo)
		}
	}
	return out, nil
}

// cutLine splits s after its first line: the line without its end, the
// end ("\r\n", "\n" or "" at the end of s), and the rest.
func cutLine(s string) (line, end, rest string) {
	i := strings.IndexByte(s, '\n')
	if i < 0 {
		return s, "", ""
	}
	if i > 0 && s[i-1] == '\r' {
		return s[:i-1], "\r\n", s[i+1:]
	}
	return s[:i], "\n", s[i+1:]
}
