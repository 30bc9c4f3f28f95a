// Package prreport reports what a pull request's access-request check
// found and did (DESIGN.md, "Pull request"): a check run on the head
// commit, one sticky comment on the pull request (edited on every run,
// never posted twice) and the job summary. All three carry the same
// Markdown, rendered from a [prcheck.Result]: a headline, the built-in
// refusals, every access item of every request file with every reason it
// was denied, the approvals that were not counted, and for issued items
// the lease, its public outputs and its secrets as one age-encrypted
// message with the command that decrypts it.
//
// Reasons, file names and errors come from policies and from the pull
// request; they are escaped so that they render as the text they are
// and can open no link, image, HTML tag or code block.
package prreport

import (
	"fmt"
	"github.com/jit-policy/jit-policy/internal/markdown"
	"strconv"
	"strings"
	"time"

	"github.com/jit-policy/jit-policy/action/prcheck"
)

// Marker is the first line of the sticky comment, by which a later run
// finds it to edit it.
const Marker = "<!-- jit-policy:access-request -->"

// GitHub's limits: a comment body holds at most 65536 characters, a check
// run's output summary 65535. Lengths are counted here in bytes, which
// are never fewer than characters.
const (
	MaxComment      = 65536
	MaxCheckSummary = 65535
)

// DecryptCommand decrypts the sealed secrets saved as secret.age with the
// requester's SSH private key.
const DecryptCommand = "age -d -i ~/.ssh/id_ed25519 secret.age"

// Markdown is the body of the sticky pull-request comment: [Marker], then
// the report, bounded to [MaxComment].
func Markdown(r prcheck.Result) string {
	return render(r, Marker+"\n", MaxComment)
}

// Summary is the report for the job summary (GITHUB_STEP_SUMMARY): the
// comment's Markdown without the marker.
func Summary(r prcheck.Result) string {
	return render(r, "", MaxCheckSummary)
}

// CheckOutput is what the check run shows: its conclusion ("success" when
// r.Allowed(), "neutral" once the pull request is closed or merged,
// "failure" otherwise), a one-line title and the report as its summary,
// bounded to [MaxCheckSummary].
func CheckOutput(r prcheck.Result) (conclusion, title, summary string) {
	return conclusionOf(r), titleOf(r), Summary(r)
}

func conclusionOf(r prcheck.Result) string {
	switch {
	case r.Closed:
		return "neutral"
	case r.Allowed():
		return "success"
	}
	return "failure"
}

// title is the check run's one-line title.
func titleOf(r prcheck.Result) string {
	switch {
	case r.Closed && r.Merged:
		return "Merged: leases are kept until they expire"
	case r.Closed:
		return "Closed: revoked " + plural(len(r.Revoked), "lease")
	case r.Allowed():
		return "Access allowed: " + plural(countItems(r, true), "item")
	}
	if denied := countItems(r, false); denied > 0 {
		return "Access denied: " + plural(denied, "item") + " denied"
	}
	return "Access denied"
}

// countItems counts the items whose Allowed equals allowed.
func countItems(r prcheck.Result, allowed bool) int {
	n := 0
	for _, f := range r.Files {
		for _, it := range f.Items {
			if it.Allowed == allowed {
				n++
			}
		}
	}
	return n
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// headline is the report's first heading.
func headline(r prcheck.Result) string {
	switch {
	case r.Closed && r.Merged:
		return "## 🔀 Merged: leases are kept until they expire\n"
	case r.Closed:
		return "## 🔒 Closed: revoked " + plural(len(r.Revoked), "lease") + "\n"
	case r.Allowed():
		return "## ✅ All access allowed\n"
	}
	return "## ❌ Access denied\n"
}

// render renders the report after prefix, dropping whole sections (never
// a part of one, so never half a certificate or sealed message) when it
// would exceed limit bytes, and saying what it dropped.
func render(r prcheck.Result, prefix string, limit int) string {
	var head strings.Builder
	head.WriteString(prefix)
	head.WriteString(headline(r))
	head.WriteString("\n")
	head.WriteString(about(r))
	secs := sections(r)

	// Reserve room for the note naming what was left out.
	const noteRoom = 4096
	budget := limit - head.Len()
	total := 0
	for _, s := range secs {
		total += len(s.text)
	}
	if total > budget {
		budget -= noteRoom
	}
	var body strings.Builder
	var dropped []string
	droppedAt := -1 // level of the section being left out with its subsections
	for _, s := range secs {
		if droppedAt >= 0 && s.level <= droppedAt {
			droppedAt = -1
		}
		fits := droppedAt < 0 && (total <= limit-head.Len() || len(s.text) <= budget-body.Len())
		if !fits && droppedAt < 0 {
			droppedAt = s.level
		}
		if fits {
			body.WriteString(s.text)
			continue
		}
		dropped = append(dropped, s.what)
	}
	out := head.String() + body.String()
	if len(dropped) > 0 {
		out += omitted(dropped, noteRoom)
	}
	return out
}

// omitted is the note naming the dropped sections, within room bytes.
func omitted(dropped []string, room int) string {
	var b strings.Builder
	b.WriteString("\n---\n\n⚠️ This report was shortened to fit GitHub's size limit; left out:\n\n")
	for i, w := range dropped {
		line := "- " + w + "\n"
		if b.Len()+len(line)+64 > room {
			fmt.Fprintf(&b, "- and %d more\n", len(dropped)-i)
			break
		}
		b.WriteString(line)
	}
	return b.String()
}

// about says which pull request, commit and time the report is about.
func about(r prcheck.Result) string {
	var parts []string
	if r.Repository != "" || r.Number != 0 {
		parts = append(parts, fmt.Sprintf("Pull request %s#%d", markdown.Text(r.Repository), r.Number))
	}
	if r.HeadSHA != "" {
		parts = append(parts, "commit "+markdown.Code(short(r.HeadSHA)))
	}
	if !r.Now.IsZero() {
		parts = append(parts, "checked "+stamp(r.Now))
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, ", ") + ".\n"
}

// stamp formats a time for the report, in UTC to the second.
func stamp(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// short is the abbreviated commit id.
func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
