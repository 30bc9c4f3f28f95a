package prreport

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/jit-policy/jit-policy/action/prcheck"
)

// What an item's issuing delivered (its certificate, its sealed secrets)
// appears once, in the comment of the run that issued it. A later run for
// the same head commit issues nothing (prcheck.ItemResult.AlreadyIssued)
// and has nothing to show, so it carries the delivered block over from
// the sticky comment it edits: blocks are fenced by issuedOpen/issuedClose
// markers keyed by file, item and head commit. Only the sticky comment is
// read, which only our own account can write.
const (
	issuedOpen  = "<!-- jit-policy:issued "
	issuedClose = "<!-- /jit-policy:issued "
	markerEnd   = " -->"
)

// issuedKey names an item at a head commit, without the file name's
// characters (which could hold "-->").
func issuedKey(file string, index int, sha string) string {
	h := sha256.Sum256([]byte(file + "\x00" + strconv.Itoa(index) + "\x00" + sha))
	return hex.EncodeToString(h[:12])
}

// wrapIssued fences an issued block with its key's markers.
func wrapIssued(key, block string) string {
	return "\n" + issuedOpen + key + markerEnd + block + issuedClose + key + markerEnd + "\n"
}

// carried extracts the issued blocks of an earlier comment, by key.
func carried(body string) map[string]string {
	out := map[string]string{}
	for {
		i := strings.Index(body, issuedOpen)
		if i < 0 {
			return out
		}
		rest := body[i+len(issuedOpen):]
		j := strings.Index(rest, markerEnd)
		if j < 0 {
			return out
		}
		key := rest[:j]
		end := issuedClose + key + markerEnd
		k := strings.Index(rest, end)
		if k < 0 || strings.ContainsAny(key, " \n") {
			return out
		}
		out[key] = rest[j+len(markerEnd) : k]
		body = rest[k+len(end):]
	}
}

// withCarried marks, for rendering, the already-issued items whose block
// the earlier comment holds.
type carry struct {
	sha    string
	blocks map[string]string
}

func (c carry) block(file string, it prcheck.ItemResult) (string, bool) {
	if c.blocks == nil || !it.AlreadyIssued || it.Issued != nil {
		return "", false
	}
	b, ok := c.blocks[issuedKey(file, it.Index, c.sha)]
	return b, ok
}
