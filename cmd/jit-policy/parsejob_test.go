package main

import (
	"testing"

	"github.com/jit-policy/jit-policy/internal/lease"
)

func TestParseJob(t *testing.T) {
	tests := []struct {
		in      string
		want    lease.Job
		wantErr bool
	}{
		{"", lease.Job{}, false},
		{"org/app/12/1", lease.Job{Repository: "org/app", RunID: "12", Attempt: "1"}, false},
		{"org/app/12/1/99", lease.Job{Repository: "org/app", RunID: "12", Attempt: "1", JobID: "99"}, false},
		{"org/app/12", lease.Job{}, true},
		{"org//12/1", lease.Job{}, true},
		{"org/app/12/1/99/x", lease.Job{}, true},
	}
	for _, tc := range tests {
		got, err := parseJob(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("parseJob(%q) = %+v, %v; want %+v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}
