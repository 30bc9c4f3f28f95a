package action

import (
	"slices"
	"strings"
	"testing"
)

func TestParseLeaseIDs(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{in: "", want: nil},
		{in: "  ", want: nil},
		{in: "0123456789abcdef0123456789abcdef", want: []string{"0123456789abcdef0123456789abcdef"}},
		{in: "a,b", want: []string{"a", "b"}},
		{in: " a , b\nc\r\n,,a ", want: []string{"a", "b", "c"}},
		{in: "lease.1_x-Y", want: []string{"lease.1_x-Y"}},
		{in: "../x", wantErr: true},
		{in: "a/b", wantErr: true},
		{in: "..", wantErr: true},
		{in: "a;rm -rf", wantErr: true},
		{in: "é", wantErr: true},
		{in: strings.Repeat("x", 129), wantErr: true},
		{in: strings.Repeat("x", 128), want: []string{strings.Repeat("x", 128)}},
	}
	for _, tc := range tests {
		got, err := ParseLeaseIDs(tc.in)
		if (err != nil) != tc.wantErr || !slices.Equal(got, tc.want) {
			t.Errorf("ParseLeaseIDs(%.40q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
	var many []string
	for i := range 101 {
		many = append(many, strings.Repeat("i", i+1))
	}
	if _, err := ParseLeaseIDs(strings.Join(many, ",")); err == nil {
		t.Errorf("101 ids: no error")
	}
	if got, err := ParseLeaseIDs(FormatLeaseIDs([]string{"a", "b"})); err != nil || !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("round trip: %q, %v", got, err)
	}
}

// FuzzParseLeaseIDs checks that whatever the state holds, the ids that
// come out are safe as a path element and round-trip through
// FormatLeaseIDs, and that an error never echoes the input.
func FuzzParseLeaseIDs(f *testing.F) {
	f.Add("a,b")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseLeaseIDs(s)
		if err != nil {
			if len(s) > 8 && strings.Contains(err.Error(), s) {
				t.Fatalf("error echoes the input: %v", err)
			}
			return
		}
		for _, id := range got {
			if id == "" || id == "." || id == ".." || strings.ContainsAny(id, "/\\ ,\x00") || len(id) > maxLeaseIDLength {
				t.Fatalf("ParseLeaseIDs(%q) gave %q", s, id)
			}
		}
		if again, err := ParseLeaseIDs(FormatLeaseIDs(got)); err != nil || !slices.Equal(again, got) {
			t.Fatalf("round trip of %q: %q, %v", got, again, err)
		}
	})
}
