// Package loopback says whether a host names this machine's loopback
// interface: where jit-policy allows plain http (a local OIDC issuer, a
// local broker, GitHub's runner token endpoint in tests) and nowhere else.
package loopback

import (
	"net"
	"strings"
)

// Is reports whether host (a URL's Hostname(), without port or brackets)
// is "localhost" in any case or a loopback IP address (127.0.0.0/8, ::1).
func Is(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
