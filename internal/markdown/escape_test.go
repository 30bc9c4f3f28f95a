package markdown

import "testing"

func TestEscapes(t *testing.T) {
	for _, tc := range []struct{ in, text, code string }{
		{"@acme/sre", "@acme/sre", "`@acme/sre`"},
		{"a `b` c", "a \\`b\\` c", "`` a `b` c ``"},
		{"x``y", "x\\`\\`y", "``` x``y ```"},
		{"<a href=x>&", "&lt;a href=x&gt;&amp;", "`<a href=x>&`"},
		{"- item", "\\- item", "`- item`"},
		{"line\nbreak", "line break", "`line break`"},
		{"$x$ a|b", "\\$x\\$ a\\|b", "`$x$ a|b`"},
		{"main\u202eniam", "main\ufffdniam", "`main\ufffdniam`"},
		{"", "", "—"},
	} {
		if got := Text(tc.in); got != tc.text {
			t.Fatalf("Text(%q) = %q, want %q", tc.in, got, tc.text)
		}
		if got := Code(tc.in); got != tc.code {
			t.Fatalf("Code(%q) = %q, want %q", tc.in, got, tc.code)
		}
	}
}
