package leasesql

import (
	"github.com/jit-policy/jit-policy/internal/lease"
	"math"
	"reflect"
	"strconv"
	"testing"
	"time"
)

func TestWhere(t *testing.T) {
	dollar := func(n int) string { return "$" + strconv.Itoa(n) }
	question := func(int) string { return "?" }
	at := time.Unix(0, 1_800_000_000_000000007)
	cases := []struct {
		name        string
		f           lease.Filter
		placeholder func(int) string
		want        string
		wantArgs    []any
	}{
		{"everything", lease.Filter{}, dollar, "", nil},
		{"states, dollar", lease.Filter{States: []lease.State{lease.Pending, lease.Active}, Subject: "alice"}, dollar,
			" WHERE state IN ($1, $2) AND subject = $3", []any{"pending", "active", "alice"}},
		{"states, question", lease.Filter{States: []lease.State{lease.Revoking}}, question,
			" WHERE state IN (?)", []any{"revoking"}},
		{"job and pr", lease.Filter{Issuer: "ssh", Job: lease.Job{Issuer: "i", Provider: "p", Repository: "r", RunID: "1", Attempt: "2", JobID: "3"}, PR: 7}, question,
			" WHERE issuer = ? AND job_issuer = ? AND job_provider = ? AND job_repository = ? AND job_run_id = ? AND job_attempt = ? AND job_id = ? AND pr = ?",
			[]any{"ssh", "i", "p", "r", "1", "2", "3", int64(7)}},
		{"times, clamped", lease.Filter{ExpiresBefore: at, IssuedBefore: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}, dollar,
			" WHERE expires_at < $1 AND issued_at < $2", []any{at.UnixNano(), int64(math.MaxInt64)}},
		{"expires after", lease.Filter{ExpiresAfter: at, ExpiresBefore: at.Add(time.Hour)}, question,
			" WHERE expires_at < ? AND expires_at >= ?", []any{at.Add(time.Hour).UnixNano(), at.UnixNano()}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, args := Where(c.f, c.placeholder)
			if got != c.want || !reflect.DeepEqual(args, c.wantArgs) {
				t.Errorf("Where = %q, %#v; want %q, %#v", got, args, c.want, c.wantArgs)
			}
		})
	}
}
