package aws

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

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

// revokedSid prefixes the Sid of the issuer's statements; the rest is the
// Unix time (a whole hour) by which every session it names has expired.
const revokedSid = "JitRevokedUntil"

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

// Prune drops, from the revocation policy of every configured role, the
// statements whose sessions have all expired at now, and deletes the
// policy when nothing is left in it. It returns one note per role whose
// policy holds sessions (how many, its size against IAM's limit), and a
// note for each that nears the limit.
//
// IAM has no conditional write: a revoke written by another process
// between Prune's last read and its write would be lost. Prune reads twice
// to narrow that window, and Revoke reads its write back after a pause
// and writes again when it is gone.
func (i *Issuer) Prune(ctx context.Context, now time.Time) ([]string, error) {
	arns := map[string]bool{}
	for _, r := range i.cfg.Roles {
		if r.RoleARN != "" {
			arns[r.RoleARN] = true
		}
	}
	var notes []string
	var errs []error
	for _, arn := range slices.Sorted(maps.Keys(arns)) {
		n, err := i.pruneRole(ctx, arn, now)
		notes = append(notes, n...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return notes, errors.Join(errs...)
}

func (i *Issuer) pruneRole(ctx context.Context, arn string, now time.Time) ([]string, error) {
	name, err := roleName(arn)
	if err != nil {
		return nil, err
	}
	st := i.roles.get(arn)
	st.write.Lock()
	defer st.write.Unlock()
	if _, err := i.roleID(ctx, arn, name, st, false); err != nil {
		return nil, err
	}
	p, found, err := i.readPolicy(ctx, arn, name)
	if err != nil || !found {
		return nil, err
	}
	dropped := 0
	for attempt := 1; attempt <= writeAttempts; attempt++ {
		if dropped = p.prune(now); dropped == 0 {
			break
		}
		again, found, err := i.readPolicy(ctx, arn, name)
		if err != nil || !found {
			return nil, err
		}
		if again.raw != p.raw {
			// Written meanwhile: start from the newer document, or leave
			// it to the next sweep.
			p, dropped = again, 0
			continue
		}
		if len(p.buckets) == 0 && len(p.foreign) == 0 {
			if err := i.deletePolicy(ctx, arn, name); err != nil {
				return nil, err
			}
			return []string{fmt.Sprintf("%s: %s deleted: every session it denied has expired", arn, RevokedPolicyName)}, nil
		}
		doc, _, err := p.encode()
		if err != nil {
			return nil, err
		}
		if err := i.putPolicy(ctx, arn, name, doc); err != nil {
			return nil, err
		}
		break
	}
	_, size, err := p.encode()
	if err != nil {
		return nil, err
	}
	n := p.sessions()
	note := fmt.Sprintf("%s: %s holds %d %s, %s of %s characters", arn, RevokedPolicyName, n, plural(n, "session", "sessions"), thousands(size), thousands(InlinePolicyLimit))
	if dropped > 0 {
		note += fmt.Sprintf(" (pruned %d expired %s)", dropped, plural(dropped, "statement", "statements"))
	}
	notes := []string{note}
	if size > nearLimit {
		notes = append(notes, fmt.Sprintf("%s: %s is nearing IAM's %s-character inline-policy limit (%d %%), which it shares with the role's other inline policies: revokes fail beyond it; lower max_ttl so that sessions expire sooner, or sweep more often",
			arn, RevokedPolicyName, thousands(InlinePolicyLimit), size*100/InlinePolicyLimit))
	}
	return notes, nil
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

// readPolicy returns the role's revocation policy; found is false (and
// the policy empty) when the role has none.
func (i *Issuer) readPolicy(ctx context.Context, arn, name string) (p *revokedPolicy, found bool, err error) {
	cctx, cancel := context.WithTimeout(ctx, backendTimeout)
	defer cancel()
	out, err := i.iam.GetRolePolicy(cctx, &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(RevokedPolicyName)})
	if errorCode(err) == "NoSuchEntity" {
		p, _ = parsePolicy("")
		return p, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("iam:GetRolePolicy %s on %s: %w", RevokedPolicyName, arn, adviseIAM(err, arn))
	}
	doc, err := decodeDocument(aws.ToString(out.PolicyDocument))
	if err == nil {
		p, err = parsePolicy(doc)
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading inline policy %s of %s: %w (fix it, or delete it if it holds only expired sessions)", RevokedPolicyName, arn, err)
	}
	return p, true, nil
}

func (i *Issuer) putPolicy(ctx context.Context, arn, name, doc string) error {
	cctx, cancel := context.WithTimeout(ctx, backendTimeout)
	defer cancel()
	_, err := i.iam.PutRolePolicy(cctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(RevokedPolicyName), PolicyDocument: aws.String(doc)})
	if err != nil {
		return fmt.Errorf("iam:PutRolePolicy %s on %s: %w", RevokedPolicyName, arn, adviseIAM(err, arn))
	}
	return nil
}

func (i *Issuer) deletePolicy(ctx context.Context, arn, name string) error {
	cctx, cancel := context.WithTimeout(ctx, backendTimeout)
	defer cancel()
	_, err := i.iam.DeleteRolePolicy(cctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(RevokedPolicyName)})
	if err != nil && errorCode(err) != "NoSuchEntity" {
		return fmt.Errorf("iam:DeleteRolePolicy %s on %s: %w", RevokedPolicyName, arn, adviseIAM(err, arn))
	}
	return nil
}

// errorCode is the AWS error code of err, or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// adviseIAM adds what to do to the IAM errors revocation meets.
func adviseIAM(err error, arn string) error {
	switch errorCode(err) {
	case "AccessDenied", "AccessDeniedException":
		return fmt.Errorf("%w (the issuer needs iam:GetRole, iam:GetRolePolicy, iam:PutRolePolicy and iam:DeleteRolePolicy on %s)", err, arn)
	case "NoSuchEntity":
		return fmt.Errorf("%w (no such role: check role_arn)", err)
	case "LimitExceeded":
		return fmt.Errorf("%w (the role's inline policies exceed IAM's %d-character limit: run `jit-policy sweep` to prune expired sessions, shrink the role's other inline policies, or lower max_ttl)", err, InlinePolicyLimit)
	case "MalformedPolicyDocument":
		return fmt.Errorf("%w (a statement of %s that jit-policy did not write is invalid: fix or remove it)", err, RevokedPolicyName)
	case "UnmodifiableEntity":
		return fmt.Errorf("%w (a service-linked role cannot be changed: use a role of your own)", err)
	}
	return err
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

// decodeDocument undoes IAM's URL encoding of a returned policy document
// (RFC 3986: a space is %20, so a '+' is kept, as botocore's unquote
// does). A document that is plain JSON already is returned as it is.
func decodeDocument(s string) (string, error) {
	if strings.HasPrefix(strings.TrimSpace(s), "{") {
		return s, nil
	}
	d, err := url.PathUnescape(s)
	if err != nil {
		return "", fmt.Errorf("policy document is not URL-encoded JSON: %w", err)
	}
	return d, nil
}

// revokedPolicy is the revocation policy of one role: the issuer's deny
// statements by the hour their sessions expire, and everything else in the
// document, kept as it was.
type revokedPolicy struct {
	raw     string                     // the document as read
	top     map[string]json.RawMessage // members other than Statement
	foreign []json.RawMessage          // statements the issuer did not write
	buckets map[int64][]string         // until (Unix s) → sorted aws:userids
}

// denyStatement is the issuer's statement.
type denyStatement struct {
	Sid       string
	Effect    string
	Action    string
	Resource  string
	Condition map[string]map[string][]string
}

func parsePolicy(doc string) (*revokedPolicy, error) {
	p := &revokedPolicy{raw: doc, top: map[string]json.RawMessage{}, buckets: map[int64][]string{}}
	if strings.TrimSpace(doc) == "" {
		return p, nil
	}
	if err := json.Unmarshal([]byte(doc), &p.top); err != nil {
		return nil, fmt.Errorf("policy document is not a JSON object: %w", err)
	}
	raw := bytes.TrimSpace(p.top["Statement"])
	delete(p.top, "Statement")
	var stmts []json.RawMessage
	switch {
	case len(raw) == 0 || string(raw) == "null":
	case raw[0] == '{':
		stmts = []json.RawMessage{raw} // IAM allows a single statement object
	default:
		if err := json.Unmarshal(raw, &stmts); err != nil {
			return nil, fmt.Errorf("policy Statement is neither an object nor an array: %w", err)
		}
	}
	for _, s := range stmts {
		until, ids, ok := ours(s)
		if !ok {
			p.foreign = append(p.foreign, s)
			continue
		}
		for _, id := range ids {
			p.insert(until, id)
		}
	}
	return p, nil
}

// ours parses a statement the issuer wrote. A statement with the issuer's
// Sid that was changed into anything but a deny-all on aws:userid is not
// the issuer's any more: it is kept as it is.
func ours(raw json.RawMessage) (until int64, ids []string, ok bool) {
	var s struct {
		Sid       string
		Effect    string
		Action    json.RawMessage
		Resource  json.RawMessage
		Condition map[string]map[string]json.RawMessage
	}
	if json.Unmarshal(raw, &s) != nil || !strings.HasPrefix(s.Sid, revokedSid) || s.Effect != "Deny" {
		return 0, nil, false
	}
	until, err := strconv.ParseInt(strings.TrimPrefix(s.Sid, revokedSid), 10, 64)
	if err != nil || !isStar(s.Action) || !isStar(s.Resource) || len(s.Condition) != 1 || len(s.Condition["StringEquals"]) != 1 {
		return 0, nil, false
	}
	v := s.Condition["StringEquals"]["aws:userid"]
	var one string
	if json.Unmarshal(v, &one) == nil {
		ids = []string{one}
	} else if json.Unmarshal(v, &ids) != nil {
		return 0, nil, false
	}
	return until, ids, true
}

// isStar says whether an Action or Resource value is "*" or ["*"].
func isStar(v json.RawMessage) bool {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s == "*"
	}
	var l []string
	return json.Unmarshal(v, &l) == nil && len(l) == 1 && l[0] == "*"
}

func (p *revokedPolicy) insert(until int64, id string) bool {
	ids := p.buckets[until]
	k, found := slices.BinarySearch(ids, id)
	if found {
		return false
	}
	p.buckets[until] = slices.Insert(ids, k, id)
	return true
}

// add denies id until the hour until, unless a statement lasting as long
// already does; it says whether the document changed.
func (p *revokedPolicy) add(until int64, id string) bool {
	for u, ids := range p.buckets {
		if _, found := slices.BinarySearch(ids, id); found && u >= until {
			return false
		}
	}
	return p.insert(until, id)
}

func (p *revokedPolicy) has(id string) bool {
	for _, ids := range p.buckets {
		if _, found := slices.BinarySearch(ids, id); found {
			return true
		}
	}
	return false
}

// prune drops the statements whose sessions have all expired at now and
// returns how many it dropped.
func (p *revokedPolicy) prune(now time.Time) int {
	n := 0
	for u := range p.buckets {
		if time.Unix(u, 0).Add(clockSkew).Before(now) {
			delete(p.buckets, u)
			n++
		}
	}
	return n
}

func (p *revokedPolicy) sessions() int {
	n := 0
	for _, ids := range p.buckets {
		n += len(ids)
	}
	return n
}

// encode returns the document and its size as IAM counts it (characters,
// whitespace not counted: the document is compact).
func (p *revokedPolicy) encode() (string, int, error) {
	stmts := []any{}
	for _, s := range p.foreign {
		stmts = append(stmts, s)
	}
	for _, u := range slices.Sorted(maps.Keys(p.buckets)) {
		stmts = append(stmts, denyStatement{
			Sid: revokedSid + strconv.FormatInt(u, 10), Effect: "Deny", Action: "*", Resource: "*",
			Condition: map[string]map[string][]string{"StringEquals": {"aws:userid": p.buckets[u]}},
		})
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	version := p.top["Version"]
	if len(version) == 0 {
		version = json.RawMessage(`"2012-10-17"`)
	}
	b.WriteString(`{"Version":`)
	if err := enc.Encode(version); err != nil {
		return "", 0, err
	}
	for _, k := range slices.Sorted(maps.Keys(p.top)) {
		if k == "Version" {
			continue
		}
		b.Truncate(b.Len() - 1) // the encoder's newline
		b.WriteByte(',')
		if err := enc.Encode(k); err != nil {
			return "", 0, err
		}
		b.Truncate(b.Len() - 1)
		b.WriteByte(':')
		if err := enc.Encode(p.top[k]); err != nil {
			return "", 0, err
		}
	}
	b.Truncate(b.Len() - 1)
	b.WriteString(`,"Statement":`)
	if err := enc.Encode(stmts); err != nil {
		return "", 0, err
	}
	b.Truncate(b.Len() - 1)
	b.WriteByte('}')
	doc := b.String()
	return doc, utf8.RuneCountInString(doc), nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// thousands formats n with comma separators: 10,240.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
