package aws

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/internal/lease"
	x509issuer "github.com/jit-policy/jit-policy/issuers/x509"
)

// RevokedPolicyName is the inline role policy that holds, per target role,
// the deny-all statements naming revoked sessions.
//
// Writing it needs iam:PutRolePolicy on the role, which could also add
// Allow statements: target roles need a permissions boundary that the
// issuer cannot change. The issuer warns, once per role, when a role has
// none.
const RevokedPolicyName = "jit-policy-revoked"

// InlinePolicyLimit is IAM's limit on the aggregate size of a role's
// inline policies, in characters, whitespace not counted. The role's other
// inline policies count against it too.
const InlinePolicyLimit = 10240

// nearLimit is the size from which the issuer warns (80 %).
const nearLimit = InlinePolicyLimit * 8 / 10

// clockSkew is how far the issuer's clock may lag behind AWS's: a session
// counts as expired only this long after its expiry.
const clockSkew = 5 * time.Minute

// writeAttempts bounds the writes of one revocation. IAM has no
// conditional write: another process writing the policy at the same time
// may replace the document, so every write is read back.
const writeAttempts = 3

// defaultSettle is how long a write is given before it is read back. IAM
// is eventually consistent, and a concurrent Prune elsewhere writes within
// about one round trip of its read.
const defaultSettle = 500 * time.Millisecond

// roleIDs caches, per role ARN, what iam:GetRole said (the role's unique
// id, the permissions boundary check) and serializes this process's reads
// and writes of the role's revocation policy. The zero value is ready; it
// is safe for concurrent use.
type roleIDs struct {
	mu    sync.Mutex
	roles map[string]*roleState
}

// roleState is one role's entry. Its fields other than write are guarded
// by write.
type roleState struct {
	write   sync.Mutex
	checked bool   // GetRole answered, or refused access; not asked again
	id      string // the role's unique id (AROA…), when GetRole answered
}

func (r *roleIDs) get(arn string) *roleState {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.roles == nil {
		r.roles = map[string]*roleState{}
	}
	st, ok := r.roles[arn]
	if !ok {
		st = &roleState{}
		r.roles[arn] = st
	}
	return st
}

// Revoke denies the lease's session everything: it adds the session's
// aws:userid (role id:session name) to a deny-all statement of the role's
// inline policy RevokedPolicyName, merging with what is there. Revoking
// twice is harmless. IAM is eventually consistent: the deny takes effect
// within seconds, not at once.
//
// The aws:userid is the AssumedRoleId STS returned when issuing; without
// it (MinIO returns none) it is built from iam:GetRole's RoleId and the
// recorded session name. A session that has expired needs no deny. A
// certificate-mode role without a role ARN (MinIO's
// AssumeRoleWithCertificate) has no IAM role to deny on: its sessions end
// only at their expiry, which Revoke logs.
func (i *Issuer) Revoke(ctx context.Context, l lease.Lease) error {
	role, ok := i.cfg.Roles[l.Role]
	if !ok {
		return fmt.Errorf("aws role %q of lease %s is not configured here: add it under issuers.aws.roles, or revoke where it is configured", l.Role, l.ID)
	}
	if role.RoleARN == "" {
		i.log.Warn("aws session cannot be revoked at the backend: it ends only at its expiry",
			"lease", l.ID, "role", l.Role, "expires_at", l.ExpiresAt,
			"why", "a certificate-mode role without role_arn (STS AssumeRoleWithCertificate) has no IAM role to hold a deny statement")
		return nil
	}
	now := time.Now()
	if !l.ExpiresAt.IsZero() && l.ExpiresAt.Add(clockSkew).Before(now) {
		return nil // expired: STS no longer honours it
	}
	session := sessionNameOf(l, role)
	if l.Credential.AssumedRoleID == "" && session == "" {
		return fmt.Errorf("lease %s records neither the session's AssumedRoleId nor its session name: nothing names the session to deny; it ends at its expiry (%s)", l.ID, l.ExpiresAt.Format(time.RFC3339))
	}
	name, err := roleName(role.RoleARN)
	if err != nil {
		return err
	}
	st := i.roles.get(role.RoleARN)
	st.write.Lock()
	defer st.write.Unlock()

	userID := l.Credential.AssumedRoleID
	roleID, err := i.roleID(ctx, role.RoleARN, name, st, userID == "")
	if err != nil {
		return err
	}
	if userID == "" {
		userID = roleID + ":" + session
	}
	exp := l.ExpiresAt
	if exp.IsZero() {
		exp = now.Add(MaxTTL) // no session outlives this
	}
	until := ceilHour(exp)

	for attempt := 1; ; attempt++ {
		p, _, err := i.readPolicy(ctx, role.RoleARN, name)
		if err != nil {
			return err
		}
		dropped := p.prune(now)
		added := p.add(until, userID)
		if dropped == 0 && !added {
			return nil // already denied
		}
		doc, size, err := p.encode()
		if err != nil {
			return err
		}
		if size > InlinePolicyLimit {
			return fmt.Errorf("denying %s on %s would make %s %d characters, over IAM's %d-character inline-policy limit: run `jit-policy sweep` to prune the sessions that have expired, or lower max_ttl so that they expire sooner",
				userID, role.RoleARN, RevokedPolicyName, size, InlinePolicyLimit)
		}
		if err := i.putPolicy(ctx, role.RoleARN, name, doc); err != nil {
			return err
		}
		if size > nearLimit {
			i.log.Warn("role's revocation policy nears IAM's inline-policy size limit",
				"role_arn", role.RoleARN, "policy", RevokedPolicyName, "characters", size, "limit", InlinePolicyLimit,
				"fix", "run `jit-policy sweep` to prune expired sessions, or lower max_ttl")
		}
		if err := sleep(ctx, i.settle); err != nil {
			return err
		}
		back, _, err := i.readPolicy(ctx, role.RoleARN, name)
		if err != nil {
			return fmt.Errorf("reading back the deny for %s: %w", userID, err)
		}
		if back.has(userID) {
			return nil
		}
		if attempt == writeAttempts {
			return fmt.Errorf("%s on %s still lacks %s after %d writes: another process keeps rewriting it (IAM has no conditional write); the next revoke or sweep retries", RevokedPolicyName, role.RoleARN, userID, writeAttempts)
		}
		i.log.Info("revocation policy was rewritten concurrently; writing again", "role_arn", role.RoleARN, "aws_userid", userID, "attempt", attempt)
	}
}

// roleID asks iam:GetRole, once per role, for the role's unique id and
// warns when the role has no permissions boundary. When the id is not
// needed (the session's AssumedRoleId is known), a failing GetRole is only
// logged.
func (i *Issuer) roleID(ctx context.Context, arn, name string, st *roleState, need bool) (string, error) {
	if st.id != "" || (st.checked && !need) {
		return st.id, nil
	}
	cctx, cancel := context.WithTimeout(ctx, backendTimeout)
	out, err := i.iam.GetRole(cctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	cancel()
	if err == nil && (out.Role == nil || aws.ToString(out.Role.RoleId) == "") {
		err = errors.New("IAM returned no role id")
	}
	if err != nil {
		err = fmt.Errorf("iam:GetRole %s: %w", arn, adviseIAM(err, arn))
		if need {
			return "", fmt.Errorf("%w (the lease records no AssumedRoleId, so the session's aws:userid is built from the role's id)", err)
		}
		if errorCode(err) == "AccessDenied" {
			st.checked = true // not asked again: it would be refused again
		}
		i.log.Warn("could not read the role to check its permissions boundary", "role_arn", arn, "err", err)
		return "", nil
	}
	st.checked, st.id = true, aws.ToString(out.Role.RoleId)
	if out.Role.PermissionsBoundary == nil {
		i.log.Warn("role has no permissions boundary",
			"role_arn", arn,
			"risk", "revocation needs iam:PutRolePolicy on this role, with which the issuer could also add Allow statements: attach a permissions boundary that the issuer cannot change")
	}
	return st.id, nil
}

// sessionNameOf is the session name a lease's session carries: Roles
// Anywhere names its sessions by the certificate's serial, which the lease's
// X.509 key id holds from before issuing (so a lease whose issuing process
// died is still revoked); other modes use the name chosen for the lease.
func sessionNameOf(l lease.Lease, role config.AWSRole) string {
	if role.Mode == config.AWSModeCertificate && role.TrustAnchorARN != "" {
		if serial, err := x509issuer.SerialFromKeyID(l.Credential.KeyID); err == nil {
			return RolesAnywhereSessionName(serial)
		}
	}
	return l.Credential.SessionName
}

// roleName is the name of the role of an IAM role ARN: its last segment
// (roles may have paths, arn:aws:iam::123456789012:role/path/name).
func roleName(arn string) (string, error) {
	_, rest, ok := strings.Cut(arn, ":role/")
	name := rest[strings.LastIndex(rest, "/")+1:]
	if !ok || !strings.HasPrefix(arn, "arn:") || name == "" {
		return "", fmt.Errorf("role_arn %q is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)", arn)
	}
	return name, nil
}

// ceilHour is t rounded up to a whole hour, in Unix seconds.
func ceilHour(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return (s + 3599) / 3600 * 3600
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
