// Package engine loads a jit-policy policy tree and evaluates access
// requests against it.
//
// A policy tree is loaded the way OPA loads a bundle: every *.rego file, and
// data only from files named data.json or data.yaml. Modules are compiled
// strictly against a capabilities list without network, runtime or
// nondeterministic builtins (see [Capabilities]), because policies run in the
// process that holds CA keys and backend admin rights. One query is prepared
// per [Engine]; it reads exactly data.jit.allow, data.jit.deny and
// data.jit.grant.
//
// Every error fails closed: a compile error, a runtime error, a timeout or an
// input that does not fit the schema yields a [Decision] that denies, with the
// error as its reason.
package engine
