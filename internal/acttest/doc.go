// Package acttest holds the acceptance test of the GitHub Action: real
// workflows that use the action (`uses: ./`) run under act
// (github.com/nektos/act) on this machine, with the runner's OIDC token
// endpoint served by the test's own issuer, a file CA and a lease store the
// test inspects afterwards. TestBrokerEndToEnd runs `jit-policy serve` as
// a child process and a workflow whose job holds only its token uses it
// through the action's broker input, against a real sshd (internal/sshdtest)
// that reads the broker's KRL. It also tests the JavaScript shim in dist/
// directly with node. It has no code outside its tests.
//
// Without act the tests skip, except under CI=true, where they fail:
// install it with `go install github.com/nektos/act@v0.2.89`.
package acttest
