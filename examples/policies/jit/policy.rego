# METADATA
# title: acme just-in-time access
# description: |
#   Who may get which credential; data.yaml says for which repositories, teams
#   and limits. jit-policy.yaml says how roles reach the backends.
package jit

import data.jit.lib

# Every check is written positively and denied with `not`, so a missing or
# malformed input field adds a reason instead of silently passing.
default allow := false

allow if {
	rule
	count(deny) == 0
}

# rule: the data entry for this kind of request, issuer and role. Messages
# read it through field(), so a field missing from data still yields a reason.
rule := data.access.pipeline[input.request.issuer][input.request.role] if input.kind == "pipeline"

rule := data.access.pull_request[input.request.issuer][input.request.role] if input.kind == "pull_request"

field(name) := object.get(rule, name, "(unset)")

# grant: the role's caps, as data.yaml lists them under `grant`.
grant := rule.grant

# Each deny rule starts with its cheapest condition, and a rule for one kind
# with `input.kind == ...`: OPA's rule index skips it for the other kind.
# Messages are built only for the rules that match.

deny contains msg if {
	not rule
	msg := sprintf("no %v rule for issuer %v, role %v", [
		object.get(input, "kind", "?"),
		object.get(input, ["request", "issuer"], "?"),
		object.get(input, ["request", "role"], "?"),
	])
}

deny contains msg if {
	some p in input.request.principals
	not p in rule.grant.principals
	msg := sprintf("principal %v is not allowed for this role", [p])
}

# --- pipeline: a CI job with a verified OIDC token ---------------------------

claim(name) := object.get(input, ["token", name], "(missing)")

deny contains msg if {
	input.kind == "pipeline"
	rule
	not repository_allowed
	msg := sprintf("repository %v (id %v) may not use this role", [claim("repository"), claim("repository_id")])
}

repository_allowed if {
	some id in rule.repository_ids
	lib.repository_is(id)
}

deny contains msg if {
	input.kind == "pipeline"
	not input.token.ref == rule.ref
	msg := sprintf("ref %v is not %v", [claim("ref"), field("ref")])
}

deny contains msg if {
	input.kind == "pipeline"
	not input.token.environment == rule.environment
	msg := sprintf("environment %v is not %v", [claim("environment"), field("environment")])
}

deny contains msg if {
	input.kind == "pipeline"
	rule
	not lib.workflow_is(rule.workflow)
	msg := sprintf("workflow %v is not the pinned deploy workflow", [claim("job_workflow_ref")])
}

# --- pull request: a request file, approved by a second person --------------

deny contains "pull request comes from a fork" if {
	input.kind == "pull_request"
	lib.from_fork
}

deny contains "pull request is a draft" if {
	input.kind == "pull_request"
	not input.pull_request.draft == false
}

deny contains msg if {
	input.kind == "pull_request"
	not requester_in_team
	msg := sprintf("requester is in none of the teams %v", [field("requester_teams")])
}

# requester_in_team: one of the requester's teams is one of the rule's,
# compared case-insensitively; the same spelling is checked first, without
# lower-casing every team.
requester_in_team if {
	some t in input.requester.teams
	t in rule.requester_teams
}

requester_in_team if {
	teams := {lower(r) | some r in rule.requester_teams}
	some t in input.requester.teams
	lower(t) in teams
}

deny contains msg if {
	input.kind == "pull_request"
	not lib.approved_by_team(rule.approver_team, rule.approvals)
	msg := sprintf("needs %v current approval(s) from %v, not by the requester", [field("approvals"), field("approver_team")])
}

deny contains msg if {
	input.kind == "pull_request"
	rule.window
	not lib.in_window(rule.window)
	msg := sprintf("outside the access window %v", [rule.window])
}
