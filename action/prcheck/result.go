package prcheck

import "time"

// Result is what one check run of a pull request found and did. The
// reporters render it; it holds no secret in clear.
type Result struct {
	Repository string // owner/repo
	Number     int
	HeadSHA    string
	// Closed is set when the pull request was closed: Merged keeps its
	// leases to expiry, else Revoked lists what was revoked.
	Closed, Merged bool
	Revoked        []string
	// Refusals are the built-in refusals (fork, draft, stale …) that deny
	// every item whatever the policy says.
	Refusals []string
	// Dropped explains approvals that were not counted (the author's own,
	// a reviewer who pushed to the pull request).
	Dropped []string
	// Files are the request files the pull request adds or changes.
	Files []FileResult
	// Issuing says whether this run may issue (--issue from a trusted
	// workflow); NotIssuing explains why not, when it was asked to.
	Issuing    bool
	NotIssuing string
	Now        time.Time
}

// FileResult is one request file.
type FileResult struct {
	Path string
	// Error is set when the file could not be read or is invalid; it then
	// has no items.
	Error string
	Items []ItemResult
}

// ItemResult is one access item of a request file.
type ItemResult struct {
	Index   int // 0-based position in access:
	Issuer  string
	Role    string
	Allowed bool
	Reasons []string // every deny reason; empty when allowed
	// DecisionID names the audit record.
	DecisionID string
	// Issued is set when a credential was issued for this item by this
	// or an earlier run (AlreadyIssued).
	Issued        *Issued
	AlreadyIssued bool
	IssueError    string
}

// Issued is what a credential's requester receives through the comment.
type Issued struct {
	LeaseID   string
	ExpiresAt time.Time
	// Public are outputs safe to post (an SSH or X.509 certificate, a
	// username, a host).
	Public []Output
	// Sealed is the secret outputs as one age-encrypted, ASCII-armored
	// message to the requester's key(s); empty when there are none.
	Sealed string
	// SealedTo names the keys it was encrypted to (their fingerprints).
	SealedTo []string
}

// Output is one named public value.
type Output struct{ Name, Value string }

// Allowed says whether every item of every file was allowed and no file
// failed: the check run's conclusion.
func (r Result) Allowed() bool {
	if len(r.Files) == 0 || len(r.Refusals) > 0 {
		return false
	}
	for _, f := range r.Files {
		if f.Error != "" {
			return false
		}
		for _, it := range f.Items {
			if !it.Allowed {
				return false
			}
		}
	}
	return true
}
