package ssh

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// maxSourceAddresses bounds the entries of one source-address list.
const maxSourceAddresses = 256

// ParseSourceAddress parses a source-address value: a comma-separated list
// of CIDRs (10.0.0.0/8, 2001:db8::/32) or bare addresses (an IPv4 address
// is a /32, an IPv6 address a /128). Spaces around entries are ignored.
// Empty entries, host bits set beyond the prefix (10.1.0.0/8: write
// 10.0.0.0/8 or 10.1.0.0/16), zones and IPv4-mapped IPv6 addresses are
// errors. The result is sorted and without duplicates or networks that
// another entry already contains.
func ParseSourceAddress(s string) ([]netip.Prefix, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("source-address is empty; list CIDRs such as 10.0.0.0/8")
	}
	entries := strings.Split(s, ",")
	if len(entries) > maxSourceAddresses {
		return nil, fmt.Errorf("source-address lists more than %d entries", maxSourceAddresses)
	}
	out := make([]netip.Prefix, 0, len(entries))
	for _, e := range entries {
		p, err := parsePrefix(strings.Trim(e, " "))
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return reduce(out), nil
}

func parsePrefix(e string) (netip.Prefix, error) {
	if e == "" {
		return netip.Prefix{}, errors.New("source-address has an empty entry")
	}
	var p netip.Prefix
	if strings.Contains(e, "/") {
		var err error
		if p, err = netip.ParsePrefix(e); err != nil {
			return netip.Prefix{}, fmt.Errorf("source-address entry %q is not a CIDR", e)
		}
	} else {
		a, err := netip.ParseAddr(e)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("source-address entry %q is not an IP address or CIDR", e)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if p.Addr().Is4In6() {
		return netip.Prefix{}, fmt.Errorf("source-address entry %q is an IPv4-mapped IPv6 address; write the IPv4 form", e)
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("source-address entry %q has bits set beyond its prefix length; write %s or a longer prefix",
			e, p.Masked())
	}
	return p, nil
}

// IntersectSourceAddress returns the canonical source-address list of the
// networks allowed by both a and b: for each pair of entries, the narrower
// one when one contains the other (CIDR blocks are either nested or
// disjoint). An empty intersection is an error, never "any address".
func IntersectSourceAddress(a, b string) (string, error) {
	pa, err := ParseSourceAddress(a)
	if err != nil {
		return "", fmt.Errorf("role: %w", err)
	}
	pb, err := ParseSourceAddress(b)
	if err != nil {
		return "", fmt.Errorf("grant: %w", err)
	}
	var out []netip.Prefix
	for _, x := range pa {
		for _, y := range pb {
			switch {
			case x.Addr().Is4() != y.Addr().Is4():
			case x.Bits() <= y.Bits() && x.Contains(y.Addr()):
				out = append(out, y)
			case y.Bits() < x.Bits() && y.Contains(x.Addr()):
				out = append(out, x)
			}
		}
	}
	if len(out) == 0 {
		return "", fmt.Errorf("source-address: the role's %q and the grant's %q have no address in common", a, b)
	}
	return formatPrefixes(reduce(out)), nil
}

func canonicalSourceAddress(s string) (string, error) {
	p, err := ParseSourceAddress(s)
	if err != nil {
		return "", err
	}
	return formatPrefixes(p), nil
}

// reduce sorts prefixes (IPv4 first, then by address and length) and drops
// duplicates and prefixes contained in an earlier, wider one.
func reduce(ps []netip.Prefix) []netip.Prefix {
	slices.SortFunc(ps, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	out := ps[:0]
	for _, p := range ps {
		// After sorting, a prefix containing p is either the last kept one or
		// contains that one's address too, so checking the last kept suffices.
		if n := len(out); n > 0 && out[n-1].Bits() <= p.Bits() && out[n-1].Contains(p.Addr()) {
			continue
		}
		out = append(out, p)
	}
	return out
}

func formatPrefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}
