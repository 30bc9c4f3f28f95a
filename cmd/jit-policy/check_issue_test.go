package main

import (
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/jit-policy/jit-policy/action/event"
	"github.com/jit-policy/jit-policy/action/event/eventtest"
	"github.com/jit-policy/jit-policy/action/prcheck"
	"github.com/jit-policy/jit-policy/internal/lease"
	"github.com/jit-policy/jit-policy/internal/sshdtest"
)

// TestCheckIssuesFromTheDefaultBranchOnly: an approved request issues an
// SSH certificate that logs in to a real sshd — but only when this job's
// token proves a workflow of the default branch; a re-run issues nothing
// new; closing the pull request unmerged revokes it through the KRL.
func TestCheckIssuesFromTheDefaultBranchOnly(t *testing.T) {
	sshdtest.RequireUser(t, "nobody")
	e := newPREnv(t)
	srv := sshdtest.Start(t, e.caPub, e.krl)
	signer, pubPath := e.userKey(t, "alice")
	e.request(t, "alice.yaml", sshRequest("INC-1234: investigate stuck orders", "30m", readFile(t, pubPath)))

	// Untrusted callers issue nothing, whatever they ask.
	for _, tt := range []struct{ name, event, ref, want string }{
		{"the pull request's merge ref", event.PullRequestTarget, "refs/pull/2/merge", "not a workflow of Codertocat/Hello-World's default branch"},
		{"another branch", event.PullRequestTarget, "refs/heads/feature", "not a workflow"},
		{"a pull_request workflow", event.PullRequest, "refs/heads/master", "runs the pull request's own copy"},
	} {
		code, _, errOut := e.check(t, tt.event, eventtest.PullRequestOpened, e.workflowToken(t, tt.ref))
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Fatalf("%s: exit %d, want 2 naming %q\n%s", tt.name, code, tt.want, errOut)
		}
		if n := len(e.allLeases(t)); n != 0 {
			t.Fatalf("%s: %d leases issued", tt.name, n)
		}
		if c := e.comment(t); !strings.Contains(c, tt.want) {
			t.Fatalf("%s: the comment does not say why nothing was issued:\n%s", tt.name, c)
		}
	}

	trusted := func() (int, string) {
		code, _, errOut := e.check(t, event.PullRequestTarget, eventtest.PullRequestOpened, e.workflowToken(t, "refs/heads/master"))
		return code, errOut
	}
	if code, errOut := trusted(); code != 0 {
		t.Fatalf("check --issue from the default branch: exit %d\n%s\n%s", code, errOut, e.comment(t))
	}
	ls := e.allLeases(t)
	if len(ls) != 1 || ls[0].PR != e.ev.Number || ls[0].Subject != prAuthor || ls[0].State != lease.Active {
		t.Fatalf("leases = %+v, want one active lease of PR #%d for %s", ls, e.ev.Number, prAuthor)
	}
	if want := "jit/" + ls[0].ID + "/pr/2/" + prAuthor; ls[0].Credential.KeyID != want {
		t.Fatalf("key id %q, want %q", ls[0].Credential.KeyID, want)
	}
	cert := certFromComment(t, e.comment(t))
	if err := srv.Login("nobody", signer, cert); err != nil {
		t.Fatalf("the approved certificate does not log in: %v", err)
	}

	// A re-run for the same head commit issues nothing new.
	if code, errOut := trusted(); code != 0 {
		t.Fatalf("re-run: exit %d\n%s", code, errOut)
	}
	if n := len(e.allLeases(t)); n != 1 {
		t.Fatalf("re-run issued again: %d leases", n)
	}
	if c := e.comment(t); !strings.Contains(c, "Already issued") {
		t.Fatalf("the re-run's comment does not say it was already issued:\n%s", c)
	}

	// Closed without merging: revoked, and sshd refuses it.
	code, _, errOut := e.check(t, event.PullRequestTarget, eventtest.PullRequestClosed, e.workflowToken(t, "refs/heads/master"))
	if code != 0 {
		t.Fatalf("closed: exit %d\n%s", code, errOut)
	}
	if l := e.allLeases(t)[0]; l.State != lease.Revoked || l.RevokedBy != prcheck.ByPRClosed {
		t.Fatalf("after close: lease %+v, want revoked by %s", l, prcheck.ByPRClosed)
	}
	if err := srv.Login("nobody", signer, cert); err == nil {
		t.Fatal("the certificate of a pull request closed unmerged still logs in")
	}
	if c := e.comment(t); !strings.Contains(c, "revoked") {
		t.Fatalf("the comment does not report the revocation:\n%s", c)
	}
}

// certFromComment finds the SSH certificate posted in the comment.
func certFromComment(t *testing.T, comment string) *ssh.Certificate {
	t.Helper()
	for _, line := range strings.Split(comment, "\n") {
		if !strings.HasPrefix(line, "ssh-ed25519-cert-v01@openssh.com ") {
			continue
		}
		pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
		if err != nil {
			t.Fatalf("parsing the posted certificate: %v", err)
		}
		if c, ok := pub.(*ssh.Certificate); ok {
			return c
		}
	}
	t.Fatalf("no certificate in the comment:\n%s", comment)
	return nil
}
