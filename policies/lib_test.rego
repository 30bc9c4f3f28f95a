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
