package aws

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The jit-policy-revoked policy document: the issuer's deny statements,
// bucketed by the hour their sessions expire, merged with whatever else
// the document holds, pruned of expired sessions and sized as IAM counts.

// revokedSid prefixes the Sid of the issuer's statements; the rest is the
// Unix time (a whole hour) by which every session it names has expired.
const revokedSid = "JitRevokedUntil"

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
