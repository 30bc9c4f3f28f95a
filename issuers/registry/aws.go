package registry

import (
	"context"
	"time"

	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/issuers"
	awsissuer "github.com/jit-policy/jit-policy/issuers/aws"
)

// awsEntry is the AWS issuer, built on first use, with its capability to
// prune the revocation policies for the sweep.
type awsEntry struct{ lazy }

// newAWS builds the AWS issuer; certificate-mode roles issue their
// certificates through certs, the configured x509 issuer (nil when none).
func newAWS(ctx context.Context, c *config.AWSIssuer, certs issuers.Issuer) (issuers.Issuer, error) {
	return awsissuer.New(context.WithoutCancel(ctx), c, awsissuer.Options{Certificates: certs})
}

// Check builds the AWS issuer if needed (which reaches no backend) and
// checks the request before anything is recorded.
func (e *awsEntry) Check(ctx context.Context, req issuers.Request) error {
	iss, err := e.get(ctx)
	if err != nil {
		return err
	}
	return iss.(issuers.Checker).Check(ctx, req)
}

// Prune drops the expired entries of every role's revocation policy.
func (e *awsEntry) Prune(ctx context.Context, now time.Time) ([]string, error) {
	iss, err := e.get(ctx)
	if err != nil {
		return nil, err
	}
	p, ok := iss.(interface {
		Prune(context.Context, time.Time) ([]string, error)
	})
	if !ok {
		return nil, nil
	}
	return p.Prune(ctx, now)
}
