# METADATA
# title: acme access requests by pull request
# description: |
#   A person asks for access with a request file in a pull request; people of
#   the approver team approve the pull request's head commit. data.yaml says
#   which roles, teams, limits and tickets. jit-policy.yaml says how roles
#   reach the backends. Pipeline requests are not handled here: see
#   examples/policies for a policy with both flows.
package jit

import data.jit.lib

# Every requirement is written positively and denied with `not`, so a missing
# or malformed input field adds a reason instead of silently passing. Deny
# messages are sentences the requester reads in the pull request comment.
default allow := false

allow if {
	input.kind == "pull_request"
	role
	count(deny) == 0
}

# role: the data entry for the requested role, if offered for this issuer.
role := r if {
	input.kind == "pull_request"
	r := data.pr.roles[input.request.role]
	r.issuer == input.request.issuer
}

# break_glass: an emergency request (the pull request has the label).
break_glass if {
	input.kind == "pull_request"
	lib.break_glass
}

# Approvals needed: the role's, or break-glass's (fewer) for an emergency.
approvals_needed := data.pr.break_glass.approvals if break_glass

approvals_needed := role.approvals if not break_glass

# max_seconds: the longest lease. The role's maximum, and for break-glass no
# more than break-glass's maximum.
max_seconds := s if {
	not break_glass
	s := lib.max_duration_for_role(data.pr.max_duration)
}

max_seconds := min([lib.max_duration_for_role(data.pr.max_duration), lib.duration_seconds(data.pr.break_glass.max_duration)]) if break_glass

# grant: what is issued is capped at max_seconds, and for roles with
# principals only those.
grant := object.union({"max_ttl_seconds": max_seconds}, object.filter(role, ["principals"]))

at(team) := concat("", ["@", team])

teams(ts) := concat(", ", [at(t) | some t in ts])

# --- what is asked for ------------------------------------------------------

deny contains "this policy only grants access requested by pull request" if {
	not input.kind == "pull_request"
}

deny contains msg if {
	input.kind == "pull_request"
	not role
	msg := sprintf("role %v is not offered for issuer %v", [
		object.get(input, ["request", "role"], "(missing)"),
		object.get(input, ["request", "issuer"], "(missing)"),
	])
}

deny contains msg if {
	input.kind == "pull_request"
	some p in input.request.principals
	not p in object.get(role, "principals", [])
	msg := sprintf("principal %v is not allowed for role %v", [p, input.request.role])
}

# --- the pull request --------------------------------------------------------

deny contains "the pull request comes from a fork" if {
	input.kind == "pull_request"
	lib.from_fork
}

deny contains "the pull request is a draft: mark it ready for review" if {
	input.kind == "pull_request"
	not input.pull_request.draft == false
}

deny contains msg if {
	input.kind == "pull_request"
	role
	not requester_in(role.requester_teams)
	msg := sprintf("@%v is in none of the teams %v that may ask for role %v", [
		object.get(input, ["requester", "login"], "(unknown)"),
		teams(role.requester_teams),
		input.request.role,
	])
}

# requester_in(ts): one of the requester's teams is in ts (case-insensitive).
requester_in(ts) if {
	wanted := {lower(t) | some t in ts}
	some t in input.requester.teams
	lower(t) in wanted
}

# --- approvals ---------------------------------------------------------------
# Only current approvals count: given on the head commit, by a member of the
# approver team, not by the requester or the author (lib.missing_approvals).

deny contains msg if {
	input.kind == "pull_request"
	role
	n := lib.missing_approvals(role.approver_team, approvals_needed)
	n > 0
	msg := sprintf("needs %d more %s from %s", [n, plural(n, "approval", "approvals"), at(role.approver_team)])
}

# Fail closed when the approval count cannot be computed (no requester login,
# a malformed approvals number in data.yaml).
deny contains msg if {
	input.kind == "pull_request"
	role
	not lib.missing_approvals(role.approver_team, approvals_needed)
	msg := sprintf("cannot count the approvals from %s", [at(role.approver_team)])
}

plural(1, one, _) := one

plural(n, _, many) := many if n != 1

# --- reason --------------------------------------------------------------------

deny contains msg if {
	input.kind == "pull_request"
	not break_glass
	not lib.reason_mentions(data.pr.ticket)
	msg := sprintf("reason must name a ticket like %v", [data.pr.ticket_example])
}

# --- duration ------------------------------------------------------------------

deny contains msg if {
	input.kind == "pull_request"
	role
	not lib.max_duration_for_role(data.pr.max_duration)
	msg := sprintf("role %v has no maximum duration in data.yaml", [input.request.role])
}

deny contains msg if {
	input.kind == "pull_request"
	not break_glass
	max_s := lib.max_duration_for_role(data.pr.max_duration)
	not lib.within_role_duration(data.pr.max_duration)
	msg := duration_message(max_s, "")
}

duration_message(max_s, kind) := sprintf("%v is over the %v %vmaximum for role %v", [
	requested, lib.duration_string(max_s), kind, input.request.role,
]) if {
	requested := lib.duration_string(input.request.ttl_seconds)
} else := sprintf("ttl_seconds %v is not a whole number of seconds up to the %v %vmaximum for role %v", [
	object.get(input, ["request", "ttl_seconds"], "(missing)"),
	lib.duration_string(max_s), kind, input.request.role,
])

# --- business hours --------------------------------------------------------------

deny contains msg if {
	input.kind == "pull_request"
	role.business_hours == true
	not break_glass
	not lib.business_hours(data.pr.tz)
	msg := sprintf("role %v is granted Monday to Friday, 09:00 to 18:00 %v; for an incident, label the pull request break-glass", [input.request.role, data.pr.tz])
}

# --- break-glass -------------------------------------------------------------------
# Fewer approvals and any time of day, in exchange for: an on-call requester,
# an incident in the reason and a short lease. The review is after the fact:
# branch protection requires the approver team's review to merge the pull
# request, and closing it unmerged revokes the lease (README.md).

deny contains msg if {
	break_glass
	not requester_in(data.pr.break_glass.requester_teams)
	msg := sprintf("break-glass is only for members of %v", [teams(data.pr.break_glass.requester_teams)])
}

deny contains msg if {
	break_glass
	not lib.reason_mentions(data.pr.break_glass.incident)
	msg := sprintf("a break-glass reason must name an incident like %v", [data.pr.break_glass.incident_example])
}

deny contains msg if {
	break_glass
	max_s := max_seconds
	ttl := input.request.ttl_seconds
	not ttl in {null, 0}
	not ttl_within(ttl, max_s)
	msg := duration_message(max_s, "break-glass ")
}

ttl_within(ttl, max_s) if {
	is_number(ttl)
	ttl > 0
	ttl <= max_s
}
