package loopback

import "testing"

func TestIs(t *testing.T) {
	for _, tc := range []struct {
		host string
		want bool
	}{
		{"localhost", true},
		{"LocalHost", true},
		{"127.0.0.1", true},
		{"127.8.9.10", true},
		{"::1", true},
		{"[::1]", false},
		{"localhost.example.com", false},
		{"10.0.0.1", false},
		{"::", false},
		{"", false},
		{"example.com", false},
	} {
		if got := Is(tc.host); got != tc.want {
			t.Errorf("Is(%q) = %v, want %v", tc.host, got, tc.want)
		}
	}
}
