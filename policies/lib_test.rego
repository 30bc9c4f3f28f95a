package jit.lib_test

import data.jit.lib

# --- kind and forks --------------------------------------------------------

test_kind if {
	lib.is_pipeline with input as {"kind": "pipeline"}
	not lib.is_pull_request with input as {"kind": "pipeline"}
	lib.is_pull_request with input as {"kind": "pull_request"}
	not lib.is_pipeline with input as {}
}

test_from_fork if {
	lib.from_fork with input as {"kind": "pull_request", "pull_request": {"from_fork": true}}
	not lib.from_fork with input as {"kind": "pull_request", "pull_request": {"from_fork": false}}
}

test_from_fork_missing_field_counts_as_fork if {
	lib.from_fork with input as {"kind": "pull_request", "pull_request": {}}
	lib.from_fork with input as {"kind": "pull_request", "pull_request": {"from_fork": "false"}}
}

test_from_fork_never_for_pipelines if {
	not lib.from_fork with input as {"kind": "pipeline"}
}

# --- approvals -------------------------------------------------------------

approval(login, teams) := {"login": login, "teams": teams, "commit_id": "c0ffee", "current": true, "state": "APPROVED"}

approvals := [
	approval("bob", ["org/sre"]),
	approval("Bob", ["org/sre"]), # same reviewer, other case: counts once
	approval("carol", ["org/SRE", "org/dev"]),
	approval("alice", ["org/sre"]), # the requester
	approval("dave", ["org/dev"]), # other team
	object.union(approval("erin", ["org/sre"]), {"current": false}), # stale commit
	object.union(approval("frank", ["org/sre"]), {"state": "CHANGES_REQUESTED"}),
	object.union(approval("grace", ["org/sre"]), {"state": "COMMENTED"}),
	{"login": "heidi", "state": "APPROVED", "current": true}, # no teams
]

test_approvers if {
	lib.approvers(approvals, "org/sre", "alice") == {"bob", "carol"}
	lib.approvals_from_team(approvals, "org/sre", "alice") == 2
	lib.approvals_from_team(approvals, "org/dev", "alice") == 2
	lib.approvals_from_team(approvals, "org/ops", "alice") == 0
}

test_approvers_excludes_requester_case_insensitively if {
	lib.approvers(approvals, "org/sre", "BOB") == {"alice", "carol"}
}

test_approvers_stale_and_changes_requested_not_counted if {
	lib.approvals_from_team([object.union(approval("erin", ["org/sre"]), {"current": false})], "org/sre", "alice") == 0
	lib.approvals_from_team([object.union(approval("frank", ["org/sre"]), {"state": "CHANGES_REQUESTED"})], "org/sre", "alice") == 0
	lib.approvals_from_team([object.union(approval("bob", ["org/sre"]), {"current": "true"})], "org/sre", "alice") == 0
}

test_approvers_undefined_without_requester if {
	not lib.approvers(approvals, "org/sre", null)
	not lib.approvals_from_team(approvals, "org/sre", null)
}

test_approvers_empty_list if {
	lib.approvals_from_team([], "org/sre", "alice") == 0
}

pr_input := {
	"kind": "pull_request",
	"pull_request": {"author": "alice", "from_fork": false},
	"requester": {"login": "alice"},
	"approvals": approvals,
}

test_approved_by_team if {
	lib.approved_by_team("org/sre", 1) with input as pr_input
	lib.approved_by_team("org/sre", 2) with input as pr_input
	not lib.approved_by_team("org/sre", 3) with input as pr_input
	not lib.approved_by_team("org/ops", 1) with input as pr_input
}

test_approved_by_team_self_approval_only if {
	inp := object.union(pr_input, {"approvals": [approval("ALICE", ["org/sre"])]})
	not lib.approved_by_team("org/sre", 1) with input as inp
}

test_approved_by_team_author_excluded_too if {
	inp := object.union(pr_input, {
		"requester": {"login": "mallory"},
		"approvals": [approval("alice", ["org/sre"])],
	})
	not lib.approved_by_team("org/sre", 1) with input as inp
}

test_approved_by_team_without_author_excludes_the_requester if {
	inp := object.remove(pr_input, ["pull_request"])
	lib.approved_by_team("org/sre", 2) with input as inp
	not lib.approved_by_team("org/sre", 3) with input as inp
}

test_approved_by_team_needs_pull_request_and_requester if {
	not lib.approved_by_team("org/sre", 1) with input as object.union(pr_input, {"kind": "pipeline"})
	not lib.approved_by_team("org/sre", 1) with input as object.remove(pr_input, ["requester"])
	not lib.approved_by_team("org/sre", 1) with input as object.remove(pr_input, ["approvals"])
	not lib.approved_by_team("org/sre", "1") with input as pr_input
}

test_approved_by_team_needs_a_positive_count if {
	not lib.approved_by_team("org/sre", 0) with input as pr_input
	not lib.approved_by_team("org/sre", -1) with input as pr_input
	not lib.approved_by_team("org/sre", 0) with input as object.remove(pr_input, ["approvals"])
}

# --- durations -------------------------------------------------------------

test_duration_seconds if {
	lib.duration_seconds("90s") == 90
	lib.duration_seconds("15m") == 900
	lib.duration_seconds("2h") == 7200
	lib.duration_seconds("1h30m") == 5400
	lib.duration_seconds("1.5s") == 2
	lib.duration_seconds("500ms") == 1
	lib.duration_seconds("0") == 0
}

test_duration_seconds_invalid_is_undefined if {
	not lib.duration_seconds("")
	not lib.duration_seconds("15")
	not lib.duration_seconds("-15m")
	not lib.duration_seconds("+15m")
	not lib.duration_seconds("15 m")
	not lib.duration_seconds("1d")
	not lib.duration_seconds("forever")
	not lib.duration_seconds(900)
	not lib.duration_seconds(null)
}

test_capped_ttl if {
	lib.capped_ttl(600, 900) == 600
	lib.capped_ttl(7200, 900) == 900
	lib.capped_ttl(900, 900) == 900
	lib.capped_ttl(0, 900) == 900
	lib.capped_ttl(null, 900) == 900
}

test_capped_ttl_invalid_is_undefined if {
	not lib.capped_ttl(-1, 900)
	not lib.capped_ttl("600", 900)
	not lib.capped_ttl(600, 0)
	not lib.capped_ttl(600, -900)
	not lib.capped_ttl(600, null)
}

test_granted_ttl if {
	lib.granted_ttl(900) == 600 with input as {"request": {"ttl_seconds": 600}}
	lib.granted_ttl(900) == 900 with input as {"request": {"ttl_seconds": 86400}}
	lib.granted_ttl(900) == 900 with input as {"request": {}}
	lib.granted_ttl(900) == 900 with input as {}
	not lib.granted_ttl(900) with input as {"request": {"ttl_seconds": "1h"}}
}

# --- claims ----------------------------------------------------------------

token := {"token": {
	"repository": "org/app",
	"repository_id": "681726152",
	"repository_owner_id": "159127455",
	"job_workflow_ref": "org/app/.github/workflows/deploy.yml@refs/heads/main",
}}

test_repository_and_owner_ids if {
	lib.repository_is("681726152") with input as token
	lib.repository_is(681726152) with input as token
	not lib.repository_is("68172615") with input as token
	not lib.repository_is("org/app") with input as token
	lib.owner_is("159127455") with input as token
	lib.owner_is(159127455) with input as token
	not lib.owner_is("681726152") with input as token
}

test_ids_missing_or_odd_are_undefined if {
	not lib.repository_is("") with input as {"token": {"repository_id": ""}}
	not lib.repository_is("1") with input as {}
	not lib.repository_is(null) with input as {"token": {"repository_id": null}}
	not lib.repository_is(1.5) with input as {"token": {"repository_id": "1.5"}}
}

test_ids_as_numbers if {
	num := {"token": {"repository_id": 681726152, "repository_owner_id": 159127455}}
	lib.repository_is("681726152") with input as num
	lib.repository_is(681726152) with input as num
	not lib.repository_is("68172615") with input as num
	lib.owner_is("159127455") with input as num
	not lib.repository_is(1.5) with input as {"token": {"repository_id": 1.5}}
	not lib.repository_is("1.5") with input as {"token": {"repository_id": 1.5}}
	not lib.repository_is("1") with input as {"token": {"repository_id": 1.5}}
}

test_matches_is_anchored if {
	lib.matches("org/app", "org/app")
	not lib.matches("org/app", "org/app-evil")
	not lib.matches("org/app", "evil-org/app")
	not lib.matches("org/app", "x/org/app/y")
	lib.matches("org/(app|api)", "org/api")
	not lib.matches("org/app|org/api", "org/api-evil")
	not lib.matches("org/app", null)
	not lib.matches(1, "1")
}

test_workflow_is if {
	lib.workflow_is(`org/app/\.github/workflows/deploy\.yml@refs/heads/main`) with input as token
	lib.workflow_is(`org/app/\.github/workflows/[a-z]+\.yml@refs/heads/main`) with input as token
	not lib.workflow_is(`org/app/\.github/workflows/deploy\.yml`) with input as token
	not lib.workflow_is(`org/app/\.github/workflows/deploy\.yml@refs/heads/main`) with input as {"token": {"job_workflow_ref": "org/app/.github/workflows/deploy.yml@refs/heads/main-evil"}}
	not lib.workflow_is(`org/app/\.github/workflows/deploy\.yml@refs/heads/main`) with input as {}
}

# --- windows ---------------------------------------------------------------

office := {"days": ["Mon", "Tue", "Wed", "Thu", "Fri"], "start": "09:00", "end": "17:00", "tz": "Europe/Berlin"}

test_window_office_hours if {
	# 2026-11-24 is a Tuesday; Berlin is UTC+1 in November.
	lib.within_window("2026-11-24T08:00:00Z", office) # 09:00, start inclusive
	lib.within_window("2026-11-24T15:59:59Z", office) # 16:59
	not lib.within_window("2026-11-24T16:00:00Z", office) # 17:00, end exclusive
	not lib.within_window("2026-11-24T07:59:00Z", office) # 08:59
}

test_window_timezone_offsets if {
	lib.within_window("2026-11-24T10:00:00+02:00", office) # 09:00 Berlin
	not lib.within_window("2026-11-24T09:00:00+02:00", office) # 08:00 Berlin
	lib.within_window("2026-07-14T07:30:00Z", office) # 09:30 Berlin summer time
}

test_window_local_zone_refused if {
	every_hour := {"start": "00:00", "end": "24:00"}
	lib.within_window("2026-11-24T10:00:00Z", object.union(every_hour, {"tz": "UTC"}))
	not lib.within_window("2026-11-24T10:00:00Z", object.union(every_hour, {"tz": "Local"}))
}

test_window_weekday_outside if {
	not lib.within_window("2026-11-28T10:00:00Z", office) # Saturday
	not lib.within_window("2026-11-29T10:00:00Z", office) # Sunday
}

test_window_weekday_in_zone if {
	# Friday 23:30 UTC is Saturday 00:30 in Berlin.
	lib.within_window("2026-11-27T23:30:00Z", {"days": ["Fri"], "start": "00:00", "end": "24:00"})
	not lib.within_window("2026-11-27T23:30:00Z", {"days": ["Fri"], "start": "00:00", "end": "24:00", "tz": "Europe/Berlin"})
	lib.within_window("2026-11-27T23:30:00Z", {"days": ["saturday"], "start": "00:00", "end": "24:00", "tz": "Europe/Berlin"})
}

test_window_missing_tz_is_utc_and_missing_days_every_day if {
	lib.within_window("2026-11-29T09:00:00Z", {"start": "09:00", "end": "17:00"})
	not lib.within_window("2026-11-29T08:59:59Z", {"start": "09:00", "end": "17:00"})
}

night := {"days": ["Fri"], "start": "22:00", "end": "06:00"}

test_window_crossing_midnight if {
	lib.within_window("2026-11-27T22:00:00Z", night) # Fri 22:00
	lib.within_window("2026-11-27T23:59:00Z", night) # Fri 23:59
	lib.within_window("2026-11-28T00:00:00Z", night) # Sat 00:00 belongs to Friday's window
	lib.within_window("2026-11-28T05:59:00Z", night) # Sat 05:59
	not lib.within_window("2026-11-28T06:00:00Z", night) # end exclusive
	not lib.within_window("2026-11-27T21:59:00Z", night) # before start
	not lib.within_window("2026-11-27T03:00:00Z", night) # Fri 03:00 belongs to Thursday's window
	not lib.within_window("2026-11-28T22:30:00Z", night) # Sat night: not in days
}

test_window_crossing_midnight_week_wraps if {
	# Sunday 01:00 belongs to Saturday's window.
	lib.within_window("2026-11-29T01:00:00Z", {"days": ["Sat"], "start": "23:00", "end": "02:00"})

	# Monday 01:00 belongs to Sunday's window.
	lib.within_window("2026-11-30T01:00:00Z", {"days": ["Sun"], "start": "23:00", "end": "02:00"})
	not lib.within_window("2026-11-30T01:00:00Z", {"days": ["Mon"], "start": "23:00", "end": "02:00"})
}

test_window_day_spellings if {
	# 2026-11-24 is a Tuesday.
	lib.within_window("2026-11-24T10:00:00Z", {"days": ["Tuesday"], "start": "09:00", "end": "17:00"})
	lib.within_window("2026-11-24T10:00:00Z", {"days": ["TUE"], "start": "09:00", "end": "17:00"})
	lib.within_window("2026-11-24T10:00:00Z", {"days": [1, "tuesday"], "start": "09:00", "end": "17:00"})
	not lib.within_window("2026-11-24T10:00:00Z", {"days": ["Tu", "Tues", 2, null], "start": "09:00", "end": "17:00"})
	not lib.within_window("2026-11-24T10:00:00Z", {"days": null, "start": "09:00", "end": "17:00"})
}

test_window_empty_and_invalid if {
	not lib.within_window("2026-11-24T09:00:00Z", {"start": "09:00", "end": "09:00"})
	not lib.within_window("2026-11-24T09:00:00Z", {"days": [], "start": "00:00", "end": "24:00"})
	not lib.within_window("2026-11-24T10:00:00Z", {"start": "9:00", "end": "17:00"})
	not lib.within_window("2026-11-24T10:00:00Z", {"start": "09:00", "end": "25:00"})
	not lib.within_window("2026-11-24T10:00:00Z", {"start": "09:00"})
	not lib.within_window("2026-11-24 10:00", office)
	not lib.within_window(null, office)
	not lib.within_window("2026-11-24T10:00:00Z", "office")
}

test_in_window_reads_input_now if {
	lib.in_window(office) with input as {"now": "2026-11-24T10:00:00Z"}
	not lib.in_window(office) with input as {"now": "2026-11-28T10:00:00Z"}
	not lib.in_window(office) with input as {}
}

# --- team approvers and missing approvals -----------------------------------

# pr_with(approvals): a pull request by alice with these reviews.
pr_with(reviews) := object.union(pr_input, {"approvals": reviews})

stale(login, teams) := object.union(approval(login, teams), {"current": false, "commit_id": "0ld"})

with_state(login, teams, state) := object.union(approval(login, teams), {"state": state})

# Each case: reviews, and how many count for org/sre (n = 2 needed).
approval_cases := {
	"two current approvals": {"reviews": [approval("bob", ["org/sre"]), approval("carol", ["org/sre"])], "count": 2},
	"same reviewer twice": {"reviews": [approval("bob", ["org/sre"]), approval("BOB", ["org/sre"])], "count": 1},
	"approval on an older commit": {"reviews": [stale("bob", ["org/sre"]), approval("carol", ["org/sre"])], "count": 1},
	"only the author's approval": {"reviews": [approval("alice", ["org/sre"])], "count": 0},
	"wrong team": {"reviews": [approval("bob", ["org/dev"]), approval("carol", ["org/sre-evil"])], "count": 0},
	"later changes requested": {"reviews": [with_state("bob", ["org/sre"], "CHANGES_REQUESTED"), approval("carol", ["org/sre"])], "count": 1},
	"commented or dismissed": {"reviews": [with_state("bob", ["org/sre"], "COMMENTED"), with_state("carol", ["org/sre"], "DISMISSED")], "count": 0},
	"lower-case state": {"reviews": [with_state("bob", ["org/sre"], "approved")], "count": 0},
	"team case differs": {"reviews": [approval("bob", ["ORG/SRE"])], "count": 1},
	"no reviews": {"reviews": [], "count": 0},
}

test_team_approvers_table if {
	every c in approval_cases {
		count(lib.team_approvers("org/sre")) == c.count with input as pr_with(c.reviews)
		lib.missing_approvals("org/sre", 2) == 2 - c.count with input as pr_with(c.reviews)
		approved_by_exactly(c)
		not lib.approved_by_team("org/sre", c.count + 1) with input as pr_with(c.reviews)
	}
}

# approved_by_exactly(c): approved_by_team holds for c.count approvals, or,
# when c.count is 0, does not hold at all (a count under 1 never passes).
approved_by_exactly(c) if {
	c.count > 0
	lib.approved_by_team("org/sre", c.count) with input as pr_with(c.reviews)
}

approved_by_exactly(c) if {
	c.count == 0
	not lib.approved_by_team("org/sre", 0) with input as pr_with(c.reviews)
}

test_missing_approvals if {
	lib.missing_approvals("org/sre", 1) == 0 with input as pr_input
	lib.missing_approvals("org/sre", 3) == 1 with input as pr_input
	lib.missing_approvals("org/ops", 2) == 2 with input as pr_input
	lib.missing_approvals("org/sre", 0) == 0 with input as pr_with([])
	lib.team_approvers("org/sre") == {"bob", "carol"} with input as pr_input
}

test_missing_approvals_excludes_author_when_requester_differs if {
	inp := object.union(pr_with([approval("alice", ["org/sre"])]), {"requester": {"login": "mallory"}})
	lib.missing_approvals("org/sre", 1) == 1 with input as inp
}

test_missing_approvals_undefined if {
	not lib.missing_approvals("org/sre", 1) with input as object.union(pr_input, {"kind": "pipeline"})
	not lib.missing_approvals("org/sre", 1) with input as object.remove(pr_input, ["requester"])
	not lib.missing_approvals("org/sre", "1") with input as pr_input
	not lib.missing_approvals("org/sre", -1) with input as pr_input
	not lib.missing_approvals(null, 1) with input as pr_input
}

# --- reasons -----------------------------------------------------------------

reason(r) := {"kind": "pull_request", "request": {"reason": r}}

test_reason_matches_is_anchored if {
	lib.reason_matches(`(INC|CHG)-[0-9]+: .+`) with input as reason("INC-1234: stuck orders")
	lib.reason_matches(`(INC|CHG)-[0-9]+: .+`) with input as reason("CHG-7: rotate keys")
	not lib.reason_matches(`(INC|CHG)-[0-9]+: .+`) with input as reason("see INC-1234: stuck orders")
	not lib.reason_matches(`INC-[0-9]+`) with input as reason("INC-1234: stuck orders")
	lib.reason_matches(`INC-[0-9]+`) with input as reason("INC-1234")
	not lib.reason_matches(`INC-[0-9]+|x`) with input as reason("INC-1234 x")
}

test_reason_never_matches_without_a_reason if {
	every r in [reason(""), reason("   "), reason("\n"), reason(null), reason(1234), {"request": {}}, {}] {
		not lib.reason_matches(`.*`) with input as r
		not lib.reason_mentions(`.*`) with input as r
	}
	not lib.reason_matches(null) with input as reason("INC-1")
}

test_reason_mentions_whole_words if {
	every r in ["INC-1234: stuck orders", "stuck orders (INC-1234)", "see INC-1234", "INC-1234", "multi\nline INC-1234\n"] {
		lib.reason_mentions(`INC-[0-9]+`) with input as reason(r)
	}
	every r in ["XINC-1234", "INC-", "inc-1234", "INC-12a", "INC_1234", "no ticket", "INC-1234é"] {
		not lib.reason_mentions(`INC-[0-9]+`) with input as reason(r)
	}
	not lib.reason_mentions(`INC-[0-9]{4}`) with input as reason("INC-12345")
	lib.reason_mentions(`INC-[0-9]{4}`) with input as reason("INC-1234, INC-12345")
}

# --- labels and break-glass ----------------------------------------------------

labels(ls) := {"kind": "pull_request", "pull_request": {"labels": ls}}

test_break_glass if {
	lib.break_glass with input as labels(["access-request", "break-glass"])
	lib.break_glass with input as labels(["Break-Glass"])
	not lib.break_glass with input as labels(["access-request"])
	not lib.break_glass with input as labels(["break-glass-later", "breakglass", null])
	not lib.break_glass with input as labels([])
	not lib.break_glass with input as {"kind": "pull_request", "pull_request": {}}
	not lib.break_glass with input as object.union(labels(["break-glass"]), {"kind": "pipeline"})
}

test_has_label if {
	lib.has_label("Access-Request") with input as labels(["access-request"])
	not lib.has_label("access") with input as labels(["access-request"])
	not lib.has_label(null) with input as labels([null])
}

# --- durations per role --------------------------------------------------------

limits := {"prod-bastion": "1h", "orders-readonly": "4h", "broken": "forever", "zero": "0"}

role_ttl(role, ttl) := {"request": {"role": role, "ttl_seconds": ttl}}

test_max_duration_for_role if {
	lib.max_duration_for_role(limits) == 3600 with input as role_ttl("prod-bastion", 900)
	lib.max_duration_for_role(limits) == 14400 with input as role_ttl("orders-readonly", 900)
	not lib.max_duration_for_role(limits) with input as role_ttl("admin", 900)
	not lib.max_duration_for_role(limits) with input as role_ttl("broken", 900)
	not lib.max_duration_for_role(limits) with input as role_ttl("zero", 900)
	not lib.max_duration_for_role(limits) with input as {"request": {}}
	not lib.max_duration_for_role(["1h"]) with input as role_ttl("prod-bastion", 900)
}

# Each case: role, requested ttl, within the role's maximum?
duration_cases := [
	["prod-bastion", 900, true],
	["prod-bastion", 3600, true], # the maximum itself
	["prod-bastion", 3601, false],
	["prod-bastion", 7200, false], # over the maximum
	["prod-bastion", 0, true], # 0 = "the maximum": the grant caps it
	["prod-bastion", null, true],
	["prod-bastion", -1, false],
	["prod-bastion", "1h", false],
	["orders-readonly", 7200, true],
	["admin", 60, false], # no limit: fails closed
	["broken", 60, false],
]

test_within_role_duration_table if {
	every c in duration_cases {
		[role, ttl, want] := c
		want == _within(role, ttl)
	}
}

_within(role, ttl) if {
	lib.within_role_duration(limits) with input as role_ttl(role, ttl)
} else := false

test_within_role_duration_without_ttl if {
	lib.within_role_duration(limits) with input as {"request": {"role": "prod-bastion"}}
}

test_duration_string if {
	lib.duration_string(7200) == "2h"
	lib.duration_string(3600) == "1h"
	lib.duration_string(5400) == "1h30m"
	lib.duration_string(900) == "15m"
	lib.duration_string(90) == "1m30s"
	lib.duration_string(3661) == "1h1m1s"
	lib.duration_string(1) == "1s"
	lib.duration_string(0) == "0s"
	lib.duration_string(lib.duration_seconds("36h")) == "36h"
	not lib.duration_string(-1)
	not lib.duration_string(1.5)
	not lib.duration_string("2h")
}

# --- business hours --------------------------------------------------------------

test_business_hours if {
	# 2026-11-24 is a Tuesday; Berlin is UTC+1 and New York UTC-5 in November.
	every now in ["2026-11-24T08:00:00Z", "2026-11-24T16:59:59Z", "2026-11-27T12:00:00Z"] {
		lib.business_hours("Europe/Berlin") with input as {"now": now}
	}
	every now in [
		"2026-11-24T07:59:59Z", # 08:59
		"2026-11-24T17:00:00Z", # 18:00, end exclusive
		"2026-11-28T10:00:00Z", # Saturday
		"2026-11-29T10:00:00Z", # Sunday
		"2026-11-23T07:30:00Z", # Monday 08:30
	] {
		not lib.business_hours("Europe/Berlin") with input as {"now": now}
	}
	lib.business_hours("America/New_York") with input as {"now": "2026-11-24T14:00:00Z"} # 09:00
	not lib.business_hours("America/New_York") with input as {"now": "2026-11-24T13:59:00Z"}
	lib.business_hours("UTC") with input as {"now": "2026-11-24T17:59:00Z"}
	not lib.business_hours("UTC") with input as {"now": "2026-11-24T18:00:00Z"}
}

test_business_hours_invalid if {
	not lib.business_hours(null) with input as {"now": "2026-11-24T10:00:00Z"}
	not lib.business_hours("Europe/Berlin") with input as {}
}
