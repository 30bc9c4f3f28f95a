package leasesql

import (
	"errors"
	"github.com/jit-policy/jit-policy/internal/lease"
	"math"
	"reflect"
	"testing"
	"time"
)

// fakeRows serves rows of Columns from memory, as a driver's rows would.
type fakeRows struct {
	rows    [][]any // each row's values in Columns order
	next    int
	scanErr error
	err     error
}

func (f *fakeRows) Next() bool {
	f.next++
	return f.next <= len(f.rows)
}

func (f *fakeRows) Scan(dest ...any) error {
	if f.scanErr != nil {
		return f.scanErr
	}
	for i, v := range f.rows[f.next-1] {
		reflect.ValueOf(dest[i]).Elem().Set(reflect.ValueOf(v))
	}
	return nil
}

func (f *fakeRows) Err() error { return f.err }

// rowValues returns a row of Columns for a lease "a", revoked at revokedAt
// (nil: not revoked), with this serial bit pattern.
func rowValues(serial int64, revokedAt *int64) []any {
	return []any{"a", "ssh", "deploy", "alice",
		"iss", "github", "acme/app", "9", "2", "77", int64(12),
		serial, "jit/a", "jit-a", "AROA:jit-a", "jit_a",
		"decision-a", "revoked", int64(1_800_000_000_123456789), int64(1_800_000_900_123456789), revokedAt, "sweep"}
}

func TestScanLeases(t *testing.T) {
	revoked := int64(1_800_003_600_000000001)
	want := lease.Lease{
		ID: "a", Issuer: "ssh", Role: "deploy", Subject: "alice",
		Job:        lease.Job{Issuer: "iss", Provider: "github", Repository: "acme/app", RunID: "9", Attempt: "2", JobID: "77"},
		PR:         12,
		Credential: lease.Credential{Serial: 1<<63 + 5, KeyID: "jit/a", SessionName: "jit-a", AssumedRoleID: "AROA:jit-a", RoleName: "jit_a"},
		DecisionID: "decision-a",
		State:      lease.Revoked,
		IssuedAt:   time.Unix(0, 1_800_000_000_123456789).UTC(),
		ExpiresAt:  time.Unix(0, 1_800_000_900_123456789).UTC(),
		RevokedAt:  time.Unix(0, revoked).UTC(),
		RevokedBy:  "sweep",
	}
	notRevoked := want
	notRevoked.RevokedAt = time.Time{}
	failed := errors.New("connection lost")
	cases := []struct {
		name    string
		rows    *fakeRows
		want    []lease.Lease
		wantErr error
	}{
		{"none", &fakeRows{}, nil, nil},
		{"revoked and not", &fakeRows{rows: [][]any{
			rowValues(math.MinInt64+5, &revoked),
			rowValues(math.MinInt64+5, nil),
		}}, []lease.Lease{want, notRevoked}, nil},
		{"scan fails", &fakeRows{rows: [][]any{rowValues(0, nil)}, scanErr: failed}, nil, failed},
		{"rows fail", &fakeRows{err: failed}, nil, failed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ScanLeases(c.rows)
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("ScanLeases: error %v, want %v", err, c.wantErr)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("ScanLeases = %+v, want %+v", got, c.want)
			}
			for i, l := range got {
				if l.IssuedAt.Location() != time.UTC || l.ExpiresAt.Location() != time.UTC {
					t.Errorf("lease %d: times in %v, %v; want UTC", i, l.IssuedAt.Location(), l.ExpiresAt.Location())
				}
			}
		})
	}
}

func TestScanClaimed(t *testing.T) {
	const claimedAt = int64(1_800_000_060_123456789)
	want := lease.Lease{
		ID: "a", Issuer: "ssh", Role: "deploy", Subject: "alice",
		Job:        lease.Job{Issuer: "iss", Provider: "github", Repository: "acme/app", RunID: "9", Attempt: "2", JobID: "77"},
		PR:         12,
		Credential: lease.Credential{Serial: 5, KeyID: "jit/a", SessionName: "jit-a", AssumedRoleID: "AROA:jit-a", RoleName: "jit_a"},
		DecisionID: "decision-a",
		State:      lease.Revoked,
		IssuedAt:   time.Unix(0, 1_800_000_000_123456789).UTC(),
		ExpiresAt:  time.Unix(0, 1_800_000_900_123456789).UTC(),
		RevokedBy:  "sweep",
		ClaimedAt:  time.Unix(0, claimedAt).UTC(),
	}
	failed := errors.New("connection lost")
	cases := []struct {
		name    string
		rows    *fakeRows
		want    lease.Lease
		wantErr error
	}{
		{"claimed", &fakeRows{rows: [][]any{append(rowValues(5, nil), claimedAt)}}, want, nil},
		{"scan fails", &fakeRows{rows: [][]any{append(rowValues(5, nil), claimedAt)}, scanErr: failed}, lease.Lease{}, failed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.rows.Next()
			got, err := ScanClaimed(c.rows)
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("ScanClaimed: error %v, want %v", err, c.wantErr)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("ScanClaimed = %+v, want %+v", got, c.want)
			}
			if err == nil && got.ClaimedAt.Location() != time.UTC {
				t.Errorf("ClaimedAt in %v, want UTC", got.ClaimedAt.Location())
			}
		})
	}
}
