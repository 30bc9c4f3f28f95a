// Package strictyaml decodes one YAML document strictly: bounded size, exactly
// one document, no unknown fields, no duplicate keys, no type mismatches,
// bounded aliases, and optional ${NAME} expansion from the environment.
//
// Every error names the file and, where there is one, the line, in the form
// "name:line: message", so editors and CI annotations can jump to it.
//
// It decodes jit-policy.yaml (with expansion) and request files (without:
// request files come from pull requests, and expanding the environment in them
// would let a request read the issuer's secrets).
package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Defaults used when an Options field is zero.
const (
	// DefaultMaxBytes is the largest input accepted (64 KiB).
	DefaultMaxBytes = 64 << 10
	// DefaultMaxAliases is the largest number of alias nodes (*name) accepted.
	DefaultMaxAliases = 16
	// DefaultMaxAliasNodes is the largest number of nodes that alias expansion
	// may add to the document, counted transitively (aliases inside anchors).
	DefaultMaxAliasNodes = 4096
	// DefaultMaxDepth is the deepest nesting of mappings and sequences
	// accepted.
	DefaultMaxDepth = 64
)

// Options tunes DecodeWith. The zero value means the defaults and no
// environment expansion.
type Options struct {
	// MaxBytes bounds the input size; 0 means DefaultMaxBytes.
	MaxBytes int
	// MaxAliases bounds the number of alias nodes; 0 means DefaultMaxAliases.
	MaxAliases int
	// MaxAliasNodes bounds the nodes added by alias expansion; 0 means
	// DefaultMaxAliasNodes.
	MaxAliasNodes int
	// MaxDepth bounds the nesting of mappings and sequences; 0 means
	// DefaultMaxDepth. It is checked before any other walk of the tree, so
	// a deeply nested file is refused in time linear in its size.
	MaxDepth int
	// Expand, when set, replaces every ${NAME} inside string scalar values
	// (never mapping keys) with Expand(NAME); a false second result is an
	// error. The result is always a string: it is never parsed as YAML, and
	// fills only string fields. Type errors on a line with an expanded value
	// leave the value out; UnmarshalYAML methods must not quote values either
	// (see NodeError). Never set it for files from untrusted authors, such as
	// request files: it would let them read the environment.
	Expand func(name string) (string, bool)
}

// Lines maps the path of every mapping key and sequence item in the document
// to its line. A path joins keys with "." and sequence indexes as "[i]", as in
// "issuers.ssh.roles.deploy.principals" or "oidc[0].issuer".
type Lines map[string]int

// Error is one problem in a YAML file. DecodeWith returns an *Error, or several
// joined with errors.Join (one per line of the message).
type Error struct {
	File string // the name given to DecodeWith
	Line int    // 1-based; 0 when the problem has no single line
	Msg  string // what is wrong and, where useful, what to do
	Err  error  // the underlying error, if any; its text is already in Msg
}

// Error formats the problem as "file:line: msg", or "file: msg" without a line.
func (e *Error) Error() string {
	if e.Line > 0 {
		return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
	}
	return e.File + ": " + e.Msg
}

// Unwrap returns the underlying error, if any.
func (e *Error) Unwrap() error { return e.Err }

// DecodeWith decodes data, the contents of the file called name, into v (a
// pointer) and returns the line of every mapping key. Checks run on the node
// tree before anything is decoded, so v is untouched when they fail.
func DecodeWith(name string, data []byte, v any, opts Options) (Lines, error) {
	opts = opts.withDefaults()
	if len(data) > opts.MaxBytes {
		return nil, &Error{File: name, Msg: fmt.Sprintf(
			"file is larger than %d bytes; shorten it or split it", opts.MaxBytes)}
	}
	doc, err := parseOne(name, data)
	if err != nil {
		return nil, err
	}
	if err := checkDepth(name, doc, opts.MaxDepth); err != nil {
		return nil, err
	}
	if err := checkAliases(name, doc, opts); err != nil {
		return nil, err
	}
	w := walker{file: name, lines: Lines{}, values: map[position]string{}}
	w.walk(doc, typeOf(v), "")
	if len(w.errs) > 0 {
		return nil, errors.Join(w.errs...)
	}
	var expanded map[int]bool
	if opts.Expand != nil {
		var errs []error
		expanded, errs = expand(name, doc, opts.Expand)
		if len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
	}
	if err := doc.Decode(v); err != nil {
		return nil, convert(name, err, expanded, w.values)
	}
	return w.lines, nil
}

func (o Options) withDefaults() Options {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxAliases <= 0 {
		o.MaxAliases = DefaultMaxAliases
	}
	if o.MaxAliasNodes <= 0 {
		o.MaxAliasNodes = DefaultMaxAliasNodes
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	return o
}

// parseOne parses exactly one non-empty document.
func parseOne(name string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: name, Msg: "file holds no YAML document; it must hold exactly one"}
		}
		return nil, convert(name, err, nil, nil)
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return nil, &Error{File: name, Line: doc.Line, Msg: "document is empty; it must hold a value"}
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
		return &doc, nil
	case err != nil:
		return nil, convert(name, err, nil, nil)
	default:
		return nil, &Error{File: name, Line: next.Line,
			Msg: "a second YAML document starts here; the file must hold exactly one (remove the extra ---)"}
	}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

var (
	syntaxRe = regexp.MustCompile(`(?s)^yaml: (?:line (\d+): )?(.*)$`)
	lineRe   = regexp.MustCompile(`(?s)^line (\d+): (?:column (\d+): )?(.*)$`)
	// valueRe finds the value yaml.v3 quotes in a type error.
	valueRe = regexp.MustCompile("(?s)^(cannot unmarshal \\S+) `.*` (into .*)$")
)

// NodeError is the error for an UnmarshalYAML method to return when it
// rejects node n. DecodeWith reports it as "file:line: key: msg", naming the key
// whose value n is, and goes on to report other problems. msg should not
// repeat the value: it may have been expanded from the environment.
func NodeError(n *yaml.Node, msg string) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: column %d: %s", n.Line, n.Column, msg)}}
}

// convert rewrites yaml.v3's "yaml: line N: msg" and type errors into *Error
// values. On lines in redact (where ${NAME} was expanded) the quoted value is
// dropped so a secret never reaches an error message; errors made by
// NodeError are prefixed with the key path found in values.
func convert(name string, err error, redact map[int]bool, values map[position]string) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		errs := make([]error, 0, len(te.Errors))
		for _, s := range te.Errors {
			e := &Error{File: name, Msg: s, Err: err}
			if m := lineRe.FindStringSubmatch(s); m != nil {
				e.Line, _ = strconv.Atoi(m[1])
				e.Msg = m[3]
				if col, _ := strconv.Atoi(m[2]); col > 0 {
					if path, ok := values[position{e.Line, col}]; ok {
						e.Msg = path + ": " + e.Msg
					}
				}
			}
			if redact[e.Line] {
				e.Msg = valueRe.ReplaceAllString(e.Msg, "$1 $2")
			}
			errs = append(errs, e)
		}
		return errors.Join(errs...)
	}
	e := &Error{File: name, Msg: err.Error(), Err: err}
	if m := syntaxRe.FindStringSubmatch(e.Msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1]) // "" (no line) leaves 0
		e.Msg = m[2]
	}
	if strings.TrimSpace(e.Msg) == "" {
		e.Msg = "invalid YAML"
	}
	return e
}
