package githubtest

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"path"
	"strings"
	"time"
)

// This file renders the fake's state in GitHub's response shapes, after
// the examples of docs.github.com/rest (and action/prfacts/testdata).

// nodeID is a legacy-style GraphQL node id.
func nodeID(kind string, id int64) string {
	return base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "0%d:%s%d", len(kind), kind, id))
}

// ts is GitHub's timestamp format; the zero time is null.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

// userJSON is a simple user; an empty login is null.
func (s *Server) userJSON(login string) any {
	if login == "" {
		return nil
	}
	id := userID(login)
	typ, html, avatar := "User", s.web()+"/"+login, fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", id)
	if strings.HasSuffix(login, "[bot]") {
		typ, html = "Bot", s.web()+"/apps/"+strings.TrimSuffix(login, "[bot]")
		if login == BotLogin {
			avatar = "https://avatars.githubusercontent.com/in/15368?v=4"
		}
	}
	u := s.base() + "/users/" + url.PathEscape(login)
	return map[string]any{
		"login": login, "id": id, "node_id": nodeID(typ, id), "avatar_url": avatar, "gravatar_id": "",
		"url": u, "html_url": html,
		"followers_url": u + "/followers", "following_url": u + "/following{/other_user}",
		"gists_url": u + "/gists{/gist_id}", "starred_url": u + "/starred{/owner}{/repo}",
		"subscriptions_url": u + "/subscriptions", "organizations_url": u + "/orgs",
		"repos_url": u + "/repos", "events_url": u + "/events{/privacy}",
		"received_events_url": u + "/received_events", "type": typ, "site_admin": false,
	}
}

// repoJSON is a simple repository owned by owner.
func (s *Server) repoJSON(owner, repo string, fork bool) map[string]any {
	id := userID(owner+"/"+repo) + 500000000
	if fork {
		id++ // a fork is another repository, whatever its name
	}
	u := s.base() + "/repos/" + owner + "/" + repo
	return map[string]any{
		"id": id, "node_id": nodeID("Repository", id), "name": repo, "full_name": owner + "/" + repo,
		"owner": s.userJSON(owner), "private": true, "html_url": s.web() + "/" + owner + "/" + repo,
		"description": nil, "fork": fork, "url": u, "pulls_url": u + "/pulls{/number}",
		"default_branch": "main", "visibility": "private",
	}
}

// prJSON is "Get a pull request".
func (s *Server) prJSON(pr PR) map[string]any {
	state := pr.State
	if state == "" {
		state = "open"
		if pr.Merged {
			state = "closed"
		}
	}
	assoc := pr.AuthorAssociation
	if assoc == "" {
		assoc = "CONTRIBUTOR"
	}
	baseRef, headRef := pr.BaseRef, pr.HeadRef
	if baseRef == "" {
		baseRef = "main"
	}
	if headRef == "" {
		headRef = "feature"
	}
	updated := pr.CreatedAt
	var closedAt, mergedAt, mergedBy, mergeSHA any
	if state == "closed" {
		closedAt = ts(pr.CreatedAt.Add(30 * time.Minute))
		updated = pr.CreatedAt.Add(30 * time.Minute)
	}
	if pr.Merged {
		mergedAt, mergedBy, mergeSHA = closedAt, s.userJSON(pr.Owner), blobSHA([]byte(pr.HeadSHA))
	}
	labels := []any{}
	for _, l := range pr.Labels {
		id := userID("label:" + l)
		labels = append(labels, map[string]any{
			"id": id, "node_id": nodeID("Label", id), "url": s.base() + "/repos/" + pr.Owner + "/" + pr.Repo + "/labels/" + url.PathEscape(l),
			"name": l, "description": nil, "color": "ededed", "default": false,
		})
	}
	headOwner := pr.Owner
	if pr.FromFork {
		headOwner = pr.Author
	}
	ref := func(owner, ref, sha string, fork bool) map[string]any {
		return map[string]any{
			"label": owner + ":" + ref, "ref": ref, "sha": sha,
			"user": s.userJSON(owner), "repo": s.repoJSON(owner, pr.Repo, fork),
		}
	}
	repoAPI := s.base() + "/repos/" + pr.Owner + "/" + pr.Repo
	repoWeb := s.web() + "/" + pr.Owner + "/" + pr.Repo
	n := fmt.Sprint(pr.Number)
	id := userID(pr.Owner+"/"+pr.Repo+"#"+n) + 1000000000
	title := pr.Title
	if title == "" {
		title = "Pull request " + n
	}
	return map[string]any{
		"url": repoAPI + "/pulls/" + n, "id": id, "node_id": nodeID("PullRequest", id),
		"html_url": repoWeb + "/pull/" + n, "diff_url": repoWeb + "/pull/" + n + ".diff",
		"patch_url": repoWeb + "/pull/" + n + ".patch", "issue_url": repoAPI + "/issues/" + n,
		"commits_url": repoAPI + "/pulls/" + n + "/commits", "review_comments_url": repoAPI + "/pulls/" + n + "/comments",
		"review_comment_url": repoAPI + "/pulls/comments{/number}", "comments_url": repoAPI + "/issues/" + n + "/comments",
		"statuses_url": repoAPI + "/statuses/" + pr.HeadSHA,
		"number":       pr.Number, "state": state, "locked": false, "title": title,
		"user": s.userJSON(pr.Author), "body": pr.Body, "labels": labels, "milestone": nil,
		"active_lock_reason": nil, "created_at": ts(pr.CreatedAt), "updated_at": ts(updated),
		"closed_at": closedAt, "merged_at": mergedAt, "merge_commit_sha": mergeSHA,
		"assignee": nil, "assignees": []any{}, "requested_reviewers": []any{}, "requested_teams": []any{},
		"head": ref(headOwner, headRef, pr.HeadSHA, pr.FromFork),
		"base": ref(pr.Owner, baseRef, pr.BaseSHA, false),
		"_links": map[string]any{
			"self":            map[string]any{"href": repoAPI + "/pulls/" + n},
			"html":            map[string]any{"href": repoWeb + "/pull/" + n},
			"issue":           map[string]any{"href": repoAPI + "/issues/" + n},
			"comments":        map[string]any{"href": repoAPI + "/issues/" + n + "/comments"},
			"review_comments": map[string]any{"href": repoAPI + "/pulls/" + n + "/comments"},
			"review_comment":  map[string]any{"href": repoAPI + "/pulls/comments{/number}"},
			"commits":         map[string]any{"href": repoAPI + "/pulls/" + n + "/commits"},
			"statuses":        map[string]any{"href": repoAPI + "/statuses/" + pr.HeadSHA},
		},
		"author_association": assoc, "auto_merge": nil, "draft": pr.Draft, "merged": pr.Merged,
		"mergeable": !pr.Merged, "rebaseable": !pr.Merged, "mergeable_state": "clean", "merged_by": mergedBy,
		"comments": 0, "review_comments": 0, "maintainer_can_modify": false,
		"commits": len(s.commitsOf(pr)), "additions": 0, "deletions": 0, "changed_files": len(s.filesOf(pr)),
	}
}

func (s *Server) commitsOf(pr PR) []Commit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commits[prKey{pr.Owner, pr.Repo, pr.Number}]
}

func (s *Server) filesOf(pr PR) []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.files[prKey{pr.Owner, pr.Repo, pr.Number}]
}

// fileJSON is an item of "List pull requests files".
func (s *Server) fileJSON(k prKey, head string, f File) map[string]any {
	blob, raw := s.web()+"/"+k.owner+"/"+k.repo+"/blob/"+head+"/"+f.Name, s.web()+"/"+k.owner+"/"+k.repo+"/raw/"+head+"/"+f.Name
	m := map[string]any{
		"sha": blobSHA([]byte(f.Name)), "filename": f.Name, "status": f.Status,
		"additions": 1, "deletions": 0, "changes": 1, "blob_url": blob, "raw_url": raw,
		"contents_url": s.base() + "/repos/" + k.owner + "/" + k.repo + "/contents/" + f.Name + "?ref=" + head,
		"patch":        "@@ -0,0 +1 @@\n+" + path.Base(f.Name),
	}
	if f.PreviousName != "" {
		m["previous_filename"] = f.PreviousName
	}
	return m
}

// reviewJSON is an item of "List reviews for a pull request".
func (s *Server) reviewJSON(k prKey, r Review) map[string]any {
	n := fmt.Sprint(k.number)
	html := fmt.Sprintf("%s/%s/%s/pull/%s#pullrequestreview-%d", s.web(), k.owner, k.repo, n, r.ID)
	api := s.base() + "/repos/" + k.owner + "/" + k.repo + "/pulls/" + n
	return map[string]any{
		"id": r.ID, "node_id": nodeID("PullRequestReview", r.ID), "user": s.userJSON(r.Login),
		"body": r.Body, "state": r.State, "html_url": html, "pull_request_url": api,
		"_links": map[string]any{
			"html":         map[string]any{"href": html},
			"pull_request": map[string]any{"href": api},
		},
		"submitted_at": ts(r.SubmittedAt), "commit_id": r.CommitID, "author_association": "MEMBER",
	}
}

// commitJSON is an item of "List commits on a pull request".
func (s *Server) commitJSON(k prKey, c Commit, parent string) map[string]any {
	api := s.base() + "/repos/" + k.owner + "/" + k.repo
	person := func(login string) map[string]any {
		name, email := login, login+"@users.noreply.github.com"
		if login == "" {
			name, email = "Unknown", "unknown@example.com"
		}
		if login == "web-flow" {
			name, email = "GitHub", "noreply@github.com"
		}
		return map[string]any{"name": name, "email": email, "date": ts(s.now())}
	}
	msg := c.Message
	if msg == "" {
		msg = "Commit " + c.SHA
	}
	parents := []any{}
	if parent != "" {
		parents = append(parents, map[string]any{"url": api + "/commits/" + parent, "sha": parent, "html_url": s.web() + "/" + k.owner + "/" + k.repo + "/commit/" + parent})
	}
	return map[string]any{
		"url": api + "/commits/" + c.SHA, "sha": c.SHA, "node_id": base64.StdEncoding.EncodeToString([]byte("06:Commit" + c.SHA)),
		"html_url": s.web() + "/" + k.owner + "/" + k.repo + "/commit/" + c.SHA, "comments_url": api + "/commits/" + c.SHA + "/comments",
		"commit": map[string]any{
			"url": api + "/git/commits/" + c.SHA, "author": person(c.AuthorLogin), "committer": person(c.CommitterLogin),
			"message": msg, "tree": map[string]any{"url": api + "/git/trees/" + c.SHA, "sha": c.SHA},
			"comment_count": 0, "verification": map[string]any{"verified": false, "reason": "unsigned", "signature": nil, "payload": nil},
		},
		"author": s.userJSON(c.AuthorLogin), "committer": s.userJSON(c.CommitterLogin), "parents": parents,
	}
}

// contentJSON is "Get repository content" for a file.
func (s *Server) contentJSON(k contentKey, data []byte) map[string]any {
	sha := blobSHA(data)
	ref := k.ref
	if ref == "" {
		ref = "main"
	}
	self := s.base() + "/repos/" + k.owner + "/" + k.repo + "/contents/" + k.path + "?ref=" + url.QueryEscape(ref)
	git := s.base() + "/repos/" + k.owner + "/" + k.repo + "/git/blobs/" + sha
	html := s.web() + "/" + k.owner + "/" + k.repo + "/blob/" + ref + "/" + k.path
	return map[string]any{
		"type": "file", "encoding": "base64", "size": len(data), "name": path.Base(k.path), "path": k.path,
		"content": wrap64(data), "sha": sha, "url": self, "git_url": git, "html_url": html,
		"download_url": s.web() + "/" + k.owner + "/" + k.repo + "/raw/" + ref + "/" + k.path,
		"_links":       map[string]any{"git": git, "self": self, "html": html},
	}
}

// teamJSON is "Get a team by name".
func (s *Server) teamJSON(org, slug string, tm *team) map[string]any {
	u := fmt.Sprintf("%s/teams/%d", s.base(), tm.id)
	orgID := userID(org)
	return map[string]any{
		"id": tm.id, "node_id": nodeID("Team", tm.id), "url": u, "html_url": s.web() + "/orgs/" + org + "/teams/" + slug,
		"name": slug, "slug": slug, "description": "", "privacy": "closed", "notification_setting": "notifications_enabled",
		"permission": "pull", "members_url": u + "/members{/member}", "repositories_url": u + "/repos", "parent": nil,
		"members_count": len(tm.members), "repos_count": 1,
		"created_at": "2024-01-02T03:04:05Z", "updated_at": "2024-01-02T03:04:05Z",
		"organization": map[string]any{
			"login": org, "id": orgID, "node_id": nodeID("Organization", orgID), "url": s.base() + "/orgs/" + org,
			"repos_url": s.base() + "/orgs/" + org + "/repos", "description": org, "type": "Organization",
		},
	}
}

// actionsApp is the GitHub Actions app that owns GITHUB_TOKEN's writes.
func (s *Server) actionsApp() map[string]any {
	return map[string]any{
		"id": 15368, "slug": "github-actions", "node_id": "MDM6QXBwMTUzNjg=",
		"owner":        map[string]any{"login": "github", "id": 9919, "node_id": "MDEyOk9yZ2FuaXphdGlvbjk5MTk=", "url": s.base() + "/users/github", "type": "Organization", "site_admin": false},
		"name":         "GitHub Actions",
		"description":  "Automate your workflow from idea to production",
		"external_url": "https://help.github.com/en/actions", "html_url": s.web() + "/apps/github-actions",
		"created_at": "2018-07-30T09:30:17Z", "updated_at": "2024-04-10T20:33:16Z",
		"permissions": map[string]any{"checks": "write", "contents": "write", "issues": "write", "metadata": "read", "pull_requests": "write", "statuses": "write"},
		"events":      []any{"check_run", "check_suite", "pull_request", "pull_request_review", "push", "workflow_run"},
	}
}

// checkRunJSON is a check run; s.mu is held.
func (s *Server) checkRunJSON(c CheckRun) map[string]any {
	api := fmt.Sprintf("%s/repos/%s/%s/check-runs/%d", s.base(), c.Owner, c.Repo, c.ID)
	var conclusion, details, external any
	if c.Conclusion != "" {
		conclusion = c.Conclusion
	}
	details = s.web() + "/" + c.Owner + "/" + c.Repo + fmt.Sprintf("/runs/%d", c.ID)
	if c.DetailsURL != "" {
		details = c.DetailsURL
	}
	external = c.ExternalID
	var title, summary, text any
	if c.Title != "" || c.Summary != "" {
		title, summary = c.Title, c.Summary
	}
	if c.Text != "" {
		text = c.Text
	}
	prs := []any{}
	for k, pr := range s.prs {
		if k.owner == c.Owner && k.repo == c.Repo && pr.HeadSHA == c.HeadSHA && !pr.FromFork {
			prs = append(prs, map[string]any{
				"url": s.base() + "/repos/" + k.owner + "/" + k.repo + fmt.Sprintf("/pulls/%d", k.number), "id": userID(fmt.Sprint(k)) + 1000000000, "number": k.number,
				"head": map[string]any{"ref": pr.HeadRef, "sha": pr.HeadSHA, "repo": map[string]any{"id": userID(k.owner+"/"+k.repo) + 500000000, "url": s.base() + "/repos/" + k.owner + "/" + k.repo, "name": k.repo}},
				"base": map[string]any{"ref": pr.BaseRef, "sha": pr.BaseSHA, "repo": map[string]any{"id": userID(k.owner+"/"+k.repo) + 500000000, "url": s.base() + "/repos/" + k.owner + "/" + k.repo, "name": k.repo}},
			})
		}
	}
	return map[string]any{
		"id": c.ID, "head_sha": c.HeadSHA, "node_id": nodeID("CheckRun", c.ID), "external_id": external,
		"url": api, "html_url": s.web() + "/" + c.Owner + "/" + c.Repo + fmt.Sprintf("/runs/%d", c.ID), "details_url": details,
		"status": c.Status, "conclusion": conclusion, "started_at": ts(c.StartedAt), "completed_at": ts(c.CompletedAt),
		"output": map[string]any{
			"title": title, "summary": summary, "text": text, "annotations_count": 0, "annotations_url": api + "/annotations",
		},
		"name": c.Name, "check_suite": map[string]any{"id": c.ID + 7000000}, "app": s.actionsApp(), "pull_requests": prs,
	}
}

// commentJSON is an issue comment; s.mu is held.
func (s *Server) commentJSON(k prKey, c Comment) map[string]any {
	kind := "issues"
	if _, ok := s.prs[k]; ok {
		kind = "pull"
	}
	api := s.base() + "/repos/" + k.owner + "/" + k.repo
	m := map[string]any{
		"id": c.ID, "node_id": nodeID("IssueComment", c.ID), "url": fmt.Sprintf("%s/issues/comments/%d", api, c.ID),
		"html_url": fmt.Sprintf("%s/%s/%s/%s/%d#issuecomment-%d", s.web(), k.owner, k.repo, kind, k.number, c.ID),
		"body":     c.Body, "user": s.userJSON(c.User), "created_at": ts(c.CreatedAt), "updated_at": ts(c.UpdatedAt),
		"issue_url": fmt.Sprintf("%s/issues/%d", api, k.number), "author_association": "NONE",
		"reactions": map[string]any{
			"url": fmt.Sprintf("%s/issues/comments/%d/reactions", api, c.ID), "total_count": 0, "+1": 0, "-1": 0,
			"laugh": 0, "hooray": 0, "confused": 0, "heart": 0, "rocket": 0, "eyes": 0,
		},
		"performed_via_github_app": nil,
	}
	if c.User == BotLogin {
		m["performed_via_github_app"] = s.actionsApp()
	}
	return m
}

// statusJSON is "Create a commit status".
func (s *Server) statusJSON(st Status, now time.Time) map[string]any {
	var desc, target any
	if st.Description != "" {
		desc = st.Description
	}
	if st.TargetURL != "" {
		target = st.TargetURL
	}
	return map[string]any{
		"url": s.base() + "/repos/" + st.Owner + "/" + st.Repo + "/statuses/" + st.SHA, "avatar_url": "https://avatars.githubusercontent.com/in/15368?v=4",
		"id": st.ID, "node_id": nodeID("StatusContext", st.ID), "state": st.State, "description": desc, "target_url": target,
		"context": st.Context, "created_at": ts(now), "updated_at": ts(now), "creator": s.userJSON(BotLogin),
	}
}
