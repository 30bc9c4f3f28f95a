package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
)

// pruneEvery is how often a Store deletes expired token keys, and
// pruneBatch how many at most at a time.
const (
	pruneEvery = time.Minute
	pruneBatch = 1000
)

// UseToken records that the token with this key was exchanged, by every
// runner sharing the database. A second use before expiresAt returns
// ErrReplayed; a key whose expiresAt has passed (on the database's clock)
// may be used again (the verifier refuses the expired token itself). One
// INSERT … ON CONFLICT decides concurrent uses, so exactly one succeeds.
func (s *Store) UseToken(ctx context.Context, key string, expiresAt time.Time) error {
	if key == "" {
		return errors.New("record token use: empty key; pass the token's jti or a hash of the token")
	}
	if err := s.pruneTokens(ctx); err != nil {
		return err
	}
	n, err := s.exec(ctx, `INSERT INTO jit_used_tokens AS u (key, used_at, expires_at)
		VALUES ($1, `+nowNS+`, $2)
		ON CONFLICT (key) DO UPDATE SET used_at = excluded.used_at, expires_at = excluded.expires_at
		WHERE u.expires_at <= excluded.used_at`, key, lease.ClampNanos(expiresAt))
	switch {
	case err != nil:
		return fmt.Errorf("record token use in %s: %w", s.where, err)
	case n == 0:
		return fmt.Errorf("token refused: %w; a token is exchanged once, rerun the job for a new one", lease.ErrReplayed)
	}
	return nil
}

// pruneTokens deletes up to pruneBatch expired keys, at most once per
// pruneEvery per Store. Concurrent pruners skip each other's rows (FOR
// UPDATE SKIP LOCKED) instead of waiting.
func (s *Store) pruneTokens(ctx context.Context) error {
	last, now := s.prunedAt.Load(), time.Now().UnixNano()
	if now-last < int64(pruneEvery) || !s.prunedAt.CompareAndSwap(last, now) {
		return nil
	}
	_, err := s.exec(ctx, `DELETE FROM jit_used_tokens WHERE key IN (
		SELECT key FROM jit_used_tokens WHERE expires_at <= `+nowNS+`
		ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)`, pruneBatch)
	if err != nil {
		s.prunedAt.Store(last) // retry on the next call
		return fmt.Errorf("record token use: pruning expired tokens in %s: %w", s.where, err)
	}
	return nil
}
