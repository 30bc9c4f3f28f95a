# METADATA
# title: jit-policy library
# description: |
#   Small helpers for jit-policy decisions. Import with `import data.jit.lib`.
#   Every helper is undefined (never true) on missing or malformed arguments, so
#   deny rules written as `not lib.helper(...)` fail closed.
package jit.lib

# --- request kind ----------------------------------------------------------
# In a rule that only applies to one kind, prefer `input.kind == "pipeline"`
# as its first expression to these helpers: OPA's rule index then skips the
# rule for the other kind without evaluating it.

# is_pipeline: the request comes from a CI job with a verified OIDC token.
is_pipeline if input.kind == "pipeline"

# is_pull_request: the request is a request file in a pull request.
is_pull_request if input.kind == "pull_request"

# from_fork: a pull request whose head is in a fork. Fails closed: a pull
# request without an explicit `from_fork: false` counts as from a fork.
from_fork if {
	input.kind == "pull_request"
	not input.pull_request.from_fork == false
}

# --- approvals -------------------------------------------------------------

# approvers(approvals, team, requester) is the set of lower-cased logins with a
# current ("current": true, "state": "APPROVED") review whose "teams" contain
# team (compared case-insensitively), excluding requester. A login listed twice
# is one approver. Undefined unless team and requester are strings.
approvers(approvals, team, requester) := {login |
	some a in approvals
	a.current == true
	a.state == "APPROVED"
	is_string(a.login)
	login := lower(a.login)
	login != r
	some x in a.teams
	is_string(x)
	lower(x) == t
} if {
	is_string(team)
	is_string(requester)
	t := lower(team)
	r := lower(requester)
}

# approvals_from_team(approvals, team, requester) is the number of approvers.
approvals_from_team(approvals, team, requester) := count(approvers(approvals, team, requester))

# requester_logins: the lower-cased logins whose approval never counts for this
# request: the requester and the pull request's author.
requester_logins contains lower(input.requester.login) if is_string(input.requester.login)

requester_logins contains lower(input.pull_request.author) if is_string(input.pull_request.author)

# approved_by_team(team, n): the pull request has at least n current approvals
# from members of team, none of them the requester or the author. n must be
# at least 1: a count that arithmetic took to 0 or below never passes, so a
# rule can not silently come to need no approval. The set is approvers' (same
# filter), inlined: this runs for every pull request, and a call costs more
# than the filter.
approved_by_team(team, n) if {
	input.kind == "pull_request"
	is_number(n)
	n >= 1
	is_string(team)
	is_string(input.requester.login)
	t := lower(team)
	excluded := requester_logins
	count({login |
		some a in input.approvals
		a.current == true
		a.state == "APPROVED"
		is_string(a.login)
		login := lower(a.login)
		not login in excluded
		some x in a.teams
		is_string(x)
		lower(x) == t
	}) >= n
}

# --- durations and ttl -----------------------------------------------------

# duration_seconds(d): a Go-style duration ("90s", "15m", "2h", "1h30m") in
# whole seconds, rounded up (so a positive duration never becomes 0). Signs and
# anything but a plain duration are undefined, never an error.
duration_seconds(d) := ceil(time.parse_duration_ns(d) / 1000000000) if {
	is_string(d)
	regex.match(`^(0|([0-9]{1,9}(\.[0-9]{1,9})?(ns|us|µs|μs|ms|s|m|h))+)$`, d)
}

# capped_ttl(requested_seconds, max_seconds): min(requested, max); a request
# without a ttl (null or 0) gets max. Undefined for a negative or non-numeric
# ttl and for a max that is not a positive number.
capped_ttl(requested_seconds, max_seconds) := min([requested_seconds, max_seconds]) if {
	_positive(max_seconds)
	_positive(requested_seconds)
}

capped_ttl(requested_seconds, max_seconds) := max_seconds if {
	_positive(max_seconds)
	requested_seconds in {null, 0}
}

_positive(x) if {
	is_number(x)
	x > 0
}

# granted_ttl(max_seconds): capped_ttl of input.request.ttl_seconds.
granted_ttl(max_seconds) := capped_ttl(object.get(input, ["request", "ttl_seconds"], null), max_seconds)

# --- token claims ----------------------------------------------------------
# Match on immutable ids (repository_id, repository_owner_id) and on the
# pinned workflow (job_workflow_ref), not on `repository` / `repository_owner`:
# names change. After a rename or a deleted account, someone else can register
# the old name and their tokens then carry it; ids are never reused, and a fork
# has its own repository_id.

# repository_is(id): the token's repository_id is id (string or integer).
repository_is(id) if {
	input.token.repository_id == id # the usual case: both strings
	is_string(id)
	id != ""
}

repository_is(id) if _same_id(input.token.repository_id, id)

# owner_is(id): the token's repository_owner_id is id (string or integer).
owner_is(id) if {
	input.token.repository_owner_id == id
	is_string(id)
	id != ""
}

owner_is(id) if _same_id(input.token.repository_owner_id, id)

# _same_id(claim, id): claim and id are the same non-empty string or integer,
# in either form ("681726152" and 681726152 are the same id).
_same_id(claim, id) if {
	claim == id
	_id(id)
}

_same_id(claim, id) if {
	is_string(claim)
	claim == _int_string(id)
}

_same_id(claim, id) if {
	is_string(id)
	id == _int_string(claim)
}

_id(x) if {
	is_string(x)
	x != ""
}

_id(x) if _int_string(x)

_int_string(x) := format_int(x, 10) if {
	is_number(x)
	x == floor(x)
}

# matches(pattern, value): value matches the RE2 pattern as a whole
# (^(?:pattern)$): "org/app" never matches "org/app-evil". Escape dots.
matches(pattern, value) if {
	is_string(pattern)
	is_string(value)
	regex.match(concat("", ["^(?:", pattern, ")$"]), value)
}

# workflow_is(pattern): the token's job_workflow_ref matches pattern as a
# whole, e.g. `org/app/\.github/workflows/deploy\.yml@refs/heads/main`.
# matches(pattern, input.token.job_workflow_ref), inlined: one call less.
workflow_is(pattern) if {
	is_string(pattern)
	is_string(input.token.job_workflow_ref)
	regex.match(concat("", ["^(?:", pattern, ")$"]), input.token.job_workflow_ref)
}

# --- time windows ----------------------------------------------------------

# within_window(now, window): the RFC3339 time now falls in window, an object
# {"days": ["Mon", ...], "start": "09:00", "end": "17:00", "tz": "Europe/Berlin"}.
# start inclusive, end exclusive ("24:00" allowed); start > end crosses
# midnight and the part after midnight belongs to the day it started; start ==
# end is empty. days: "Mon" or "Monday", any case; missing = every day.
# tz: an IANA zone; missing = UTC (an unknown zone is an evaluation error,
# which the engine turns into a denial). "Local", the zone of whichever
# machine evaluates, never matches.
within_window(now, window) if {
	is_string(now)
	regex.match(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$`, now)
	is_object(window)
	start := window.start
	end := window.end
	is_string(start)
	is_string(end)
	regex.match(`^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$`, start)
	regex.match(`^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$`, end)
	tz := object.get(window, "tz", "UTC")
	tz != "Local"
	[day, t] := split(time.format([time.parse_rfc3339_ns(now), tz, "Monday 15:04"]), " ")
	_open(t, day, start, end, object.get(window, "days", ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]))
}

# in_window(window): within_window(input.now, window).
in_window(window) if within_window(input.now, window)

# _open(t, day, start, end, days): the local time t ("HH:MM") on day
# ("Monday") is in the window. Times compare as strings: zero-padded "HH:MM"
# sorts in time order, and "24:00" after every clock time.
_open(t, day, start, end, days) if {
	start <= t
	t < end
	_day_in(day, days)
}

_open(t, day, start, end, days) if {
	start > end
	t >= start
	_day_in(day, days)
}

_open(t, day, start, end, days) if {
	start > end
	t < end
	_day_in(_day_before[day], days)
}

_day_before := {
	"Sunday": "Saturday", "Monday": "Sunday", "Tuesday": "Monday", "Wednesday": "Tuesday",
	"Thursday": "Wednesday", "Friday": "Thursday", "Saturday": "Friday",
}

# _day_in(day, days): days lists day as "Mon" or "Monday", in any case. The
# exact spellings first: they need no loop.
_day_in(day, days) if substring(day, 0, 3) in days

_day_in(day, days) if day in days

_day_in(day, days) if {
	names := {lower(day), lower(substring(day, 0, 3))}
	some d in days
	is_string(d)
	lower(d) in names
}

# --- pull requests: approvals, reason, labels ------------------------------

# team_approvers(team): the set of lower-cased logins that approved_by_team
# counts: current "APPROVED" reviews by members of team (case-insensitive),
# minus the requester and the pull request's author. Undefined unless this is
# a pull request with a requester login and team is a string.
team_approvers(team) := {login |
	some a in input.approvals
	a.current == true
	a.state == "APPROVED"
	is_string(a.login)
	login := lower(a.login)
	not login in excluded
	some x in a.teams
	is_string(x)
	lower(x) == t
} if {
	input.kind == "pull_request"
	is_string(team)
	is_string(input.requester.login)
	t := lower(team)
	excluded := requester_logins
}

# missing_approvals(team, n): how many more approvals approved_by_team(team, n)
# needs; 0 when it holds. For messages: "needs 1 more approval from @org/sre".
# Undefined where approved_by_team is, and for a negative n.
missing_approvals(team, n) := max([0, n - count(team_approvers(team))]) if {
	is_number(n)
	n >= 0
}

# reason_matches(pattern): input.request.reason matches the RE2 pattern as a
# whole (^(?:pattern)$), e.g. `(INC|CHG)-[0-9]+: .+`. A missing, empty or
# blank reason never matches, whatever the pattern.
reason_matches(pattern) if {
	is_string(pattern)
	reason := input.request.reason
	is_string(reason)
	trim_space(reason) != ""
	regex.match(concat("", ["^(?:", pattern, ")$"]), reason)
}

# reason_mentions(pattern): the pattern matches a whole word of
# input.request.reason: neither the character before the match nor the one
# after is a letter, digit or "_". `INC-[0-9]+` matches "INC-1234: stuck
# orders" and "see INC-1234", not "XINC-1234". With `INC-[0-9]{4}`,
# "INC-12345" does not match. A missing, empty or blank reason never matches.
reason_mentions(pattern) if {
	is_string(pattern)
	reason := input.request.reason
	is_string(reason)
	trim_space(reason) != ""
	regex.match(concat("", [`(?:^|[^\pL\pN_])(?:`, pattern, `)(?:$|[^\pL\pN_])`]), reason)
}

# has_label(name): the pull request carries the label name (GitHub label
# names are case-insensitive).
has_label(name) if {
	input.kind == "pull_request"
	is_string(name)
	n := lower(name)
	some l in input.pull_request.labels
	is_string(l)
	lower(l) == n
}

# break_glass_label is the label that marks an emergency request.
break_glass_label := "break-glass"

# break_glass: the pull request carries the "break-glass" label. What it
# relaxes and what it demands instead is the policy's choice; see README.md
# ("Break-glass") for the pattern: fewer approvals, a short cap, an incident
# in the reason, and the after-the-fact review enforced at merge.
break_glass if has_label(break_glass_label)

# --- durations per role ----------------------------------------------------

# max_duration_for_role(limits): the longest lease, in seconds, that limits
# (an object role name -> Go duration, e.g. {"prod-bastion": "1h"}) allows
# for input.request.role. Undefined for a role limits does not name and for
# an invalid or zero duration, so a role without a limit fails closed.
max_duration_for_role(limits) := s if {
	is_object(limits)
	role := input.request.role
	is_string(role)
	s := duration_seconds(limits[role])
	s > 0
}

# within_role_duration(limits): the requested ttl is at most
# max_duration_for_role(limits). A request without a ttl (missing, null or
# 0: "the maximum") is within: grant max_ttl_seconds caps what is issued.
within_role_duration(limits) if {
	max_s := max_duration_for_role(limits)
	_ttl_within(object.get(input, ["request", "ttl_seconds"], null), max_s)
}

_ttl_within(ttl, _) if ttl in {null, 0}

_ttl_within(ttl, max_s) if {
	is_number(ttl)
	ttl > 0
	ttl <= max_s
}

# duration_string(seconds): whole seconds as a short duration for messages:
# 7200 -> "2h", 5400 -> "1h30m", 90 -> "1m30s", 0 -> "0s". Undefined for a
# negative or fractional number.
duration_string(s) := "0s" if s == 0

duration_string(s) := concat("", [p |
	some [v, unit] in [[floor(s / 3600), "h"], [floor((s % 3600) / 60), "m"], [s % 60, "s"]]
	v > 0
	p := concat("", [format_int(v, 10), unit])
]) if {
	is_number(s)
	s > 0
	s == floor(s)
}

# --- business hours --------------------------------------------------------

# business_hours_window(tz): Monday to Friday, 09:00 to 18:00 in the IANA
# zone tz, as a within_window window.
business_hours_window(tz) := {"days": ["Mon", "Tue", "Wed", "Thu", "Fri"], "start": "09:00", "end": "18:00", "tz": tz} if is_string(tz)

# business_hours(tz): input.now is Monday to Friday, 09:00 (inclusive) to
# 18:00 (exclusive), in the IANA zone tz. Holidays are not known. An unknown
# zone is an evaluation error, which the engine turns into a denial.
business_hours(tz) if in_window(business_hours_window(tz))
