package aws

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/issuers"
)

// STS limits on names and tags.
const (
	maxSessionName   = 64
	maxSourceID      = 64
	maxTags          = 50
	maxTagKey        = 128
	maxTagValue      = 256
	shortLeaseIDSize = 12
)

var (
	// sessionNameRe is STS's RoleSessionName pattern.
	sessionNameRe = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	// tagRe is IAM's character set for tag keys and values.
	tagRe = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
	// nameSafe is what a run id or attempt may hold inside a session name.
	nameSafe = regexp.MustCompile(`^[A-Za-z0-9]+$`)
)

// SessionName is the RoleSessionName of lease id for job (or pull request
// pr when pr > 0): jit-<run id>-<attempt>-<short lease id>, jit-<run
// id>-<short lease id> without an attempt (GitLab), jit-pr<N>-<short lease
// id> for a pull request, and jit-<short lease id> when the job is unknown.
// Run ids and attempts that are not plain letters and digits are left out
// rather than escaped: the lease id already makes the name unique.
func SessionName(id string, job lease.Job, pr int) string {
	short := id
	if len(short) > shortLeaseIDSize {
		short = short[:shortLeaseIDSize]
	}
	if pr > 0 {
		return "jit-pr" + strconv.Itoa(pr) + "-" + short
	}
	parts := []string{"jit"}
	for _, p := range []string{job.RunID, job.Attempt} {
		if nameSafe.MatchString(p) {
			parts = append(parts, p)
		}
	}
	parts = append(parts, short)
	name := strings.Join(parts, "-")
	if len(name) > maxSessionName {
		return "jit-" + short
	}
	return name
}

// checkSessionName refuses a session name STS would refuse.
func checkSessionName(name string) error {
	if !sessionNameRe.MatchString(name) {
		return fmt.Errorf("session name %q is not 2 to 64 characters of letters, digits and +=,.@_-", name)
	}
	return nil
}

// SourceIdentity is the STS SourceIdentity for subject, escaped so that
// distinct subjects stay distinct: every character outside STS's set
// [\w+=,.@-], and "=" itself, becomes =XX for each byte of its UTF-8
// encoding ("repo:acme/app:ref:refs/heads/main" becomes
// "repo=3Aacme=2Fapp=3Aref=3Arefs=2Fheads=2Fmain"). A result longer than
// STS's 64 characters, or shorter than 2, is an error: never cut, since
// IAM conditions may compare it.
func SourceIdentity(subject string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(subject); i++ {
		c := subject[i]
		if c == '=' || !(c == '_' || c == '+' || c == ',' || c == '.' || c == '@' || c == '-' ||
			'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			fmt.Fprintf(&b, "=%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	s := b.String()
	if len(s) < 2 || len(s) > maxSourceID {
		return "", fmt.Errorf("source identity for subject %q is %d characters once escaped (%q); STS takes 2 to %d", subject, len(s), s, maxSourceID)
	}
	return s, nil
}

// tagClaims maps session tag keys to the token claims they carry.
var tagClaims = []struct{ key, claim string }{
	{"repository", "repository"},
	{"ref", "ref"},
	{"workflow", "workflow"},
	{"environment", "environment"},
	{"run-id", "run_id"},
}

// sessionTags returns the session tags for a lease: the job facts of the
// token claims (GitLab's project_path and pipeline_id stand in for
// repository and run id), the pull request number, and the lease id. Empty
// facts are left out. A value outside IAM's character set or longer than
// 256 characters is an error naming the tag: never cut.
func sessionTags(l lease.Lease, claims map[string]any) ([]types.Tag, error) {
	str := func(k string) string { return issuers.ClaimString(claims, k) }
	var tags []types.Tag
	add := func(k, v string) error {
		if v == "" {
			return nil
		}
		if err := checkTag(k, v); err != nil {
			return err
		}
		tags = append(tags, types.Tag{Key: &k, Value: &v})
		return nil
	}
	for _, tc := range tagClaims {
		v := str(tc.claim)
		if v == "" && tc.key == "repository" {
			v = str("project_path")
		}
		if v == "" && tc.key == "run-id" {
			v = str("pipeline_id")
		}
		if err := add(tc.key, v); err != nil {
			return nil, err
		}
	}
	if l.PR > 0 {
		if err := add("pull-request", strconv.Itoa(l.PR)); err != nil {
			return nil, err
		}
	}
	if err := add("lease-id", l.ID); err != nil {
		return nil, err
	}
	if len(tags) > maxTags {
		return nil, fmt.Errorf("%d session tags; STS takes at most %d", len(tags), maxTags)
	}
	return tags, nil
}

// checkTag refuses a tag IAM would refuse.
func checkTag(key, value string) error {
	switch {
	case key == "" || utf8.RuneCountInString(key) > maxTagKey || !tagRe.MatchString(key):
		return fmt.Errorf("session tag key %q is not 1 to %d letters, digits, spaces or _.:/=+-@", key, maxTagKey)
	case strings.HasPrefix(strings.ToLower(key), "aws:"):
		return fmt.Errorf("session tag key %q: the aws: prefix is reserved", key)
	case utf8.RuneCountInString(value) > maxTagValue:
		return fmt.Errorf("session tag %s: value is %d characters; IAM takes at most %d (refused, not cut)", key, utf8.RuneCountInString(value), maxTagValue)
	case !utf8.ValidString(value) || !tagRe.MatchString(value):
		return fmt.Errorf("session tag %s: value %q holds characters IAM does not accept (letters, digits, spaces and _.:/=+-@ only; refused, not cut)", key, value)
	}
	return nil
}
