package jit_test

import data.jit

# Each case: one change to a known-good input, and the one reason it must add.

pipeline := {
	"version": "jit-policy/v1",
	"kind": "pipeline",
	"now": "2026-11-24T09:30:00Z",
	"request": {"issuer": "ssh", "role": "deploy", "ttl_seconds": 600, "principals": ["deploy"]},
	"token": {
		"iss": "https://token.actions.githubusercontent.com",
		"sub": "repo:acme/shop:environment:prod",
		"aud": "jit-policy",
		"repository": "acme/shop",
		"repository_id": "681726152",
		"repository_owner": "acme",
		"repository_owner_id": "159127455",
		"ref": "refs/heads/main",
		"environment": "prod",
		"job_workflow_ref": "acme/shop/.github/workflows/deploy.yml@refs/heads/main",
		"run_id": "12074658213",
		"run_attempt": "1",
	},
}

pr := {
	"version": "jit-policy/v1",
	"kind": "pull_request",
	"now": "2026-11-24T09:30:00Z", # Tuesday 10:30 in Berlin
	"request": {"issuer": "postgres", "role": "orders-readonly", "ttl_seconds": 7200},
	"pull_request": {"number": 42, "author": "alice", "draft": false, "merged": false, "from_fork": false},
	"approvals": [approval("bob")],
	"requester": {"login": "alice", "teams": ["acme/dev"]},
}

approval(login) := {"login": login, "teams": ["acme/sre"], "current": true, "state": "APPROVED"}

# allowed(base, patch): base merged with patch is allowed without reasons.
allowed(base, patch) if {
	inp := object.union(base, patch)
	jit.allow with input as inp
	count(jit.deny) == 0 with input as inp
}

# denied(base, patch, reason): reason is among the reasons, and allow is false.
denied(base, patch, reason) if {
	inp := object.union(base, patch)
	reason in jit.deny with input as inp
	not jit.allow with input as inp
}

# --- pipeline ---------------------------------------------------------------

test_pipeline_allowed if allowed(pipeline, {})

test_pipeline_ssh_grant if {
	jit.grant == {
		"max_ttl_seconds": 900,
		"principals": ["deploy"],
		"extensions": {"permit-pty": ""},
		"critical_options": {"source-address": "10.0.0.0/8"},
	} with input as pipeline
}

test_pipeline_aws_allowed_with_session_policy if {
	inp := object.union(pipeline, {"request": {"issuer": "aws", "principals": []}})
	allowed(inp, {})
	jit.grant.max_ttl_seconds == 1800 with input as inp
	jit.grant.session_policy.Statement[0].Resource == "arn:aws:s3:::acme-shop-releases/*" with input as inp
}

test_pipeline_fork_denied if denied(pipeline, {"token": {"repository": "mallory/shop", "repository_id": "702118843"}}, "repository mallory/shop (id 702118843) may not use this role")

test_pipeline_renamed_lookalike_denied if denied(pipeline, {"token": {"repository_id": "990001234"}}, "repository acme/shop (id 990001234) may not use this role")

test_pipeline_missing_repository_id_denied if denied(pipeline, {"token": {"repository_id": null}}, "repository acme/shop (id null) may not use this role")

test_pipeline_wrong_ref_denied if denied(pipeline, {"token": {"ref": "refs/heads/feature"}}, "ref refs/heads/feature is not refs/heads/main")

test_pipeline_tag_ref_denied if denied(pipeline, {"token": {"ref": "refs/tags/main"}}, "ref refs/tags/main is not refs/heads/main")

test_pipeline_wrong_environment_denied if denied(pipeline, {"token": {"environment": "staging"}}, "environment staging is not prod")

test_pipeline_missing_environment_denied if {
	inp := json.remove(pipeline, ["token/environment"])
	denied(inp, {}, "environment (missing) is not prod")
}

test_pipeline_other_workflow_denied if denied(pipeline, {"token": {"job_workflow_ref": "acme/shop/.github/workflows/debug.yml@refs/heads/main"}}, "workflow acme/shop/.github/workflows/debug.yml@refs/heads/main is not the pinned deploy workflow")

test_pipeline_workflow_suffix_denied if denied(pipeline, {"token": {"job_workflow_ref": "acme/shop/.github/workflows/deploy.yml@refs/heads/main-evil"}}, "workflow acme/shop/.github/workflows/deploy.yml@refs/heads/main-evil is not the pinned deploy workflow")

test_pipeline_principal_denied if denied(pipeline, {"request": {"principals": ["deploy", "root"]}}, "principal root is not allowed for this role")

test_pipeline_unknown_role_denied if denied(pipeline, {"request": {"role": "admin"}}, "no pipeline rule for issuer ssh, role admin")

test_pipeline_without_token_denied if {
	inp := object.remove(pipeline, ["token"])
	denied(inp, {}, "ref (missing) is not refs/heads/main")
	denied(inp, {}, "repository (missing) (id (missing)) may not use this role")
}

test_pipeline_role_not_offered_to_pull_requests if denied(pr, {"request": {"issuer": "ssh", "role": "deploy"}}, "no pull_request rule for issuer ssh, role deploy")

test_unknown_kind_denied if denied(pipeline, {"kind": "cron"}, "no cron rule for issuer ssh, role deploy")

# --- pull request -----------------------------------------------------------

test_pr_allowed if allowed(pr, {})

test_pr_grant if {
	jit.grant == {"max_ttl_seconds": 14400} with input as pr
}

test_pr_two_approvals_allowed if allowed(pr, {"approvals": [approval("bob"), approval("carol")]})

test_pr_from_fork_denied if denied(pr, {"pull_request": {"from_fork": true}}, "pull request comes from a fork")

test_pr_draft_denied if denied(pr, {"pull_request": {"draft": true}}, "pull request is a draft")

test_pr_requester_not_in_team_denied if denied(pr, {"requester": {"teams": ["acme/marketing"]}}, `requester is in none of the teams ["acme/dev", "acme/sre"]`)

approvals_reason := "needs 1 current approval(s) from acme/sre, not by the requester"

test_pr_self_approval_denied if denied(pr, {"approvals": [approval("alice")]}, approvals_reason)

test_pr_self_approval_other_case_denied if denied(pr, {"approvals": [approval("Alice")]}, approvals_reason)

test_pr_stale_approval_denied if denied(pr, {"approvals": [object.union(approval("bob"), {"current": false})]}, approvals_reason)

test_pr_changes_requested_denied if denied(pr, {"approvals": [object.union(approval("bob"), {"state": "CHANGES_REQUESTED"})]}, approvals_reason)

test_pr_approval_from_other_team_denied if denied(pr, {"approvals": [object.union(approval("dave"), {"teams": ["acme/dev"]})]}, approvals_reason)

test_pr_no_approvals_denied if denied(pr, {"approvals": []}, approvals_reason)

window_reason := `outside the access window {"days": ["Mon", "Tue", "Wed", "Thu", "Fri"], "end": "18:00", "start": "08:00", "tz": "Europe/Berlin"}`

test_pr_weekend_denied if denied(pr, {"now": "2026-11-28T09:30:00Z"}, window_reason)

test_pr_evening_denied if denied(pr, {"now": "2026-11-24T17:00:00Z"}, window_reason) # 18:00 in Berlin

test_pr_early_morning_berlin_allowed if allowed(pr, {"now": "2026-11-24T07:00:00Z"}) # 08:00 in Berlin
