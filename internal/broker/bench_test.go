package broker_test

import (
	"net/http"
	"testing"

	"github.com/jit-policy/jit-policy/internal/brokerapi"
	"github.com/jit-policy/jit-policy/internal/oidctest"
)

// BenchmarkIssue measures POST /v1/issue end to end over loopback HTTP
// (SQLite store, file CA, real policy); tokens are minted beforehand.
func BenchmarkIssue(b *testing.B) {
	s := newStack(b, newEnv(b), nil)
	tokens := make([]string, b.N)
	for i := range tokens {
		tokens[i] = s.env.OIDC.Mint(b, oidctest.MintOptions{})
	}
	body := mustJSON(b, brokerapi.IssueRequest{Issuer: "ssh", Role: "deploy", Principals: []string{"nobody"}, PublicKey: publicKey(b)})
	b.SetParallelism(32) // many jobs at once: throughput, not one request's latency
	b.ResetTimer()
	var i int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := next(&i)
			code, _, resp := call(b, http.MethodPost, s.url+brokerapi.PathIssue, tokens[n], "application/json", body)
			if code != http.StatusOK {
				b.Fatalf("%d %s", code, resp)
			}
		}
	})
}
