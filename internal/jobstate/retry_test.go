package jobstate

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/internal/httpretry"
)

// The retry policy itself is tested in internal/httpretry.

func TestClassifyTooLarge(t *testing.T) {
	ctx := context.Background()
	if o := classify(ctx, nil, fmt.Errorf("reading the answer: %w", errTooLarge)); o != (httpretry.Outcome{}) {
		t.Errorf("oversized body: classify = %+v, want not retryable", o)
	}
	if o := classify(ctx, nil, errors.New("connection reset")); !o.Retryable {
		t.Errorf("network error: classify = %+v, want retryable", o)
	}
}

func TestHuman(t *testing.T) {
	for d, want := range map[time.Duration]string{
		7 * time.Hour:                   "7h",
		6*time.Hour + 30*time.Minute:    "6h30m",
		45*time.Minute + 10*time.Second: "45m",
		120 * time.Hour:                 "120h",
		20 * time.Second:                "under a minute",
	} {
		if got := human(d); got != want {
			t.Errorf("human(%v) = %q, want %q", d, got, want)
		}
	}
}
