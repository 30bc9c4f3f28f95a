// Package markdown escapes untrusted text (token claims, request fields,
// policy reasons, logins) for the GitHub-flavoured Markdown that jit-policy
// writes into job summaries and pull-request reports, so that it renders
// as the same characters and nothing else.
package markdown

import (
	"strings"
	"unicode"
)

// Text escapes s for Markdown running text so that whatever it holds
// renders as the same characters and nothing else: HTML special
// characters become entities (no tag, comment or autolink can open),
// Markdown punctuation gets a backslash (no link, image, emphasis, code
// span, math or heading), and line ends become spaces (no new block can
// start). "@" is left alone, so "@acme/sre" stays a readable mention;
// control and bidirectional-override characters become U+FFFD.
func Text(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '\r', '\n', '\t':
			b.WriteByte(' ')
		case '\\', '`', '*', '_', '[', ']', '!', '~', '|', '#', '$':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '-', '+', '=':
			if i == 0 { // would start a list item or setext underline
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		default:
			if unsafeRune(r) {
				b.WriteRune(unicode.ReplacementChar)
			} else {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// unsafeRune reports control characters and the bidirectional formatting
// characters that can make text display other than it reads.
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return false
}

// Code renders s as an inline code span, which shows its content
// literally (no HTML, link or mention): the delimiter is one backtick
// longer than the longest run of backticks in s, and s is padded with
// spaces when it holds a backtick. Line ends become spaces.
func Code(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\r' || r == '\n' || r == '\t':
			return ' '
		case unsafeRune(r):
			return unicode.ReplacementChar
		}
		return r
	}, s)
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	delim := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.Contains(s, "`") {
		return delim + " " + s + " " + delim
	}
	return delim + s + delim
}

// Fence renders value as a fenced code block whose fence is longer than
// any run of backticks in value, so that no line of value can close it.
func Fence(value string) string {
	value = strings.TrimRight(strings.ReplaceAll(value, "\r\n", "\n"), "\n")
	f := strings.Repeat("`", max(3, longestRun(value, '`')+1))
	return f + "text\n" + value + "\n" + f + "\n"
}

// longestRun is the length of the longest run of c in s.
func longestRun(s string, c byte) int {
	best, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}
