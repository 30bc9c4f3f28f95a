package x509issuer

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jit-policy/jit-policy/internal/config"
	"github.com/jit-policy/jit-policy/internal/lease"
)

// subjectPlaceholder in a role's common_name is replaced by the lease's
// subject.
const subjectPlaceholder = "{{subject}}"

// maxCommonName is the upper bound of a common name (RFC 5280, ub-common-name).
const maxCommonName = 64

// ClaimsOID is the OID of the non-critical extension holding the job's
// claims, under Sigstore's private enterprise arc 1.3.6.1.4.1.57264 as in
// Fulcio, but on a sub-arc (.99) Fulcio does not use.
var ClaimsOID = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 99, 1}

// Claims is the JSON object, encoded as an ASN.1 UTF8String, in the
// ClaimsOID extension. Fields the lease does not carry are omitted.
type Claims struct {
	Provider     string `json:"provider,omitempty"`
	Repository   string `json:"repository,omitempty"`
	RepositoryID string `json:"repository_id,omitempty"`
	Ref          string `json:"ref,omitempty"`
	Workflow     string `json:"workflow,omitempty"`
	RunID        string `json:"run_id,omitempty"`
	Attempt      string `json:"attempt,omitempty"`
	JobID        string `json:"job_id,omitempty"`
	PR           int    `json:"pr,omitempty"`
	Subject      string `json:"subject,omitempty"`
}

// role is a compiled config.X509Role.
type role struct {
	commonName    string
	organizations []string
	maxTTL        time.Duration
}

func compileRole(c config.X509Role) (*role, error) {
	if strings.TrimSpace(c.CommonName) == "" {
		return nil, errors.New("common_name is empty")
	}
	rest := strings.ReplaceAll(c.CommonName, subjectPlaceholder, "")
	if strings.Contains(rest, "{{") || strings.Contains(rest, "}}") {
		return nil, fmt.Errorf("common_name %q: only the %s template is supported", c.CommonName, subjectPlaceholder)
	}
	for _, o := range c.Organizations {
		if clean(o) != o || o == "" {
			return nil, fmt.Errorf("organization %q is empty or holds control characters", o)
		}
	}
	if c.MaxTTL.Duration < 0 {
		return nil, errors.New("max_ttl is negative")
	}
	return &role{commonName: c.CommonName, organizations: c.Organizations, maxTTL: c.MaxTTL.Duration}, nil
}

// subject returns the certificate subject for a lease subject.
func (r *role) subject(leaseSubject string) (pkix.Name, error) {
	cn := r.commonName
	if strings.Contains(cn, subjectPlaceholder) {
		s := clean(leaseSubject)
		if s == "" {
			return pkix.Name{}, errors.New("the lease has no subject for the common name")
		}
		cn = strings.ReplaceAll(cn, subjectPlaceholder, s)
	}
	cn = clean(cn)
	if cn == "" {
		return pkix.Name{}, errors.New("the common name is empty")
	}
	if utf8.RuneCountInString(cn) > maxCommonName {
		return pkix.Name{}, fmt.Errorf("the common name %q is longer than %d characters", cn, maxCommonName)
	}
	return pkix.Name{CommonName: cn, Organization: append([]string(nil), r.organizations...)}, nil
}

// clean drops control and invalid characters and trims spaces.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

var (
	repoPattern   = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)
	digitsPattern = regexp.MustCompile(`^[0-9]{1,20}$`)
)

// jobURI returns the URI SAN naming the lease's GitHub run or pull request,
// nil for a lease with neither (or of another CI provider).
func jobURI(l lease.Lease) (*url.URL, error) {
	j := l.Job
	if j.Repository == "" || (j.Provider != "" && j.Provider != "github") {
		return nil, nil
	}
	if !repoPattern.MatchString(j.Repository) {
		return nil, fmt.Errorf("repository %q is not owner/name", j.Repository)
	}
	var path string
	switch {
	case j.RunID != "":
		attempt := j.Attempt
		if attempt == "" {
			attempt = "1"
		}
		if !digitsPattern.MatchString(j.RunID) || !digitsPattern.MatchString(attempt) {
			return nil, fmt.Errorf("run id %q or attempt %q is not a number", j.RunID, j.Attempt)
		}
		path = "/" + j.Repository + "/actions/runs/" + j.RunID + "/attempts/" + attempt
	case l.PR > 0:
		path = "/" + j.Repository + "/pull/" + strconv.Itoa(l.PR)
	default:
		return nil, nil
	}
	return &url.URL{Scheme: "https", Host: "github.com", Path: path}, nil
}

// claimsExtension returns the ClaimsOID extension for the lease's job, nil
// when the lease has no job.
func claimsExtension(l lease.Lease) (*pkix.Extension, error) {
	c := Claims{
		Provider:   l.Job.Provider,
		Repository: l.Job.Repository,
		RunID:      l.Job.RunID,
		Attempt:    l.Job.Attempt,
		JobID:      l.Job.JobID,
		PR:         l.PR,
	}
	if c == (Claims{}) {
		return nil, nil
	}
	c.Subject = l.Subject
	js, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("claims: %w", err)
	}
	if !utf8.Valid(js) {
		return nil, errors.New("claims are not valid UTF-8")
	}
	v, err := asn1.MarshalWithParams(string(js), "utf8")
	if err != nil {
		return nil, fmt.Errorf("claims: %w", err)
	}
	return &pkix.Extension{Id: ClaimsOID, Critical: false, Value: v}, nil
}
