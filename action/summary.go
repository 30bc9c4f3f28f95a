package action

import (
	"fmt"
	"github.com/jit-policy/jit-policy/internal/markdown"
	"strings"
	"time"

	"github.com/jit-policy/jit-policy/internal/lease"
)

// EnvName is the variable export-env sets for an output of issuer: JIT_,
// then the issuer, then the output name upper-cased with dashes as
// underscores (ssh's certificate-path → JIT_SSH_CERTIFICATE_PATH). The
// outputs every issuer has drop the issuer (JIT_LEASE_ID,
// JIT_EXPIRES_AT), and a name that already starts with the issuer does
// not repeat it (aws's aws-region → JIT_AWS_REGION).
func EnvName(issuer, output string) string {
	up := func(s string) string { return strings.ToUpper(strings.ReplaceAll(s, "-", "_")) }
	switch output {
	case "lease-id", "expires-at":
		return "JIT_" + up(output)
	}
	return "JIT_" + up(issuer) + "_" + up(strings.TrimPrefix(output, issuer+"-"))
}

// cell escapes s for a Markdown table cell or list item with
// markdown.Text (HTML, Markdown punctuation including "|" and "$", line
// ends, control and bidirectional characters); empty shows as "—".
func cell(s string) string {
	if s == "" {
		return "—"
	}
	return markdown.Text(s)
}

// row renders one Markdown table row of already escaped cells.
func row(cells ...string) string { return "| " + strings.Join(cells, " | ") + " |\n" }

// grantedSummary is the job summary of an issued lease: what was granted,
// to whom, with which principals, until when.
func grantedSummary(l lease.Lease, principals []string, expires time.Time) string {
	var b strings.Builder
	b.WriteString("### jit-policy: access granted\n\n")
	b.WriteString(row("Lease", "Issuer", "Role", "Principals", "Subject", "Repository", "Run", "Expires"))
	b.WriteString(row("---", "---", "---", "---", "---", "---", "---", "---"))
	ps := make([]string, len(principals))
	for i, p := range principals {
		ps[i] = cell(p)
	}
	b.WriteString(row(cell(l.ID), cell(l.Issuer), cell(l.Role), strings.Join(ps, ", "), cell(l.Subject),
		cell(l.Job.Repository), cell(runOf(l.Job)), cell(expires.UTC().Format(time.RFC3339))))
	b.WriteString("\n")
	return b.String()
}

// runOf describes a job as "RUN_ID attempt N, job ID".
func runOf(j lease.Job) string {
	s := j.RunID
	if j.Attempt != "" {
		s += " attempt " + j.Attempt
	}
	if j.JobID != "" {
		s += ", job " + j.JobID
	}
	return s
}

// deniedSummary is the job summary of a denied request.
func deniedSummary(issuer, role, decisionID string, reasons []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### jit-policy: access denied\n\n%s/%s, decision %s:\n\n", cell(issuer), cell(role), cell(decisionID))
	for _, r := range reasons {
		b.WriteString("- " + cell(r) + "\n")
	}
	b.WriteString("\n")
	return b.String()
}

// revokedRow is one lease in the post step's summary.
type revokedRow struct {
	id, issuer, role, result string
}

// revokedSummary is the post step's job summary: each lease and what
// became of it.
func revokedSummary(rows []revokedRow) string {
	var b strings.Builder
	b.WriteString("### jit-policy: access revoked\n\n")
	b.WriteString(row("Lease", "Issuer", "Role", "Result"))
	b.WriteString(row("---", "---", "---", "---"))
	for _, r := range rows {
		b.WriteString(row(cell(r.id), cell(r.issuer), cell(r.role), cell(r.result)))
	}
	b.WriteString("\n")
	return b.String()
}
