package prfacts

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jit-policy/jit-policy/action/event"
	"github.com/jit-policy/jit-policy/engine"
	"github.com/jit-policy/jit-policy/internal/config"
)

// members of the fake organisation's teams; everyone else gets a 404.
var members = map[string]map[string]string{
	"sre": {"bob": "active", "carol": "active", "dave": "active", "erin": "pending"},
	"dev": {"alice": "active"},
}

// standard installs the answers of an ordinary PR #42: two commits by
// alice (one through the web interface), three changed files over two
// pages, the given reviews, readable teams.
func standard(t *testing.T, f *fakeGitHub, reviews ...map[string]any) {
	f.routes[prPath] = static(http.StatusOK, fixture(t, "pull.json"))
	f.routes[prPath+"/files"] = paged(fixture(t, "files.page1.json"), fixture(t, "files.page2.json"))
	if reviews == nil {
		reviews = []map[string]any{}
	}
	f.routes[prPath+"/reviews"] = paged(encode(t, reviews))
	f.routes[prPath+"/commits"] = paged(encode(t, []map[string]any{
		commit(t, oldSHA, "alice", "web-flow"), commit(t, headSHA, "alice", "alice")}))
	for team, who := range members {
		f.routes[apiBase+"/orgs/acme/teams/"+team] = static(http.StatusOK, fixture(t, "team.json"))
		for _, login := range []string{"alice", "bob", "carol", "dave", "erin", "frank"} {
			p := apiBase + "/orgs/acme/teams/" + team + "/memberships/" + login
			if state, ok := who[login]; ok {
				m := object(t, "membership.active.json")
				m["state"] = state
				f.routes[p] = static(http.StatusOK, encode(t, m))
			} else {
				f.routes[p] = static(http.StatusNotFound, fixture(t, "notfound.json"))
			}
		}
	}
}

// editPull answers the PR with the fixture changed by edit.
func editPull(t *testing.T, f *fakeGitHub, edit func(pr map[string]any)) {
	pr := object(t, "pull.json")
	edit(pr)
	f.routes[prPath] = static(http.StatusOK, encode(t, pr))
}

var (
	prEvent = event.Event{Name: event.PullRequestTarget, Action: "opened", Owner: "acme", Repo: "widgets", Number: 42}
	prCfg   = config.PullRequests{Teams: []string{"acme/sre", "acme/dev"}, MaxPendingAge: config.Duration{Duration: 72 * time.Hour}}
)

func approval(login string, teams []string, commit string, state, at string) engine.Approval {
	ts, _ := time.Parse(time.RFC3339, "2026-05-04T"+at+":00Z")
	return engine.Approval{Login: login, Teams: teams, CommitID: commit, Current: commit == headSHA, State: state, SubmittedAt: ts}
}

func sameApprovals(a, b []engine.Approval) bool {
	return slices.EqualFunc(a, b, func(x, y engine.Approval) bool {
		return x.Login == y.Login && slices.Equal(x.Teams, y.Teams) && x.CommitID == y.CommitID &&
			x.Current == y.Current && x.State == y.State && x.SubmittedAt.Equal(y.SubmittedAt)
	})
}

func TestFacts(t *testing.T) {
	sre := []string{"acme/sre"}
	for _, tc := range []struct {
		name      string
		setup     func(t *testing.T, f *fakeGitHub)
		approvals []engine.Approval
		refusals  []string // substrings, one per refusal
		dropped   []string // substrings, one per dropped approval
		fork      bool
		closed    bool // ClosedUnmerged
		err       string
	}{{
		name: "two current approvals from the team",
		setup: func(t *testing.T, f *fakeGitHub) {
			standard(t, f, review(t, 1, "bob", StateApproved, headSHA, "10:00"), review(t, 2, "carol", StateApproved, headSHA, "10:30"))
		},
		approvals: []engine.Approval{approval("bob", sre, headSHA, StateApproved, "10:00"), approval("carol", sre, headSHA, StateApproved, "10:30")},
	}, {
		name: "approval on an older commit is dropped",
		setup: func(t *testing.T, f *fakeGitHub) {
			standard(t, f, review(t, 1, "bob", StateApproved, oldSHA, "10:00"))
		},
		dropped: []string{"bob: approved an older commit"},
	}, {
		name: "the author's own approval is dropped",
		setup: func(t *testing.T, f *fakeGitHub) {
			standard(t, f, review(t, 1, "alice", StateApproved, headSHA, "10:00"))
		},
		dropped: []string{"alice: the pull request's author"},
	}, {
		name: "an approval by someone who pushed a commit is dropped",
		setup: func(t *testing.T, f *fakeGitHub) {
			standard(t, f, review(t, 1, "dave", StateApproved, headSHA, "10:00"), review(t, 2, "bob", StateApproved, headSHA, "10:05"))
			editPull(t, f, func(pr map[string]any) { pr["commits"] = 3 })
			f.routes[prPath+"/commits"] = paged(encode(t, []map[string]any{
				commit(t, oldSHA, "alice", "web-flow"), commit(t, headSHA, "alice", "dave"),
				commit(t, "1111111111111111111111111111111111111111", "alice", "alice")}))
		},
		approvals: []engine.Approval{approval("bob", sre, headSHA, StateApproved, "10:05")},
		dropped:   []string{"dave: committed commit 6dcb09b"},
	}, {
		name: "an approval by a commit author is dropped",
		setup: func(t *testing.T, f *fakeGitHub) {
			standard(t, f, review(t, 1, "carol", StateApproved, headSHA, "10:00"))
			f.routes[prPath+"/commits"] = paged(encode(t, []map[string]any{
				commit(t, oldSHA, "carol", "carol"), commit(t, headSHA, "alice", "alice")}))
		},
		dropped: []string{"carol: authored commit f95f852"},
	}, {
		name: "a later change request cancels the approval, a comment changes nothing",
		setup: func(t *testing.T, f *fakeGitHub) {
			standard(t, f, review(t, 1, "bob", StateApproved, headSHA, "10:00"),
				review(t, 2, "bob", StateChangesRequested, headSHA, "11:00"),
				review(t, 3, "bob", StateCommented, headSHA, "11:30"),
				review(t, 4, "carol", StateApproved, headSHA, "11:10"),
				review(t, 5, "carol", StateCommented, headSHA, "11:40"))
		},
		approvals: []engine.Approval{approval("bob", sre, headSHA, StateChangesRequested, "11:00"), approval("carol", sre, headSHA, StateApproved, "11:10")},
	}, {
		name: "a dismissed review removes the stance",
		setup: func(t *testing.T, f *fakeGitHub) {
			standard(t, f, review(t, 1, "bob", StateDismissed, headSHA, "10:00"), review(t, 2, "carol", StateApproved, headSHA, "10:10"))
		},
		approvals: []engine.Approval{approval("carol", sre, headSHA, StateApproved, "10:10")},
	}, {
		name: "a pending team member has no team",
		setup: func(t *testing.T, f *fakeGitHub) {
			standard(t, f, review(t, 1, "erin", StateApproved, headSHA, "10:00"), review(t, 2, "frank", StateApproved, headSHA, "10:01"))
		},
		approvals: []engine.Approval{approval("erin", []string{}, headSHA, StateApproved, "10:00"), approval("frank", []string{}, headSHA, StateApproved, "10:01")},
	}, {
		name: "fork",
		setup: func(t *testing.T, f *fakeGitHub) {
			standard(t, f)
			editPull(t, f, func(pr map[string]any) {
				repo := pr["head"].(map[string]any)["repo"].(map[string]any)
				repo["full_name"], repo["fork"] = "mallory/widgets", true
			})
		},
		fork:     true,
		refusals: []string{"comes from the fork mallory/widgets"},
	}, {
		name: "deleted fork",
		setup: func(t *testing.T, f *fakeGitHub) {
			standard(t, f)
			editPull(t, f, func(pr map[string]any) { pr["head"].(map[string]any)["repo"] = nil })
		},
		fork:     true,
		refusals: []string{"head repository is gone"},
	}, {
		name: "draft",
		setup: func(t *testing.T, f *fakeGitHub) {
			standard(t, f)
			editPull(t, f, func(pr map[string]any) { pr["draft"] = true })
		},
		refusals: []string{"is a draft"},
	}, {
		name: "stale",
		setup: func(t *testing.T, f *fakeGitHub) {
			standard(t, f)
			editPull(t, f, func(pr map[string]any) { pr["created_at"] = "2026-04-30T11:00:00Z" })
		},
		refusals: []string{"opened 97h0m0s ago, longer than the 72h0m0s allowed"},
	}, {
		name: "closed without merge",
		setup: func(t *testing.T, f *fakeGitHub) {
			standard(t, f)
			editPull(t, f, func(pr map[string]any) { pr["state"], pr["closed_at"] = "closed", "2026-05-04T11:00:00Z" })
		},
		refusals: []string{"closed without merge"},
		closed:   true,
	}, {
		name: "a commit without a GitHub account",
		setup: func(t *testing.T, f *fakeGitHub) {
			standard(t, f)
			f.routes[prPath+"/commits"] = paged(encode(t, []map[string]any{
				commit(t, oldSHA, "alice", "web-flow"), commit(t, headSHA, "", "alice")}))
		},
		refusals: []string{"Commit(s) 6dcb09b have an author or committer that is no GitHub account"},
	}, {
		name: "more commits than the API lists",
		setup: func(t *testing.T, f *fakeGitHub) {
			standard(t, f)
			editPull(t, f, func(pr map[string]any) { pr["commits"] = 251 })
		},
		refusals: []string{"has 251 commits but the API lists only 2"},
	}, {
		name: "membership unreadable (403)",
		setup: func(t *testing.T, f *fakeGitHub) {
			standard(t, f, review(t, 1, "bob", StateApproved, headSHA, "10:00"))
			f.routes[apiBase+"/orgs/acme/teams/sre/memberships/alice"] = static(http.StatusForbidden, fixture(t, "forbidden.json"))
		},
		err: "cannot read membership of acme/sre: the token lacks members:read (use a GitHub App token) (HTTP 403",
	}, {
		name: "team invisible to the token (404)",
		setup: func(t *testing.T, f *fakeGitHub) {
			standard(t, f)
			f.routes[apiBase+"/orgs/acme/teams/sre"] = static(http.StatusNotFound, fixture(t, "notfound.json"))
		},
		err: "cannot read membership of acme/sre: the token lacks members:read (use a GitHub App token) (HTTP 404 (or the team does not exist)",
	}, {
		name: "missing pull request",
		setup: func(t *testing.T, f *fakeGitHub) {
			f.routes[prPath] = static(http.StatusNotFound, fixture(t, "notfound.json"))
		},
		err: "PR #42 of acme/widgets: HTTP 404",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeGitHub(t)
			tc.setup(t, f)
			got, err := f.client(t).Facts(context.Background(), prEvent, prCfg, now)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Facts: error %v, want one containing %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "membership") && !errors.Is(err, ErrMembershipUnreadable) {
					t.Fatalf("Facts: error %v does not wrap ErrMembershipUnreadable", err)
				}
				if strings.Contains(err.Error(), token) {
					t.Fatalf("Facts: error %v shows the token", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Facts: %v", err)
			}
			if !sameApprovals(got.Approvals, tc.approvals) {
				t.Fatalf("Approvals:\n got %+v\nwant %+v", got.Approvals, tc.approvals)
			}
			if len(got.Refusals) != len(tc.refusals) {
				t.Fatalf("Refusals %q, want %d containing %q", got.Refusals, len(tc.refusals), tc.refusals)
			}
			for i, want := range tc.refusals {
				if !strings.Contains(got.Refusals[i], want) {
					t.Fatalf("Refusals[%d] = %q, want it to contain %q", i, got.Refusals[i], want)
				}
			}
			if len(got.Dropped) != len(tc.dropped) {
				t.Fatalf("Dropped %q, want %d containing %q", got.Dropped, len(tc.dropped), tc.dropped)
			}
			for i, want := range tc.dropped {
				if !strings.Contains(got.Dropped[i], want) {
					t.Fatalf("Dropped[%d] = %q, want it to contain %q", i, got.Dropped[i], want)
				}
			}
			if got.PR.FromFork != tc.fork {
				t.Fatalf("FromFork = %v, want %v", got.PR.FromFork, tc.fork)
			}
			if got.ClosedUnmerged != tc.closed {
				t.Fatalf("ClosedUnmerged = %v, want %v", got.ClosedUnmerged, tc.closed)
			}
			if got.Requester.Login != "alice" || !slices.Equal(got.Requester.Teams, []string{"acme/dev"}) {
				t.Fatalf("Requester = %+v, want alice in acme/dev", got.Requester)
			}
		})
	}
}

// TestFactsPullRequest checks the pull request's fields, and that the
// second page of changed files is read.
func TestFactsPullRequest(t *testing.T) {
	f := newFakeGitHub(t)
	standard(t, f)
	got, err := f.client(t).Facts(context.Background(), prEvent, prCfg, now)
	if err != nil {
		t.Fatalf("Facts: %v", err)
	}
	pr := got.PR
	if pr.Number != 42 || pr.Author != "alice" || pr.AuthorAssociation != "MEMBER" || pr.BaseRef != "main" ||
		pr.HeadSHA != headSHA || pr.Draft || pr.Merged || pr.FromFork || !slices.Equal(pr.Labels, []string{"access-request"}) {
		t.Fatalf("PR = %+v", pr)
	}
	wantFiles := []string{"README.md", "requests/old-bob.yaml", "requests/bob.yaml", "requests/alice.yaml"}
	if !slices.Equal(pr.Files, wantFiles) {
		t.Fatalf("Files = %q, want %q", pr.Files, wantFiles)
	}
	wantChanged := []ChangedFile{
		{Name: "README.md", Status: "modified", SHA: "bbcd538c8e72b8c175046e27cc8f907076331401"},
		{Name: "requests/old-bob.yaml", Status: "renamed", SHA: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", PreviousName: "requests/bob.yaml"},
		{Name: "requests/alice.yaml", Status: "added", SHA: "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"},
	}
	if !slices.Equal(got.Changed, wantChanged) {
		t.Fatalf("Changed = %+v, want %+v", got.Changed, wantChanged)
	}
	if f.hit(prPath+"/files") != 2 {
		t.Fatalf("files pages fetched: %d, want 2", f.hit(prPath+"/files"))
	}
	if len(got.Refusals) != 0 || len(got.Dropped) != 0 || len(got.Approvals) != 0 {
		t.Fatalf("Facts = %+v, want no refusals, drops or approvals", got)
	}
}

// TestFactsRateLimit: GitHub answers 403 with x-ratelimit-remaining: 0;
// the client waits for the reset and tries again.
func TestFactsRateLimit(t *testing.T) {
	f := newFakeGitHub(t)
	standard(t, f, review(t, 1, "bob", StateApproved, headSHA, "10:00"))
	pull := fixture(t, "pull.json")
	limited := fixture(t, "ratelimit.json")
	calls := 0
	f.routes[prPath] = func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			reset := time.Now().Add(time.Second).Unix()
			reply(w, http.StatusForbidden, limited, map[string]string{
				"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0", "X-RateLimit-Used": "5000",
				"X-RateLimit-Reset": strconv.FormatInt(reset, 10), "X-RateLimit-Resource": "core"})
			return
		}
		reply(w, http.StatusOK, pull, map[string]string{"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "4999"})
	}
	start := time.Now()
	got, err := f.client(t).Facts(context.Background(), prEvent, prCfg, now)
	if err != nil {
		t.Fatalf("Facts: %v", err)
	}
	// Once refused, once retried, once more to check the head did not move.
	if calls != 3 || len(got.Approvals) != 1 {
		t.Fatalf("PR fetched %d times, approvals %+v; want a retry, the final head check and bob's approval", calls, got.Approvals)
	}
	if waited := time.Since(start); waited > 4*time.Second {
		t.Fatalf("waited %s for a reset 1 s ahead", waited)
	}
}

// TestFactsRateLimitTooFar: a reset beyond the longest wait fails at once,
// saying until when.
func TestFactsRateLimitTooFar(t *testing.T) {
	f := newFakeGitHub(t)
	standard(t, f)
	f.routes[prPath] = func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusForbidden, fixture(t, "ratelimit.json"), map[string]string{
			"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0",
			"X-RateLimit-Reset": strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)})
	}
	_, err := f.client(t).Facts(context.Background(), prEvent, prCfg, now)
	if err == nil || !strings.Contains(err.Error(), "rate limit is exhausted until") {
		t.Fatalf("Facts: error %v, want a rate-limit error", err)
	}
	if n := f.hit(prPath); n != 1 {
		t.Fatalf("PR fetched %d times, want 1", n)
	}
}

func TestFactsBadEvent(t *testing.T) {
	f := newFakeGitHub(t)
	c := f.client(t)
	for _, ev := range []event.Event{
		{Owner: "acme", Repo: "widgets"},
		{Owner: "..", Repo: "widgets", Number: 1},
		{Owner: "acme", Repo: "../x", Number: 1},
	} {
		if _, err := c.Facts(context.Background(), ev, prCfg, now); err == nil {
			t.Fatalf("Facts(%+v): no error", ev)
		}
	}
}

func TestFile(t *testing.T) {
	p := apiBase + "/repos/acme/widgets/contents/requests/alice.yaml"
	f := newFakeGitHub(t)
	f.routes[p] = func(w http.ResponseWriter, r *http.Request) {
		if ref := r.URL.Query().Get("ref"); ref != headSHA {
			t.Errorf("ref = %q, want the head sha", ref)
		}
		reply(w, http.StatusOK, fixture(t, "contents.json"), nil)
	}
	c := f.client(t)
	got, err := c.File(context.Background(), "acme", "widgets", "requests/alice.yaml", headSHA)
	if err != nil {
		t.Fatalf("File: %v", err)
	}
	if want := "issuer: ssh\nrole: prod-bastion\nttl: 15m\nprincipals: [deploy]\nreason: INC-1234\n"; string(got) != want {
		t.Fatalf("File = %q, want %q", got, want)
	}

	big := object(t, "contents.json")
	big["size"] = MaxFileBytes + 1
	f.routes[p] = static(http.StatusOK, encode(t, big))
	if _, err := c.File(context.Background(), "acme", "widgets", "requests/alice.yaml", headSHA); err == nil || !strings.Contains(err.Error(), "more than the 65536 allowed") {
		t.Fatalf("File of a big file: error %v", err)
	}
	f.routes[p] = static(http.StatusOK, encode(t, []any{object(t, "contents.json")}))
	if _, err := c.File(context.Background(), "acme", "widgets", "requests/alice.yaml", headSHA); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Fatalf("File of a directory: error %v", err)
	}
	link := object(t, "contents.json")
	link["type"] = "symlink"
	f.routes[p] = static(http.StatusOK, encode(t, link))
	if _, err := c.File(context.Background(), "acme", "widgets", "requests/alice.yaml", headSHA); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("File of a symlink: error %v", err)
	}
	f.routes[p] = static(http.StatusNotFound, fixture(t, "notfound.json"))
	if _, err := c.File(context.Background(), "acme", "widgets", "requests/alice.yaml", headSHA); err == nil || !strings.Contains(err.Error(), "HTTP 404") {
		t.Fatalf("File of a missing file: error %v", err)
	}
	for _, bad := range []struct{ path, sha string }{
		{"../etc/passwd", headSHA}, {"/requests/a.yaml", headSHA}, {"requests//a.yaml", headSHA}, {"", headSHA},
		{"requests/a.yaml", "main"}, {"requests/a.yaml", ""},
	} {
		if _, err := c.File(context.Background(), "acme", "widgets", bad.path, bad.sha); err == nil {
			t.Fatalf("File(%q, %q): no error", bad.path, bad.sha)
		}
	}
}

func TestSSHKeys(t *testing.T) {
	f := newFakeGitHub(t)
	f.routes[apiBase+"/users/alice/keys"] = paged(fixture(t, "keys.json"))
	got, err := f.client(t).SSHKeys(context.Background(), "alice")
	if err != nil {
		t.Fatalf("SSHKeys: %v", err)
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], "ssh-ed25519 AAAA") || !strings.HasPrefix(got[1], "ssh-rsa AAAA") {
		t.Fatalf("SSHKeys = %q", got)
	}
	if _, err := f.client(t).SSHKeys(context.Background(), "../alice"); err == nil {
		t.Fatalf("SSHKeys of a bad login: no error")
	}
}

func TestNew(t *testing.T) {
	if _, err := New(config.PullRequests{}, "", nil); err == nil || !strings.Contains(err.Error(), "GITHUB_TOKEN or GH_TOKEN") {
		t.Fatalf("New without a token: error %v", err)
	}
	if _, err := New(config.PullRequests{APIURL: "ftp://x"}, token, nil); err == nil {
		t.Fatalf("New with an ftp URL: no error")
	}
	c, err := New(config.PullRequests{}, token, nil)
	if err != nil || c.gh.BaseURL.String() != config.DefaultGitHubAPI {
		t.Fatalf("New default: %v, %v", c, err)
	}
	env := map[string]string{"GH_TOKEN": "b"}
	if got := Token(func(k string) string { return env[k] }); got != "b" {
		t.Fatalf("Token = %q, want GH_TOKEN's", got)
	}
	env["GITHUB_TOKEN"] = "a"
	if got := Token(func(k string) string { return env[k] }); got != "a" {
		t.Fatalf("Token = %q, want GITHUB_TOKEN's", got)
	}
}

// TestFactsHeadMoved: a push lands while the facts are read; they may mix
// two commits, so Facts refuses them.
func TestFactsHeadMoved(t *testing.T) {
	f := newFakeGitHub(t)
	standard(t, f, review(t, 1, "bob", StateApproved, headSHA, "10:00"))
	pull := fixture(t, "pull.json")
	moved := bytes.Replace(pull, []byte(headSHA), []byte(strings.Repeat("f", 40)), -1)
	calls := 0
	f.routes[prPath] = func(w http.ResponseWriter, r *http.Request) {
		calls++
		body := pull
		if calls > 1 {
			body = moved
		}
		reply(w, http.StatusOK, body, nil)
	}
	if _, err := f.client(t).Facts(context.Background(), prEvent, prCfg, now); err == nil || !strings.Contains(err.Error(), "head moved") {
		t.Fatalf("Facts with a head that moved: %v, want an error", err)
	}
}
