package ssh

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzValidatePrincipal checks that ValidatePrincipal never panics and that
// what it accepts is a usable principal.
func FuzzValidatePrincipal(f *testing.F) {
	for _, s := range []string{"deploy", "", "a,b", "a b", "José", "a\u200bb", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if ValidatePrincipal(p) != nil {
			return
		}
		if p == "" || len(p) > MaxPrincipalBytes || !utf8.ValidString(p) {
			t.Fatalf("accepted %q: empty, too long or not UTF-8", p)
		}
		for _, r := range p {
			if r == ',' || unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
				t.Fatalf("accepted %q with %U", p, r)
			}
		}
		got, err := clampPrincipals(nil, []string{p}, []string{p})
		if err != nil || !slices.Equal(got, []string{p}) {
			t.Fatalf("clampPrincipals of a valid principal %q: %v %v", p, got, err)
		}
	})
}

// FuzzCriticalOptions checks that merging never panics and that an accepted
// result is valid, canonical, and no wider than either side: force-command
// from a side that set it, source-address inside both sides' networks and
// covering every address both allow.
func FuzzCriticalOptions(f *testing.F) {
	f.Add("", "10.0.0.0/8", "", "10.1.0.0/16")
	f.Add("/bin/true", "10.0.0.0/8,2001:db8::/32", "/bin/true", "2001:db8:1::/48,10.0.0.1")
	f.Add("a", "", "b", "")
	f.Add("", "10.0.0.0/8", "", "192.168.0.0/16")
	f.Add("", "0.0.0.0/0,::/0", "", "")
	f.Fuzz(func(t *testing.T, roleFC, roleSA, grantFC, grantSA string) {
		role, grant := options(roleFC, roleSA), options(grantFC, grantSA)
		out, err := MergeCriticalOptions(role, grant)
		if err != nil {
			return
		}
		if err := ValidateCriticalOptions(out); err != nil {
			t.Fatalf("merged options are invalid: %v (%q)", err, out)
		}
		for name, v := range out {
			if strings.IndexFunc(name+v, isControl) >= 0 {
				t.Fatalf("control character in %q=%q", name, v)
			}
		}
		if fc, ok := out[OptForceCommand]; ok && fc != roleFC && fc != grantFC {
			t.Fatalf("force-command %q from neither side", fc)
		}
		if roleFC != "" && grantFC != "" && roleFC != grantFC {
			t.Fatalf("conflicting force-commands %q and %q merged", roleFC, grantFC)
		}
		sa, ok := out[OptSourceAddress]
		if ok != (roleSA != "" || grantSA != "") {
			t.Fatalf("source-address present = %v for inputs %q, %q", ok, roleSA, grantSA)
		}
		if !ok {
			return
		}
		merged, err := ParseSourceAddress(sa)
		if err != nil || formatPrefixes(merged) != sa {
			t.Fatalf("merged source-address %q is not canonical: %v", sa, err)
		}
		var sides [][]netip.Prefix
		for _, in := range []string{roleSA, grantSA} {
			if in != "" {
				p, err := ParseSourceAddress(in)
				if err != nil {
					t.Fatalf("an input that does not parse was merged: %q", in)
				}
				sides = append(sides, p)
			}
		}
		for _, side := range sides {
			for _, m := range merged {
				if !covered(side, m) {
					t.Fatalf("merged %s is outside %v", m, side)
				}
			}
		}
		if len(sides) == 2 {
			for _, x := range sides[0] {
				for _, y := range sides[1] {
					if n, ok := narrower(x, y); ok && !covered(merged, n) {
						t.Fatalf("%s, allowed by both, is missing from %q", n, sa)
					}
				}
			}
		}
	})
}

func options(fc, sa string) map[string]string {
	m := map[string]string{}
	if fc != "" {
		m[OptForceCommand] = fc
	}
	if sa != "" {
		m[OptSourceAddress] = sa
	}
	return m
}

// covered reports whether one of ps contains all of p.
func covered(ps []netip.Prefix, p netip.Prefix) bool {
	for _, q := range ps {
		if q.Bits() <= p.Bits() && q.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// narrower returns the narrower of two nested prefixes.
func narrower(x, y netip.Prefix) (netip.Prefix, bool) {
	switch {
	case covered([]netip.Prefix{x}, y):
		return y, true
	case covered([]netip.Prefix{y}, x):
		return x, true
	}
	return netip.Prefix{}, false
}
