package ssh

import (
	"maps"
	"strings"
	"testing"
)

type opts = map[string]string

func TestMergeExtensions(t *testing.T) {
	tests := []struct {
		name        string
		role, grant opts
		want        opts
		err         string
	}{
		{"neither: default", nil, nil, opts{"permit-pty": ""}, ""},
		{"role only", opts{"permit-port-forwarding": ""}, nil, opts{"permit-port-forwarding": ""}, ""},
		{"a grant cannot add to the role's defaults", nil, opts{"permit-agent-forwarding": ""}, opts{}, ""},
		{"a grant narrows the role's defaults", nil, opts{"permit-pty": "", "permit-user-rc": ""}, opts{"permit-pty": ""}, ""},
		{"both: intersection", opts{"permit-pty": "", "permit-port-forwarding": "", "permit-user-rc": ""},
			opts{"permit-pty": "", "permit-user-rc": "", "permit-X11-forwarding": ""},
			opts{"permit-pty": "", "permit-user-rc": ""}, ""},
		{"both: value from the role", opts{"login@example.com": "role"}, opts{"login@example.com": "grant"},
			opts{"login@example.com": "role"}, ""},
		{"empty grant allows nothing", opts{"permit-pty": ""}, opts{}, opts{}, ""},
		{"empty role allows nothing", opts{}, opts{"permit-pty": ""}, opts{}, ""},
		{"disjoint", opts{"permit-pty": ""}, opts{"permit-user-rc": ""}, opts{}, ""},
		{"unknown name", opts{"permit-everything": ""}, nil, nil, "unknown extension"},
		{"flag with value", nil, opts{"permit-pty": "yes"}, nil, "takes no value"},
		{"control character in value", opts{"x@example.com": "a\nb"}, nil, nil, "control character"},
		{"control character in name", nil, opts{"x\x01@example.com": ""}, nil, "control character"},
		{"empty name", opts{"": ""}, nil, nil, "is empty"},
	}
	for _, tt := range tests {
		got, err := MergeExtensions(tt.role, tt.grant)
		if wantErr(t, tt.name, err, tt.err) && !maps.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestMergeCriticalOptions(t *testing.T) {
	const fc, sa, vr = OptForceCommand, OptSourceAddress, OptVerifyRequired
	tests := []struct {
		name        string
		role, grant opts
		want        opts
		err         string
	}{
		{"neither", nil, nil, opts{}, ""},
		{"empty maps", opts{}, opts{}, opts{}, ""},
		{"force-command from role", opts{fc: "/bin/true"}, nil, opts{fc: "/bin/true"}, ""},
		{"force-command from grant", nil, opts{fc: "/bin/true"}, opts{fc: "/bin/true"}, ""},
		{"force-command equal", opts{fc: "/bin/true"}, opts{fc: "/bin/true"}, opts{fc: "/bin/true"}, ""},
		{"force-command conflict", opts{fc: "/bin/true"}, opts{fc: "/bin/false"}, nil, "force-command conflict"},
		{"force-command empty", opts{fc: " "}, nil, nil, "needs a command"},
		{"force-command newline", opts{fc: "a\nb"}, nil, nil, "control character"},
		{"verify-required either", nil, opts{vr: ""}, opts{vr: ""}, ""},
		{"verify-required with value", opts{vr: "yes"}, nil, nil, "takes no value"},
		{"unknown option", opts{"no-such-option": ""}, nil, nil, "unknown critical option"},
		{"vendor option", nil, opts{"x@example.com": ""}, nil, "unknown critical option"},
		{"source-address one side, canonical", opts{sa: "10.1.0.0/16, 10.0.0.0/8,192.168.1.7"}, nil,
			opts{sa: "10.0.0.0/8,192.168.1.7/32"}, ""},
		{"10/8 ∩ 10.1/16", opts{sa: "10.0.0.0/8"}, opts{sa: "10.1.0.0/16"}, opts{sa: "10.1.0.0/16"}, ""},
		{"10.1/16 ∩ 10/8", opts{sa: "10.1.0.0/16"}, opts{sa: "10.0.0.0/8"}, opts{sa: "10.1.0.0/16"}, ""},
		{"disjoint", opts{sa: "10.0.0.0/8"}, opts{sa: "192.168.0.0/16"}, nil, "no address in common"},
		{"v4 vs v6", opts{sa: "10.0.0.0/8"}, opts{sa: "2001:db8::/32"}, nil, "no address in common"},
		{"several pairs", opts{sa: "10.0.0.0/8,172.16.0.0/12,2001:db8::/32"},
			opts{sa: "10.2.0.0/16,172.16.5.4,192.168.0.0/16,2001:db8:1::/48"},
			opts{sa: "10.2.0.0/16,172.16.5.4/32,2001:db8:1::/48"}, ""},
		{"IPv6 narrower on role side", opts{sa: "2001:db8:1:2::/64"}, opts{sa: "2001:db8::/32"},
			opts{sa: "2001:db8:1:2::/64"}, ""},
		{"IPv6 bare address", opts{sa: "2001:db8::/32"}, opts{sa: "2001:db8::1"}, opts{sa: "2001:db8::1/128"}, ""},
		{"host inside both", opts{sa: "10.0.0.5"}, opts{sa: "10.0.0.0/24,10.0.0.0/8"}, opts{sa: "10.0.0.5/32"}, ""},
		{"redundant results reduced", opts{sa: "10.0.0.0/8,10.1.0.0/16"}, opts{sa: "10.0.0.0/8"}, opts{sa: "10.0.0.0/8"}, ""},
		{"all three", opts{fc: "/x", sa: "10.0.0.0/8"}, opts{vr: "", sa: "0.0.0.0/0"},
			opts{fc: "/x", sa: "10.0.0.0/8", vr: ""}, ""},
		{"host bits", opts{sa: "10.1.0.0/8"}, nil, nil, "bits set beyond"},
		{"empty entry", opts{sa: "10.0.0.0/8,"}, nil, nil, "empty entry"},
		{"empty value", nil, opts{sa: ""}, nil, "source-address is empty"},
		{"garbage", nil, opts{sa: "example.com"}, nil, "not an IP address"},
		{"bad prefix", nil, opts{sa: "10.0.0.0/33"}, nil, "not a CIDR"},
		{"zone", nil, opts{sa: "fe80::1%eth0"}, nil, "not an IP address"},
		{"4in6", nil, opts{sa: "::ffff:10.0.0.1"}, nil, "IPv4-mapped"},
		{"tab", nil, opts{sa: "10.0.0.0/8,\t10.1.0.0/16"}, nil, "control character"},
		{"grant side named", opts{sa: "10.0.0.0/8"}, opts{sa: "nope"}, nil, "grant:"},
	}
	for _, tt := range tests {
		got, err := MergeCriticalOptions(tt.role, tt.grant)
		if wantErr(t, tt.name, err, tt.err) && !maps.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestParseSourceAddressLimit(t *testing.T) {
	many := strings.Repeat("10.0.0.1,", maxSourceAddresses) + "10.0.0.2"
	if _, err := ParseSourceAddress(many); err == nil {
		t.Errorf("no error for %d entries", maxSourceAddresses+1)
	}
}
