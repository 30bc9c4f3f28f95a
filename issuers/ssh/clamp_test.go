package ssh

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/engine"
)

func TestPlanTTL(t *testing.T) {
	iss := newIssuer(t, ed25519Signer(t))
	tests := []struct {
		name      string
		role      string // deploy: role max 15m; wide: none; issuer max 1h
		requested time.Duration
		grant     *int64
		want      time.Duration
		err       string
	}{
		{"zero asks for the role max", "deploy", 0, nil, 15 * time.Minute, ""},
		{"zero, no role max: issuer max", "wide", 0, nil, time.Hour, ""},
		{"requested below every cap", "deploy", 5 * time.Minute, nil, 5 * time.Minute, ""},
		{"requested above role max", "deploy", 2 * time.Hour, nil, 15 * time.Minute, ""},
		{"requested above issuer max", "wide", 3 * time.Hour, nil, time.Hour, ""},
		{"grant lowest", "deploy", 10 * time.Minute, ttlSeconds(120), 2 * time.Minute, ""},
		{"grant above role", "deploy", 0, ttlSeconds(3600), 15 * time.Minute, ""},
		{"huge grant", "wide", 0, ttlSeconds(1 << 62), time.Hour, ""},
		{"requested lowest of all", "deploy", 90 * time.Second, ttlSeconds(300), 90 * time.Second, ""},
		{"negative request", "deploy", -time.Second, nil, 0, "negative"},
		{"grant zero", "deploy", 0, ttlSeconds(0), 0, "must be positive"},
		{"grant negative", "deploy", 0, ttlSeconds(-5), 0, "must be positive"},
		{"under a second", "deploy", 500 * time.Millisecond, nil, 0, "shorter than a second"},
	}
	for _, tt := range tests {
		req := request(tt.role, nil)
		req.TTL = tt.requested
		req.Grant = &engine.Grant{MaxTTLSeconds: tt.grant}
		p, err := iss.Plan(req)
		if !wantErr(t, tt.name, err, tt.err) {
			continue
		}
		if p.TTL != tt.want {
			t.Errorf("%s: TTL %v, want %v", tt.name, p.TTL, tt.want)
		}
		if !p.ValidBefore.Equal(testNow.Add(tt.want)) || !p.ValidAfter.Equal(testNow.Add(-ClockSkew)) {
			t.Errorf("%s: validity %v – %v", tt.name, p.ValidAfter, p.ValidBefore)
		}
	}
}

func TestPlanValidityRoundsDown(t *testing.T) {
	req := request("deploy", nil)
	req.Now = testNow.Add(700 * time.Millisecond)
	p, err := newIssuer(t, ed25519Signer(t)).Plan(req)
	if err != nil {
		t.Fatal(err)
	}
	if !p.ValidBefore.Equal(testNow.Add(15*time.Minute)) || p.ValidBefore.After(req.Now.Add(p.TTL)) {
		t.Errorf("ValidBefore %v is not Now+TTL rounded down", p.ValidBefore)
	}
}

func TestPlanPrincipals(t *testing.T) {
	iss := newIssuer(t, ed25519Signer(t)) // role deploy: deploy, ubuntu, admin
	tests := []struct {
		name      string
		requested []string
		grant     *engine.Grant
		want      []string
		err       string
	}{
		{"nil grant, nothing requested: the role's", nil, nil, []string{"deploy", "ubuntu", "admin"}, ""},
		{"grant without principals does not constrain", nil, &engine.Grant{}, []string{"deploy", "ubuntu", "admin"}, ""},
		{"empty grant allows nothing", nil, grant([]string{}), nil, "the policy grants none"},
		{"empty grant, requested", []string{"deploy"}, grant([]string{}), nil, "no principal is allowed"},
		{"grant ∩ role", nil, grant([]string{"ubuntu", "root", "deploy"}), []string{"deploy", "ubuntu"}, ""},
		{"requested ∩ grant ∩ role", []string{"admin", "ubuntu"}, grant([]string{"ubuntu", "admin", "root"}),
			[]string{"admin", "ubuntu"}, ""},
		{"requested ⊄ role: only the intersection", []string{"root", "deploy", "nobody"}, nil, []string{"deploy"}, ""},
		{"requested outside grant", []string{"admin"}, grant([]string{"deploy"}), nil, "no principal is allowed"},
		{"grant disjoint from role", nil, grant([]string{"root"}), nil, "no principal is allowed"},
		{"requested only outside", []string{"root"}, nil, nil, "requested root"},
		{"duplicates collapse", []string{"deploy", "deploy"}, nil, []string{"deploy"}, ""},
		{"invalid requested", []string{"deploy,root"}, nil, nil, "requested principal"},
		{"invalid grant", nil, grant([]string{"a b"}), nil, "grant principal"},
	}
	for _, tt := range tests {
		req := request("deploy", nil)
		req.Principals = tt.requested
		req.Grant = tt.grant
		p, err := iss.Plan(req)
		if !wantErr(t, tt.name, err, tt.err) {
			continue
		}
		if !slices.Equal(p.Principals, tt.want) {
			t.Errorf("%s: principals %v, want %v", tt.name, p.Principals, tt.want)
		}
	}
}

func TestValidatePrincipal(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"deploy", true},
		{"ubuntu-22.04_x@corp", true},
		{"José", true},
		{strings.Repeat("a", MaxPrincipalBytes), true},
		{"", false},
		{strings.Repeat("a", MaxPrincipalBytes+1), false},
		{"a,b", false},
		{"a b", false},
		{"a\tb", false},
		{"a\n", false},
		{"a\x00", false},
		{"a\x7f", false},
		{"a\u0085b", false}, // NEL
		{"a\u00a0b", false}, // no-break space
		{"a\u200bb", false}, // zero-width space (format)
		{"a\u202eb", false}, // right-to-left override
		{"a\u3000b", false}, // ideographic space
		{"\xff", false},
	}
	for _, tt := range tests {
		if err := ValidatePrincipal(tt.in); (err == nil) != tt.ok {
			t.Errorf("ValidatePrincipal(%q) = %v, want ok = %v", tt.in, err, tt.ok)
		}
	}
}
