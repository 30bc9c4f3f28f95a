package engine

import (
	"slices"

	"github.com/open-policy-agent/opa/v1/ast"
)

// Capabilities returns the builtins policies may call: OPA's current
// capabilities without any builtin that reaches the network, reads the
// runtime, or is nondeterministic (http.send, net.lookup_ip_addr,
// opa.runtime, rand.intn, uuid.rfc4122, json.match_schema, io.jwt.*_sign,
// io.jwt.decode_verify, …). time.now_ns stays: evaluation time is fixed per
// decision (input.now), so it is deterministic here. A policy that calls a
// removed builtin fails to compile with "undefined function NAME".
//
// Each call returns a fresh value the caller may modify.
func Capabilities() *ast.Capabilities {
	caps := ast.CapabilitiesForThisVersion()
	caps.Builtins = slices.DeleteFunc(caps.Builtins, func(b *ast.Builtin) bool {
		return removedBuiltin(b)
	})
	caps.AllowNet = []string{}
	return caps
}

// removedBuiltin reports whether b is kept out of policies.
func removedBuiltin(b *ast.Builtin) bool {
	switch b.Name {
	case ast.NowNanos.Name:
		return false
	case ast.OPARuntime.Name:
		return true
	}
	return b.Nondeterministic
}
