package prreport

import (
	"strings"
	"testing"

	"github.com/jit-policy/jit-policy/action/prcheck"
)

// TestCarryIssued: a re-run for the same head commit issues nothing, and
// its comment keeps what the first run delivered; a new head commit does
// not inherit it.
func TestCarryIssued(t *testing.T) {
	first := prcheck.Result{Repository: "acme/app", Number: 7, HeadSHA: strings.Repeat("a", 40), Issuing: true,
		Files: []prcheck.FileResult{{Path: "requests/a.yaml", Items: []prcheck.ItemResult{{
			Issuer: "ssh", Role: "deploy", Allowed: true,
			Issued: &prcheck.Issued{LeaseID: "lease-1", Public: []prcheck.Output{{Name: "certificate", Value: "ssh-ed25519-cert-v01@openssh.com AAAA"}}},
		}}}}}
	earlier := Markdown(first)
	rerun := first
	rerun.Files = []prcheck.FileResult{{Path: "requests/a.yaml", Items: []prcheck.ItemResult{{Issuer: "ssh", Role: "deploy", Allowed: true, AlreadyIssued: true}}}}

	got := markdownCarrying(rerun, earlier)
	if !strings.Contains(got, "ssh-ed25519-cert-v01@openssh.com AAAA") || !strings.Contains(got, "Already issued") {
		t.Fatalf("the re-run lost the delivered certificate:\n%s", got)
	}
	// Carried again on a third run.
	if again := markdownCarrying(rerun, got); strings.Count(again, "ssh-ed25519-cert-v01@openssh.com AAAA") != 1 {
		t.Fatalf("third run:\n%s", again)
	}
	moved := rerun
	moved.HeadSHA = strings.Repeat("b", 40)
	if got := markdownCarrying(moved, earlier); strings.Contains(got, "AAAA") {
		t.Fatalf("a new head commit inherited an old commit's block:\n%s", got)
	}
}
