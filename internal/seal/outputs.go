package seal

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Output is one named secret value, e.g. {"password", "…"}.
type Output struct {
	Name  string
	Value string
}

// FormatOutputs renders outputs, in order, as the plaintext of a sealed file.
// The format is that of GitHub Actions' $GITHUB_OUTPUT, which a human reads
// directly after `age -d`:
//
//	name=value
//
// for a value without line breaks, and
//
//	name<<EOF
//	first line
//	second line
//	EOF
//
// for a value containing "\n" or "\r": the value is everything between the
// "name<<DELIM" line and the next line that is exactly DELIM (the line break
// before DELIM is not part of the value). DELIM is "EOF", or "EOF_1", "EOF_2",
// … when the value contains "EOF". Names are non-empty, made of ASCII letters,
// digits, '_', '-' and '.', and unique. sealtest.ParseOutputs reverses
// FormatOutputs.
func FormatOutputs(outs []Output) (string, error) {
	if len(outs) == 0 {
		return "", errors.New("seal: no outputs")
	}
	seen := map[string]bool{}
	var b strings.Builder
	for _, o := range outs {
		if err := checkName(o.Name); err != nil {
			return "", err
		}
		if seen[o.Name] {
			return "", fmt.Errorf("seal: duplicate output name %q", o.Name)
		}
		seen[o.Name] = true
		if !strings.ContainsAny(o.Value, "\r\n") {
			b.WriteString(o.Name + "=" + o.Value + "\n")
			continue
		}
		delim := "EOF"
		for i := 1; strings.Contains(o.Value, delim); i++ {
			delim = "EOF_" + strconv.Itoa(i)
		}
		b.WriteString(o.Name + "<<" + delim + "\n" + o.Value + "\n" + delim + "\n")
	}
	return b.String(), nil
}

func checkName(name string) error {
	if name == "" {
		return errors.New("seal: empty output name")
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return fmt.Errorf("seal: output name %q: only letters, digits, '_', '-' and '.' are allowed", name)
		}
	}
	return nil
}

// SealOutputs renders outputs with FormatOutputs and seals the result to rs.
func SealOutputs(outs []Output, rs []Recipient) (string, error) {
	text, err := FormatOutputs(outs)
	if err != nil {
		return "", err
	}
	return Seal([]byte(text), rs)
}
