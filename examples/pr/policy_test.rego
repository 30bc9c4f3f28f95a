package jit_pr_test

import data.jit

# Each case: one change to a known-good request, and the reason it must add.

# A Tuesday, 10:30 in Berlin: alice (acme/dev) asks for the SSH bastion for
# 30 minutes; bob and carol of acme/sre approved the head commit.
request := {
	"version": "jit-policy/v1",
	"kind": "pull_request",
	"now": "2026-11-24T09:30:00Z",
	"request": {
		"issuer": "ssh", "role": "prod-bastion", "ttl_seconds": 1800,
		"principals": ["ubuntu"], "reason": "INC-1234: investigate stuck orders",
	},
	"pull_request": {
		"number": 42, "author": "alice", "author_association": "MEMBER", "base_ref": "main",
		"head_sha": "9b1e7c3", "draft": false, "merged": false, "from_fork": false,
		"labels": ["access-request"], "files": ["requests/alice.yaml"],
	},
	"approvals": [approval("bob"), approval("carol")],
	"requester": {"login": "alice", "teams": ["acme/dev"]},
}

approval(login) := {
	"login": login, "teams": ["acme/sre"], "commit_id": "9b1e7c3", "current": true,
	"state": "APPROVED", "submitted_at": "2026-11-24T09:21:07Z",
}

stale(login) := object.union(approval(login), {"commit_id": "0ld", "current": false})

# A Saturday night incident: dave of acme/oncall labels his request break-glass.
break_glass := object.union(request, {
	"now": "2026-11-28T23:10:00Z",
	"request": {"ttl_seconds": 3600, "reason": "INC-4711: bastion unreachable, orders stuck"},
	"pull_request": {"author": "dave", "labels": ["break-glass"]},
	"approvals": [],
	"requester": {"login": "dave", "teams": ["acme/oncall", "acme/dev"]},
})

allowed(base, patch) if {
	inp := object.union(base, patch)
	jit.allow with input as inp
	count(jit.deny) == 0 with input as inp
}

denied(base, patch, reason) if {
	inp := object.union(base, patch)
	reason in jit.deny with input as inp
	not jit.allow with input as inp
}

# --- allowed ----------------------------------------------------------------------

test_allowed_with_two_current_approvals_from_the_team if allowed(request, {})

test_grant_caps_ttl_and_principals if {
	jit.grant == {"max_ttl_seconds": 3600, "principals": ["ubuntu"]} with input as request
}

test_allowed_without_ttl_or_principals if {
	inp := json.remove(request, ["request/ttl_seconds", "request/principals"])
	allowed(inp, {})
	jit.grant.max_ttl_seconds == 3600 with input as inp
}

test_postgres_needs_one_approval_and_no_office_hours if {
	inp := object.union(request, {
		"now": "2026-11-28T23:10:00Z", # Saturday night
		"request": {"issuer": "postgres", "role": "orders-readonly", "ttl_seconds": 14400, "principals": []},
		"approvals": [approval("bob")],
	})
	allowed(inp, {})
	jit.grant == {"max_ttl_seconds": 14400} with input as inp
}

test_team_names_compare_case_insensitively if allowed(request, {
	"approvals": [object.union(approval("bob"), {"teams": ["Acme/SRE"]}), approval("carol")],
	"requester": {"teams": ["ACME/dev"]},
})

# --- approvals ----------------------------------------------------------------------

test_one_approval_missing if denied(request, {"approvals": [approval("bob")]}, "needs 1 more approval from @acme/sre")

test_no_approvals if denied(request, {"approvals": []}, "needs 2 more approvals from @acme/sre")

test_approval_on_an_older_commit_does_not_count if denied(request, {"approvals": [approval("bob"), stale("carol")]}, "needs 1 more approval from @acme/sre")

test_only_the_authors_approval if denied(request, {"approvals": [approval("alice")]}, "needs 2 more approvals from @acme/sre")

test_authors_approval_in_other_case_does_not_count if denied(request, {"approvals": [approval("bob"), approval("ALICE")]}, "needs 1 more approval from @acme/sre")

test_same_reviewer_twice_counts_once if denied(request, {"approvals": [approval("bob"), approval("Bob")]}, "needs 1 more approval from @acme/sre")

test_approval_from_the_wrong_team if denied(request, {"approvals": [approval("bob"), object.union(approval("carol"), {"teams": ["acme/dev"]})]}, "needs 1 more approval from @acme/sre")

test_later_changes_requested if denied(request, {"approvals": [approval("bob"), object.union(approval("carol"), {"state": "CHANGES_REQUESTED"})]}, "needs 1 more approval from @acme/sre")

test_commented_review_does_not_count if denied(request, {"approvals": [approval("bob"), object.union(approval("carol"), {"state": "COMMENTED"})]}, "needs 1 more approval from @acme/sre")

# --- reason --------------------------------------------------------------------------

test_no_reason if {
	inp := json.remove(request, ["request/reason"])
	denied(inp, {}, "reason must name a ticket like INC-1234")
}

test_empty_reason if denied(request, {"request": {"reason": "  "}}, "reason must name a ticket like INC-1234")

test_reason_without_ticket if denied(request, {"request": {"reason": "need to look at prod"}}, "reason must name a ticket like INC-1234")

test_reason_with_lookalike_ticket if denied(request, {"request": {"reason": "XINC-1234 and inc-99"}}, "reason must name a ticket like INC-1234")

test_change_ticket_is_a_ticket if allowed(request, {"request": {"reason": "rotate host keys (CHG-88)"}})

# --- duration --------------------------------------------------------------------------

test_over_the_maximum_duration if denied(request, {"request": {"ttl_seconds": 7200}}, "2h is over the 1h maximum for role prod-bastion")

test_just_over_the_maximum if denied(request, {"request": {"ttl_seconds": 3601}}, "1h1s is over the 1h maximum for role prod-bastion")

test_the_maximum_itself_allowed if allowed(request, {"request": {"ttl_seconds": 3600}})

test_role_without_maximum_duration if {
	denied(request, {"request": {"role": "prod-db"}}, "role prod-db is not offered for issuer ssh")
	denied(request, {}, "role prod-bastion has no maximum duration in data.yaml") with data.pr.max_duration as {}
}

# --- request and pull request --------------------------------------------------------------

test_role_for_another_issuer if denied(request, {"request": {"issuer": "aws"}}, "role prod-bastion is not offered for issuer aws")

test_principal_not_allowed if denied(request, {"request": {"principals": ["ubuntu", "root"]}}, "principal root is not allowed for role prod-bastion")

test_requester_not_in_a_team if denied(request, {"requester": {"teams": ["acme/marketing"]}}, "@alice is in none of the teams @acme/dev, @acme/sre that may ask for role prod-bastion")

test_fork if denied(request, {"pull_request": {"from_fork": true}}, "the pull request comes from a fork")

test_draft if denied(request, {"pull_request": {"draft": true}}, "the pull request is a draft: mark it ready for review")

test_pipeline_request if {
	inp := object.union(json.remove(request, ["pull_request", "approvals", "requester"]), {"kind": "pipeline", "token": {"sub": "repo:acme/shop:ref:refs/heads/main"}})
	denied(inp, {}, "this policy only grants access requested by pull request")
}

# --- business hours ------------------------------------------------------------------------

office_hours_message := "role prod-bastion is granted Monday to Friday, 09:00 to 18:00 Europe/Berlin; for an incident, label the pull request break-glass"

test_business_hours if {
	allowed(request, {"now": "2026-11-24T08:00:00Z"}) # 09:00 Berlin
	allowed(request, {"now": "2026-11-24T16:59:00Z"}) # 17:59 Berlin
	denied(request, {"now": "2026-11-24T17:00:00Z"}, office_hours_message) # 18:00 Berlin
	denied(request, {"now": "2026-11-24T07:59:00Z"}, office_hours_message) # 08:59 Berlin
	denied(request, {"now": "2026-11-28T10:00:00Z"}, office_hours_message) # Saturday
}

# --- break-glass ---------------------------------------------------------------------------

test_break_glass_allowed_without_approvals_at_night if allowed(break_glass, {})

test_break_glass_grant_is_capped if {
	jit.grant.max_ttl_seconds == 3600 with input as break_glass
}

test_break_glass_label_case if allowed(break_glass, {"pull_request": {"labels": ["Break-Glass"]}})

test_break_glass_only_for_on_call if denied(break_glass, {"requester": {"teams": ["acme/dev"]}}, "break-glass is only for members of @acme/oncall")

test_break_glass_needs_an_incident if {
	denied(break_glass, {"request": {"reason": "CHG-88: rotate host keys"}}, "a break-glass reason must name an incident like INC-1234")
	inp := json.remove(break_glass, ["request/reason"])
	denied(inp, {}, "a break-glass reason must name an incident like INC-1234")
}

test_break_glass_over_its_maximum if denied(break_glass, {"request": {"ttl_seconds": 5400}}, "1h30m is over the 1h break-glass maximum for role prod-bastion")

test_break_glass_cap_is_the_smaller_maximum if {
	# orders-readonly allows 4h, break-glass 1h: the grant is 1h.
	inp := object.union(break_glass, {"request": {"issuer": "postgres", "role": "orders-readonly", "principals": [], "ttl_seconds": 0}})
	allowed(inp, {})
	jit.grant == {"max_ttl_seconds": 3600} with input as inp
	denied(inp, {"request": {"ttl_seconds": 7200}}, "2h is over the 1h break-glass maximum for role orders-readonly")
}

test_break_glass_still_refuses_forks if denied(break_glass, {"pull_request": {"from_fork": true}}, "the pull request comes from a fork")

test_break_glass_with_one_approval_never_counts_the_requester if {
	inp := object.union(break_glass, {"approvals": [approval("dave")]})
	reason := "needs 1 more approval from @acme/sre"
	reason in jit.deny with input as inp with data.pr.break_glass.approvals as 1
	not jit.allow with input as inp with data.pr.break_glass.approvals as 1
	jit.allow with input as object.union(inp, {"approvals": [approval("bob")]}) with data.pr.break_glass.approvals as 1
}
