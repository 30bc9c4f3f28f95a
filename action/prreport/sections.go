// The report's sections: per request file, per item, and sealed secrets.

package prreport

import (
	"fmt"
	"github.com/jit-policy/jit-policy/internal/markdown"
	"strings"

	"github.com/jit-policy/jit-policy/action/prcheck"
)

// section is one part of the report that is kept or dropped whole.
type section struct {
	text string
	// what names the section in the note listing what was left out.
	what string
	// level nests sections: one is left out with the nearest earlier
	// section of a lower level (an item with its file, an item's lease
	// and outputs with the item).
	level int
}

// sections are the report's parts after its headline, in order.
func sections(r prcheck.Result) []section {
	var secs []section
	add := func(what, s string) { secs = append(secs, section{text: s, what: what}) }

	if r.Closed {
		if r.Merged {
			add("the note on merged pull requests", "\nThe merge is the record of this access: its leases stay valid until they expire.\n")
		} else if len(r.Revoked) > 0 {
			var b strings.Builder
			b.WriteString("\nThe pull request was closed without merging, so its leases were revoked:\n\n")
			for _, id := range r.Revoked {
				b.WriteString("- " + markdown.Code(id) + "\n")
			}
			add("the revoked leases", b.String())
		} else {
			add("the note on revocation", "\nThe pull request was closed without merging; it had no lease to revoke.\n")
		}
	}
	if r.NotIssuing != "" {
		add("why this run does not issue", "\nℹ️ "+notIssuingLead(r)+markdown.Text(r.NotIssuing)+"\n")
	}
	if len(r.Refusals) > 0 {
		var b strings.Builder
		b.WriteString("\n### Refused whatever the policy says\n\n")
		for _, s := range r.Refusals {
			b.WriteString("- " + markdown.Text(s) + "\n")
		}
		add("the built-in refusals", b.String())
	}
	if !r.Closed && len(r.Files) == 0 && len(r.Refusals) == 0 {
		add("the note on request files", "\nThe pull request adds or changes no request file.\n")
	}
	for _, f := range r.Files {
		secs = append(secs, fileSections(f)...)
	}
	if len(r.Dropped) > 0 {
		var b strings.Builder
		b.WriteString("\n### Approvals not counted\n\n")
		for _, s := range r.Dropped {
			b.WriteString("- " + markdown.Text(s) + "\n")
		}
		add("the approvals not counted", b.String())
	}
	return secs
}

func notIssuingLead(r prcheck.Result) string {
	if r.Closed {
		return "Not revoking here: "
	}
	return "Not issuing here: "
}

// fileSections are the sections of one request file: its heading (with
// its error), then each item's.
func fileSections(f prcheck.FileResult) []section {
	name := markdown.Code(f.Path)
	var b strings.Builder
	b.WriteString("\n### 📄 " + name + "\n")
	if f.Error != "" {
		b.WriteString("\n❌ This file is invalid: " + markdown.Text(f.Error) + "\n")
	} else if len(f.Items) == 0 {
		b.WriteString("\n❌ This file requests no access.\n")
	}
	secs := []section{{text: b.String(), what: "file " + name}}
	for _, it := range f.Items {
		secs = append(secs, itemSections(name, it)...)
	}
	return secs
}

// itemSections are the sections of one access item: its verdict and
// reasons, then each public output and the sealed secrets, each whole.
func itemSections(file string, it prcheck.ItemResult) []section {
	which := fmt.Sprintf("item %d (%s / %s) of %s", it.Index+1, markdown.Text(it.Issuer), markdown.Text(it.Role), file)
	var b strings.Builder
	verdict := "❌ denied"
	if it.Allowed {
		verdict = "✅ allowed"
	}
	fmt.Fprintf(&b, "\n#### Item %d: %s / %s — %s\n\n", it.Index+1, markdown.Code(it.Issuer), markdown.Code(it.Role), verdict)
	if it.DecisionID != "" {
		b.WriteString("Decision " + markdown.Code(it.DecisionID) + ".\n")
	}
	if len(it.Reasons) > 0 {
		b.WriteString("\n")
		for _, s := range it.Reasons {
			b.WriteString("- " + markdown.Text(s) + "\n")
		}
	} else if !it.Allowed {
		b.WriteString("\n- denied without a reason given\n")
	}
	if it.IssueError != "" {
		b.WriteString("\n⚠️ Issuing failed: " + markdown.Text(it.IssueError) + "\n")
	}
	secs := []section{{text: b.String(), what: which, level: 1}}
	is := it.Issued
	if is == nil {
		if it.AlreadyIssued {
			// Never re-posted from the earlier comment's text: whoever
			// can post as the same bot account could have written it.
			secs = append(secs, section{text: "\nAlready issued for this commit by an earlier run; what it delivered is in this comment's edit history (\"edited\" above).\n", what: "the note on " + which, level: 2})
		}
		return secs
	}
	// The issued block is one section, so it is shown whole or not at all.
	b.Reset()
	b.WriteString("\n")
	if it.AlreadyIssued {
		b.WriteString("Already issued for this commit by an earlier run: ")
	} else {
		b.WriteString("Issued: ")
	}
	b.WriteString("lease " + markdown.Code(is.LeaseID))
	if !is.ExpiresAt.IsZero() {
		b.WriteString(", expires " + stamp(is.ExpiresAt))
	}
	b.WriteString(".\n")
	for _, o := range is.Public {
		b.WriteString("\n**" + markdown.Text(o.Name) + "**\n\n" + markdown.Fence(o.Value))
	}
	if is.Sealed != "" {
		b.WriteString(sealed(is))
	}
	return append(secs, section{text: b.String(), what: "the lease of " + which, level: 2})
}

// sealed renders the encrypted secrets and how to decrypt them.
func sealed(is *prcheck.Issued) string {
	var b strings.Builder
	b.WriteString("\n**Secrets**, encrypted with age")
	if len(is.SealedTo) > 0 {
		b.WriteString(" to ")
		for i, k := range is.SealedTo {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(markdown.Code(k))
		}
	}
	b.WriteString(". Save the block below as `secret.age` and decrypt it with the matching SSH private key" +
		" (give its path to -i if it is not `~/.ssh/id_ed25519`):\n\n```sh\n" + DecryptCommand + "\n```\n\n")
	b.WriteString(markdown.Fence(is.Sealed))
	return b.String()
}
