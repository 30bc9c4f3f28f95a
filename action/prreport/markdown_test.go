package prreport

import (
	"flag"
	"github.com/jit-policy/jit-policy/internal/markdown"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/action/prcheck"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var (
	now     = time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC)
	headSHA = "0123456789abcdef0123456789abcdef01234567"
)

const sshCert = "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29tAAAAIGZha2Vub25jZQ== alice@laptop"

const sealedMsg = `-----BEGIN AGE ENCRYPTED FILE-----
YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IHNzaC1lZDI1NTE5IDVtS2N3ZyBmYWtl
c3RhbnphCmZha2VmaWxlYm9keWZha2VmaWxlYm9keWZha2VmaWxlYm9keQotLS0g
ZmFrZW1hYwrCqMKowqjCqA==
-----END AGE ENCRYPTED FILE-----
`

func allowedResult() prcheck.Result {
	return prcheck.Result{
		Repository: "acme/app", Number: 42, HeadSHA: headSHA, Issuing: true, Now: now,
		Files: []prcheck.FileResult{{
			Path: "requests/alice.yaml",
			Items: []prcheck.ItemResult{
				{
					Index: 0, Issuer: "ssh", Role: "prod-bastion", Allowed: true, DecisionID: "dec-1",
					Issued: &prcheck.Issued{
						LeaseID: "lease-ssh-1", ExpiresAt: now.Add(2 * time.Hour),
						Public: []prcheck.Output{{Name: "certificate", Value: sshCert + "\n"}, {Name: "principals", Value: "ubuntu"}},
					},
				},
				{
					Index: 1, Issuer: "postgres", Role: "orders-readonly", Allowed: true, DecisionID: "dec-2",
					AlreadyIssued: true,
					Issued: &prcheck.Issued{
						LeaseID: "lease-pg-1", ExpiresAt: now.Add(time.Hour),
						Public:   []prcheck.Output{{Name: "username", Value: "jit_alice_7f3a"}, {Name: "host", Value: "orders.db.internal:5432"}},
						Sealed:   sealedMsg,
						SealedTo: []string{"SHA256:Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE"},
					},
				},
			},
		}},
	}
}

func deniedResult() prcheck.Result {
	return prcheck.Result{
		Repository: "acme/app", Number: 43, HeadSHA: headSHA, Now: now,
		NotIssuing: "pull_request workflows run the pull request's own workflow file; issue from pull_request_target on the default branch",
		Dropped: []string{
			"@alice's approval: the author's own review never counts",
			"@carol's approval: carol pushed a commit to this pull request",
		},
		Files: []prcheck.FileResult{
			{
				Path: "requests/alice.yaml",
				Items: []prcheck.ItemResult{
					{
						Index: 0, Issuer: "ssh", Role: "prod-bastion", DecisionID: "dec-3",
						Reasons: []string{
							"needs 1 more approval from @acme/sre",
							"team membership of @acme/sre cannot be read: the token lacks members:read (use a GitHub App token); @bob's approval is not counted",
							"ttl 4h exceeds the role's max_ttl of 1h",
						},
					},
					{Index: 1, Issuer: "postgres", Role: "orders-readonly", Allowed: true, DecisionID: "dec-4"},
				},
			},
			{Path: "requests/broken.yaml", Error: "requests/broken.yaml:3: field acess not found in type request.File"},
		},
	}
}

func closedResult() prcheck.Result {
	return prcheck.Result{
		Repository: "acme/app", Number: 44, HeadSHA: headSHA, Now: now, Closed: true, Issuing: true,
		Revoked: []string{"lease-ssh-1", "lease-pg-1"},
	}
}

func hostileResult() prcheck.Result {
	return prcheck.Result{
		Repository: "acme/app", Number: 45, HeadSHA: headSHA, Now: now, Issuing: true,
		Refusals: []string{"the head branch is `main`](javascript:alert(1))"},
		Dropped:  []string{"<!-- jit-policy:access-request --> @mallory"},
		Files: []prcheck.FileResult{{
			Path: "requests/<img src=x onerror=alert(1)>`x`.yaml",
			Items: []prcheck.ItemResult{
				{
					Index: 0, Issuer: "ssh`", Role: "<b>root</b>", DecisionID: "dec-`5`",
					Reasons: []string{
						"<img src=x>",
						"[click here](javascript:alert(document.cookie))",
						"```\n# fake heading\n<script>alert(1)</script>",
						"- a list\n> a quote | a | table | $\\sqrt{x}$ ~~strike~~ **bold** _em_ ![i](x)",
						"\u202eevil\u202c and @acme/sre",
					},
				},
				{
					Index: 1, Issuer: "x509", Role: "client", Allowed: true, DecisionID: "dec-6",
					Issued: &prcheck.Issued{
						LeaseID: "lease`x", ExpiresAt: now.Add(time.Hour),
						Public: []prcheck.Output{{Name: "certificate](javascript:x)", Value: "-----BEGIN CERTIFICATE-----\n```\n````\nMIIB\n-----END CERTIFICATE-----\n"}},
					},
				},
			},
		}},
	}
}

func TestMarkdownGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    prcheck.Result
	}{
		{"allowed", allowedResult()},
		{"denied", deniedResult()},
		{"closed", closedResult()},
		{"hostile", hostileResult()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Markdown(tc.r)
			path := filepath.Join("testdata", tc.name+".golden.md")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Fatalf("Markdown differs from %s (run go test -update to rewrite it); got:\n%s", path, got)
			}
			if !strings.HasPrefix(got, Marker+"\n") || strings.Count(got, Marker) != 1 {
				t.Fatalf("Markdown does not start with the one marker:\n%s", got)
			}
			if len(got) > MaxComment {
				t.Fatalf("Markdown has %d bytes, more than %d", len(got), MaxComment)
			}
			checkFences(t, got)
		})
	}
}

// checkFences fails unless every fenced block that opens also closes.
func checkFences(t *testing.T, md string) {
	t.Helper()
	open := ""
	for _, line := range strings.Split(md, "\n") {
		run := line[:longestPrefix(line, '`')]
		switch {
		case open == "" && len(run) >= 3:
			open = run
		case open != "" && line == open:
			open = ""
		}
	}
	if open != "" {
		t.Fatalf("a fenced block opened with %s never closes:\n%s", open, md)
	}
}

func longestPrefix(s string, c byte) int {
	n := 0
	for n < len(s) && s[n] == c {
		n++
	}
	return n
}

func TestHostileInert(t *testing.T) {
	r := hostileResult()
	md := Markdown(r)
	f, it := r.Files[0], r.Files[0].Items[0]
	// Text from policies and pull requests is escaped: once its backslash
	// escapes are taken out, no tag, link, code, math or emphasis is left.
	unescape := regexp.MustCompile(`\\[[:punct:]]`)
	texts := append(append(append([]string{}, r.Refusals...), r.Dropped...), it.Reasons...)
	texts = append(texts, r.Files[0].Items[1].Issued.Public[0].Name)
	for _, s := range texts {
		if !strings.Contains(md, markdown.Text(s)) {
			t.Fatalf("%q is not shown as %q:\n%s", s, markdown.Text(s), md)
		}
		live := unescape.ReplaceAllString(markdown.Text(s), "")
		for _, bad := range []string{"<", ">", "](", "`", "$", "**", "~~", "\n", "\u202e"} {
			if strings.Contains(live, bad) {
				t.Fatalf("%q renders with a live %q: %q", s, bad, markdown.Text(s))
			}
		}
	}
	// File names, issuers, roles and ids are code spans, which render
	// literally; their delimiters outnumber the backticks they hold.
	for _, s := range []string{f.Path, it.Issuer, it.Role, it.DecisionID} {
		if !strings.Contains(md, markdown.Code(s)) {
			t.Fatalf("%q is not shown as the code span %s:\n%s", s, markdown.Code(s), md)
		}
	}
	for _, bad := range []string{"\n# fake", "\n> a quote", "\n- a list", "\n<script"} {
		if strings.Contains(md, bad) {
			t.Fatalf("Markdown has a line starting %q:\n%s", bad[1:], md)
		}
	}
	if !strings.HasPrefix(md, Marker+"\n") || strings.Count(md, Marker) != 1 {
		t.Fatalf("a second marker:\n%s", md)
	}
	if !strings.Contains(md, " and @acme/sre\n") {
		t.Fatalf("the @acme/sre mention is not readable:\n%s", md)
	}
	// The certificate is shown whole in a fence longer than its backtick runs.
	if !strings.Contains(md, "`````text\n-----BEGIN CERTIFICATE-----\n```\n````\nMIIB\n-----END CERTIFICATE-----\n`````\n") {
		t.Fatalf("the certificate is not fenced whole:\n%s", md)
	}
}

func TestCheckOutput(t *testing.T) {
	merged := closedResult()
	merged.Merged, merged.Revoked = true, nil
	for _, tc := range []struct {
		name       string
		r          prcheck.Result
		conclusion string
		title      string
	}{
		{"allowed", allowedResult(), "success", "Access allowed: 2 items"},
		{"denied", deniedResult(), "failure", "Access denied: 1 item denied"},
		{"no files", prcheck.Result{Repository: "acme/app", Number: 1}, "failure", "Access denied"},
		{"closed", closedResult(), "neutral", "Closed: revoked 2 leases"},
		{"merged", merged, "neutral", "Merged: leases are kept until they expire"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conclusion, title, summary := CheckOutput(tc.r)
			if conclusion != tc.conclusion || title != tc.title {
				t.Fatalf("CheckOutput = %q, %q; want %q, %q", conclusion, title, tc.conclusion, tc.title)
			}
			if want := strings.TrimPrefix(Markdown(tc.r), Marker+"\n"); summary != want {
				t.Fatalf("summary is not the comment without its marker:\n%s\n---\n%s", summary, want)
			}
			if summary != Summary(tc.r) || strings.Contains(summary, Marker) {
				t.Fatalf("Summary differs from the check run's summary or holds the marker")
			}
		})
	}
}

func TestMarkdownBounded(t *testing.T) {
	r := allowedResult()
	big := strings.Repeat("-----BEGIN AGE ENCRYPTED FILE-----\n"+strings.Repeat("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2\n", 60)+"-----END AGE ENCRYPTED FILE-----\n", 1)
	var items []prcheck.ItemResult
	for i := range 40 {
		items = append(items, prcheck.ItemResult{
			Index: i, Issuer: "postgres", Role: "orders", Allowed: true, DecisionID: "d",
			Issued: &prcheck.Issued{LeaseID: "l", Sealed: big, SealedTo: []string{"SHA256:k"}},
		})
	}
	r.Files = append(r.Files, prcheck.FileResult{Path: "requests/many.yaml", Items: items})
	for _, tc := range []struct {
		name  string
		md    string
		limit int
	}{
		{"comment", Markdown(r), MaxComment},
		{"summary", Summary(r), MaxCheckSummary},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.md) > tc.limit {
				t.Fatalf("%d bytes, more than %d", len(tc.md), tc.limit)
			}
			if !strings.Contains(tc.md, "shortened to fit GitHub's size limit") || !strings.Contains(tc.md, "the lease of item") {
				t.Fatalf("no note naming what was left out:\n%s", tc.md[len(tc.md)-2000:])
			}
			checkFences(t, tc.md)
			kept := strings.Count(tc.md, "-----BEGIN AGE ENCRYPTED FILE-----")
			if kept != strings.Count(tc.md, "-----END AGE ENCRYPTED FILE-----") || kept == 0 || kept >= 41 {
				t.Fatalf("%d sealed messages begun, %d ended", kept, strings.Count(tc.md, "-----END AGE ENCRYPTED FILE-----"))
			}
			if strings.Count(tc.md, strings.TrimSuffix(big, "\n")) != kept-1 {
				t.Fatalf("a sealed message was cut")
			}
		})
	}
}
