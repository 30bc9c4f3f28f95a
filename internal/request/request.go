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
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/ssh"
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

// Issuers are the issuer names an access item may use.
var Issuers = []string{"ssh", "postgres", "aws", "x509"}

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
	// Issuer names the issuer: one of Issuers.
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
	v := validator{file: f.name, lines: f.lines}
	v.check(f)
	return v.result()
}

// CheckRequester returns an error, naming the requester line, unless the
// requester is author, the login of the pull request's author. GitHub
// logins are case-insensitive.
func (f File) CheckRequester(author string) error {
	if author != "" && strings.EqualFold(f.Requester, author) {
		return nil
	}
	v := validator{file: f.name, lines: f.lines}
	v.fail("requester", "is %q but the pull request is by %q; a request file must name its pull request's author",
		f.Requester, author)
	return v.result()
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

var (
	loginRe = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$`)
	roleRe  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
)

// validator collects every problem in a File, each naming its key and,
// where the key is in the file, its line.
type validator struct {
	file  string
	lines strictyaml.Lines
	errs  []*strictyaml.Error
}

// result returns the problems in file order, joined, or nil.
func (v *validator) result() error {
	slices.SortStableFunc(v.errs, func(a, b *strictyaml.Error) int { return a.Line - b.Line })
	errs := make([]error, len(v.errs))
	for i, e := range v.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}

func (v *validator) fail(path, format string, args ...any) {
	v.errs = append(v.errs, &strictyaml.Error{
		File: v.file, Line: v.line(path), Msg: path + ": " + fmt.Sprintf(format, args...),
	})
}

// line returns the line of path or, when the key is absent, of its nearest
// parent that is in the file.
func (v *validator) line(path string) int {
	for path != "" {
		if l, ok := v.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

func (v *validator) check(f File) {
	switch f.Version {
	case Version:
	case "":
		v.fail("version", "is required; set it to %s", Version)
	default:
		v.fail("version", "must be %s", Version)
	}
	switch {
	case f.Requester == "":
		v.fail("requester", "is required; set it to your GitHub login")
	case !loginRe.MatchString(f.Requester):
		v.fail("requester", "is not a GitHub login (letters, digits and -, at most 39)")
	}
	v.reason(f.Reason)
	v.duration(f.Duration.Text)
	if f.Recipient != "" {
		v.recipient(f.Recipient)
	}
	switch n := len(f.Access); {
	case n == 0:
		v.fail("access", "is required; list at least one {issuer, role}")
	case n > MaxItems:
		v.fail("access", "has %d items; at most %d are allowed (split the request)", n, MaxItems)
	}
	for i, it := range f.Access {
		v.item(fmt.Sprintf("access[%d]", i), it)
	}
}

func (v *validator) reason(s string) {
	if n := utf8.RuneCountInString(s); n > MaxReason {
		v.fail("reason", "is %d characters long; at most %d are allowed", n, MaxReason)
	}
	if !utf8.ValidString(s) {
		v.fail("reason", "is not valid UTF-8")
		return
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			v.fail("reason", "holds control character %U; write it on one line without control characters", r)
			return
		}
	}
}

func (v *validator) duration(s string) {
	if s == "" {
		v.fail("duration", "is required; write one such as 30m or 2h")
		return
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		v.fail("duration", "is not a duration; write one such as 30m, 2h or 1h30m")
	case d <= 0:
		v.fail("duration", "must be greater than zero")
	case d > MaxDuration:
		v.fail("duration", "is longer than 30 days (720h)")
	case d%time.Second != 0:
		v.fail("duration", "must be a whole number of seconds")
	}
}

// recipient accepts an ssh-ed25519 or ssh-rsa authorized_keys line or an age
// X25519 recipient.
func (v *validator) recipient(s string) {
	if strings.HasPrefix(s, "age1") {
		if !validAgeRecipient(s) {
			v.fail("recipient", "is not an age X25519 recipient (age1 followed by 58 bech32 characters)")
		}
		return
	}
	key, err := parseKey(s)
	if err != nil {
		v.fail("recipient", "must be an ssh-ed25519 or ssh-rsa public key or an age1… recipient: %v", err)
		return
	}
	if t := key.Type(); t != ssh.KeyAlgoED25519 && t != ssh.KeyAlgoRSA {
		v.fail("recipient", "is a key of type %s; secrets can be encrypted only to ssh-ed25519 or ssh-rsa keys or age1… recipients", t)
	}
}

// parseKey parses one authorized_keys line holding a plain public key.
func parseKey(s string) (ssh.PublicKey, error) {
	if strings.ContainsAny(strings.TrimRight(s, "\r\n"), "\r\n") {
		return nil, errors.New("holds more than one line")
	}
	key, _, options, _, err := ssh.ParseAuthorizedKey([]byte(s))
	if err != nil {
		return nil, errors.New("not an authorized_keys line")
	}
	if len(options) > 0 {
		return nil, errors.New("authorized_keys options are not allowed")
	}
	if _, ok := key.(*ssh.Certificate); ok {
		return nil, errors.New("a certificate, not a public key")
	}
	return key, nil
}

func (v *validator) item(path string, it Item) {
	switch {
	case it.Issuer == "":
		v.fail(path+".issuer", "is required; one of %s", strings.Join(Issuers, ", "))
	case !slices.Contains(Issuers, it.Issuer):
		v.fail(path+".issuer", "must be one of %s", strings.Join(Issuers, ", "))
	}
	switch {
	case it.Role == "":
		v.fail(path+".role", "is required")
	case !roleRe.MatchString(it.Role):
		v.fail(path+".role", "is not a role name (a letter or digit, then letters, digits, ., _ or -, at most 64)")
	}
	if n := len(it.Principals); n > MaxPrincipals {
		v.fail(path+".principals", "has %d items; at most %d are allowed", n, MaxPrincipals)
	}
	for i, p := range it.Principals {
		if p == "" || strings.ContainsFunc(p, func(r rune) bool {
			return r == ',' || unicode.IsSpace(r) || unicode.IsControl(r)
		}) {
			v.fail(fmt.Sprintf("%s.principals[%d]", path, i), "must be non-empty, without spaces or commas")
		}
	}
	if it.PublicKey != "" {
		if it.Issuer != "ssh" {
			v.fail(path+".public_key", "is only for issuer ssh")
		} else if _, err := parseKey(it.PublicKey); err != nil {
			v.fail(path+".public_key", "is not an SSH public key: %v", err)
		}
	}
	if it.CSR != "" {
		if it.Issuer != "x509" {
			v.fail(path+".csr", "is only for issuer x509")
		} else if err := checkCSR(it.CSR); err != nil {
			v.fail(path+".csr", "%v", err)
		}
	}
}

// checkCSR accepts exactly one PEM CERTIFICATE REQUEST whose signature
// checks.
func checkCSR(s string) error {
	block, rest := pem.Decode([]byte(s))
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return errors.New("is not a PEM CERTIFICATE REQUEST")
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return errors.New("holds more than one PEM block; give one CERTIFICATE REQUEST")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return errors.New("cannot be parsed as a certificate request")
	}
	if err := csr.CheckSignature(); err != nil {
		return errors.New("has a signature that does not match its public key")
	}
	return nil
}

// bech32 is the bech32 alphabet, in value order.
const bech32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// validAgeRecipient reports whether s is a lower-case bech32 string with
// human-readable part "age", a valid checksum and 32 bytes of data: an age
// X25519 recipient.
func validAgeRecipient(s string) bool {
	const hrp = "age"
	if len(s) != len(hrp)+1+52+6 || !strings.HasPrefix(s, hrp+"1") {
		return false
	}
	values := make([]byte, 0, len(s)-len(hrp)-1)
	for _, c := range []byte(s[len(hrp)+1:]) {
		i := strings.IndexByte(bech32, c)
		if i < 0 {
			return false
		}
		values = append(values, byte(i))
	}
	// The checksum covers the expanded human-readable part and the data.
	expanded := make([]byte, 0, 2*len(hrp)+1+len(values))
	for _, c := range []byte(hrp) {
		expanded = append(expanded, c>>5)
	}
	expanded = append(expanded, 0)
	for _, c := range []byte(hrp) {
		expanded = append(expanded, c&31)
	}
	if polymod(append(expanded, values...)) != 1 {
		return false
	}
	// 52 five-bit groups are 260 bits: 32 bytes and 4 zero padding bits.
	return values[51]&0x0f == 0
}

func polymod(values []byte) uint32 {
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := uint32(1)
	for _, v := range values {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ uint32(v)
		for i := range 5 {
			if (top>>i)&1 == 1 {
				chk ^= gen[i]
			}
		}
	}
	return chk
}
