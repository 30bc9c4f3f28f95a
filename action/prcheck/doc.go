// Package prcheck runs the pull-request access-request flow for one event
// (DESIGN.md, "Pull request"): it reads the pull request's facts through
// the API, decides every access item of the request files the pull request
// adds or changes, and — only when the caller is a trusted workflow of the
// default branch — issues what was allowed, once per item and head commit.
// A pull request closed without merging has its leases revoked.
//
// Request files are read through the API at the pinned head commit, as
// data: never from a checkout of the pull request, never executed. The
// built-in refusals (a fork, a draft, a stale request, an unreadable team
// membership) deny every item whatever the policy says.
package prcheck
