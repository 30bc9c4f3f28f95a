package sqlitestore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
)

// UseToken records that the token with this key was exchanged. A second use
// before expiresAt returns ErrReplayed. Keys past their expiresAt are
// deleted on each call, so the table holds only live tokens and an expired
// key may be used again (the verifier refuses the expired token itself).
func (s *Store) UseToken(ctx context.Context, key string, expiresAt time.Time) error {
	if key == "" {
		return errors.New("record token use: empty key; pass the token's jti or a hash of the token")
	}
	return s.write(ctx, func(ctx context.Context, tx *wtx) error {
		return s.useToken(ctx, tx, key, expiresAt)
	})
}

// SpendAndPut spends the token (UseToken) and records the new lease (Put,
// or already Active: see lease.SpendingStore) in one write: both are
// durable, or neither happened. It is one commit where UseToken then Put
// are two.
func (s *Store) SpendAndPut(ctx context.Context, key string, expiresAt time.Time, l lease.Lease) error {
	if key == "" {
		return errors.New("record token use: empty key; pass the token's jti or a hash of the token")
	}
	check := l
	if check.State == lease.Active {
		check.State = lease.Pending // SpendAndPut also takes an Active lease
	}
	if err := lease.ValidateNew(check); err != nil {
		return fmt.Errorf("put lease %q: %w", l.ID, err)
	}
	return s.write(ctx, func(ctx context.Context, tx *wtx) error {
		if err := s.useToken(ctx, tx, key, expiresAt); err != nil {
			return err
		}
		return s.put(ctx, tx, l)
	})
}

// useToken is UseToken inside a write.
func (s *Store) useToken(ctx context.Context, tx *wtx, key string, expiresAt time.Time) error {
	now := time.Now().UnixNano()
	if _, err := tx.ExecContext(ctx, `DELETE FROM used_tokens WHERE expires_at <= ?`, now); err != nil {
		return fmt.Errorf("record token use: pruning expired tokens in %s: %w", s.path, err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO used_tokens (key, used_at, expires_at)
		VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING`, key, now, lease.ClampNanos(expiresAt))
	if err != nil {
		return fmt.Errorf("record token use in %s: %w", s.path, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("record token use in %s: %w", s.path, err)
	} else if n == 0 {
		return fmt.Errorf("token refused: %w; a token is exchanged once, rerun the job for a new one", lease.ErrReplayed)
	}
	return nil
}
