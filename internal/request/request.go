// Package request decodes and validates request files, the
// requests/*.yaml files that ask for access in a pull request:
//
//	version: jit-policy/v1
//	requester: alice
//	reason: "INC-1234: investigate stuck orders"
//	duration: 2h
//	access:
//	  - issuer: postgres
//	    role: orders-readonly
//
// Request files come from pull requests, so their authors are untrusted:
// they are decoded by internal/strictyaml with its bounds (64 KiB, one
// document, few aliases, a small alias-expansion budget, no merge keys, no
// unknown fields, no duplicate keys) and without ${NAME} expansion, which
// would let a request read the issuer's environment. Every error names the
// file and, where there is one, the line, as "file:line: message".
//
// This package only checks that a file is well formed. Whether the request
// is granted (a missing reason, say) is for the policy to decide.
package request

import (
	"io"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/jit-policy/jit-policy/engine"
	"github.com/jit-policy/jit-policy/internal/strictyaml"
)

// Version is the only version a request file may declare.
const Version = engine.Version

// Bounds on a request file.
const (
	// MaxBytes is the largest request file accepted (64 KiB).
	MaxBytes = strictyaml.DefaultMaxBytes
	// MaxItems is the largest number of access items in one file.
	MaxItems = 16
	// MaxPrincipals is the largest number of principals in one access item.
	MaxPrincipals = 32
	// MaxReason is the longest reason accepted, in characters.
	MaxReason = 1024
	// MaxDuration is the longest duration a file may ask for.
	MaxDuration = 30 * 24 * time.Hour
)

// Issuers returns the issuer names an access item may use.
func Issuers() []string { return []string{"ssh", "postgres", "aws", "x509"} }

// options are the strictyaml bounds for request files. Expand stays nil:
// request files are untrusted and must never read the environment.
var options = strictyaml.Options{
	MaxBytes:      MaxBytes,
	MaxAliases:    strictyaml.DefaultMaxAliases,
	MaxAliasNodes: strictyaml.DefaultMaxAliasNodes,
}

// File is a decoded request file.
type File struct {
	// Version is the file format; always Version in a valid file.
	Version string `yaml:"version"`
	// Requester is the GitHub login of the person asking; it must be the
	// pull request's author (see CheckRequester).
	Requester string `yaml:"requester"`
	// Reason says why access is needed; it may be empty (the policy decides
	// whether that denies).
	Reason string `yaml:"reason"`
	// Duration is how long the access should last.
	Duration Duration `yaml:"duration"`
	// Recipient, when set, is the key secrets are encrypted to: an
	// ssh-ed25519 or ssh-rsa authorized_keys line or an age X25519
	// recipient (age1…). Empty means the requester's GitHub SSH keys.
	Recipient string `yaml:"recipient"`
	// Access lists what is asked for; each item is evaluated on its own.
	Access []Item `yaml:"access"`

	name  string           // the name given to Decode
	lines strictyaml.Lines // line of every key, for errors
}

// Item is one access item: a role of one issuer.
type Item struct {
	// Issuer names the issuer: one of Issuers().
	Issuer string `yaml:"issuer"`
	// Role names a role of that issuer in jit-policy.yaml.
	Role string `yaml:"role"`
	// Principals are the user names (ssh) or principals asked for; empty
	// means the role's.
	Principals []string `yaml:"principals"`
	// PublicKey is the SSH public key to certify (ssh only), in
	// authorized_keys format.
	PublicKey string `yaml:"public_key"`
	// CSR is a PEM certificate request (x509 only).
	CSR string `yaml:"csr"`
}

// Duration is a duration written as a Go duration string ("2h", "30m").
type Duration struct {
	time.Duration
	// Text is the duration as written in the file.
	Text string
}

// UnmarshalYAML keeps the scalar as written; validation parses it, so that
// a bad duration is reported with the file's other problems.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return strictyaml.NodeError(n, "a duration must be a string such as 30m or 2h")
	}
	d.Text = n.Value
	d.Duration, _ = time.ParseDuration(n.Value)
	return nil
}

// Read decodes a request file from r, called name. It reads at most
// MaxBytes+1 bytes and refuses a larger file without reading further.
func Read(name string, r io.Reader) (File, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return File{}, &strictyaml.Error{File: name, Msg: "reading: " + err.Error(), Err: err}
	}
	return Decode(name, data)
}

// Decode decodes and validates data, the contents of the request file
// called name. Errors are *strictyaml.Error values, joined with errors.Join
// when there are several, each naming name and the line.
func Decode(name string, data []byte) (File, error) {
	var f File
	lines, err := strictyaml.DecodeWith(name, data, &f, options)
	if err != nil {
		return File{}, err
	}
	f.name, f.lines = name, lines
	if err := f.Validate(); err != nil {
		return File{}, err
	}
	return f, nil
}

// Validate checks f as Decode does. Errors name the file and lines f was
// decoded from; a File built in code has no lines.
func (f File) Validate() error {
	v := validator{strictyaml.Problems{File: f.name, Lines: f.lines}}
	v.check(f)
	return v.Err()
}

// CheckRequester returns an error, naming the requester line, unless the
// requester is author, the login of the pull request's author. GitHub
// logins are case-insensitive.
func (f File) CheckRequester(author string) error {
	if author != "" && strings.EqualFold(f.Requester, author) {
		return nil
	}
	v := validator{strictyaml.Problems{File: f.name, Lines: f.lines}}
	v.Fail("requester", "is %q but the pull request is by %q; a request file must name its pull request's author",
		f.Requester, author)
	return v.Err()
}

// EngineRequest returns the request the policy sees as input.request for
// item it of f: its issuer, role and principals, f's duration in whole
// seconds and f's reason, with public_key and csr as issuer-specific fields
// when set.
func (it Item) EngineRequest(f File) engine.Request {
	r := engine.Request{
		Issuer:     it.Issuer,
		Role:       it.Role,
		TTLSeconds: int64(f.Duration.Duration / time.Second),
		Principals: slices.Clone(it.Principals),
		Reason:     f.Reason,
	}
	if it.PublicKey != "" || it.CSR != "" {
		r.Fields = map[string]any{}
		if it.PublicKey != "" {
			r.Fields["public_key"] = it.PublicKey
		}
		if it.CSR != "" {
			r.Fields["csr"] = it.CSR
		}
	}
	return r
}
