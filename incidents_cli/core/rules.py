"""The rules no schema can say: cross-file references, ids, time order, phase consistency.

Pure: takes parsed records, returns findings. No file or git access.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from incidents_cli.core.document import dotted, mapping
from incidents_cli.core.findings import Finding
from incidents_cli.core.records import RecordFile
from incidents_cli.core.settings import settings_from_data
from incidents_cli.core.timeutil import format_time
from incidents_cli.core.timeutil import maybe_time as _time

PHASE_TIMES = ("detected_at", "acknowledged_at", "resolved_at", "closed_at")
# Which phase times each phase must have, and which it must not have yet.
PHASE_NEEDS: dict[str, tuple[str, ...]] = {
    "detected": ("detected_at",),
    "acknowledged": ("detected_at", "acknowledged_at"),
    "investigating": ("detected_at", "acknowledged_at"),
    "resolved": ("detected_at", "acknowledged_at", "resolved_at"),
    "postmortem": ("detected_at", "acknowledged_at", "resolved_at"),
    "closed": ("detected_at", "acknowledged_at", "resolved_at", "closed_at"),
}


def _finding(record: RecordFile, where: Sequence[str | int], message: str) -> Finding:
    assert record.doc is not None
    line, column = record.doc.locate(where)
    return Finding(record.rel, line, column, dotted(where), message)


def check_repository(records: Sequence[RecordFile]) -> list[Finding]:
    """Every cross-record problem of a repository's parsed records."""
    by_kind: dict[str, list[RecordFile]] = {}
    for record in records:
        if record.doc is not None:
            by_kind.setdefault(record.kind, []).append(record)
    settings_records = by_kind.get("settings", [])
    settings = settings_from_data(settings_records[0].data if settings_records else None)
    context = _Context(
        components=settings.component_ids if settings_records else None,
        people=set(settings.people) or None,
        runbooks={r.stem for r in by_kind.get("runbook", [])},
        incidents={
            r.data.get("id"): r for r in by_kind.get("incident", []) if isinstance(r.data, dict)
        },
        timezone=settings.timezone,
        rotations={
            str(rotation.get("id"))
            for record in by_kind.get("oncall", [])
            if isinstance(record.data, dict)
            for rotation in record.data.get("rotations") or []
            if isinstance(rotation, dict) and rotation.get("id")
        },
    )
    findings: list[Finding] = []
    for record in settings_records:
        findings.extend(_check_settings(record))
    seen_ids: dict[str, tuple[str, str]] = {}
    for record in by_kind.get("incident", []):
        findings.extend(_check_incident(record, context, seen_ids))
    for record in by_kind.get("postmortem", []):
        findings.extend(_check_postmortem(record, context))
    for record in by_kind.get("runbook", []):
        findings.extend(_check_runbook(record, context))
    for record in by_kind.get("oncall", []):
        findings.extend(_check_oncall(record, context))
    for record in by_kind.get("maintenance", []):
        findings.extend(_check_maintenance(record, context))
    return findings


def _check_maintenance(record: RecordFile, ctx: _Context) -> Iterator[Finding]:
    data = record.data
    if not isinstance(data, dict):
        return
    if isinstance(data.get("id"), str) and data["id"] != record.stem:
        yield _finding(
            record, ["id"], f"id {data['id']!r} does not match the file name {record.stem!r}"
        )
    yield from _unknown_components(record, data, ctx)
    start, end = _time(data.get("start")), _time(data.get("end"))
    if start and end and end <= start:
        yield _finding(record, ["end"], "ends before it starts")
    if isinstance(data.get("recurrence"), str) and start is not None:
        yield from _check_recurrence(record, data, start, ctx.timezone)


def _check_recurrence(
    record: RecordFile, data: dict[str, Any], start: datetime, timezone: str
) -> Iterator[Finding]:
    """A rule that parses and ends, and called-off occurrences that are occurrences."""
    from zoneinfo import ZoneInfoNotFoundError

    from incidents_cli.core.recurrence import RecurrenceError, occurrences, parse_rule

    try:
        starts = set(occurrences(start, parse_rule(data["recurrence"]), timezone))
    except RecurrenceError as exc:
        yield _finding(record, ["recurrence"], str(exc))
        return
    except (ZoneInfoNotFoundError, ValueError):
        return  # an unknown time zone: the settings' finding says so
    for index, value in enumerate(data.get("cancelled_occurrences") or []):
        moment = _time(value)
        if moment is not None and moment not in starts:
            yield _finding(
                record,
                ["cancelled_occurrences", index],
                f"{value} is not the start of an occurrence of this window (it repeats "
                f"from {format_time(start)} at the same time of day in {timezone})",
            )


ON_CALL_OWNER = "on-call"
"""A runbook owned by whoever is on call (the starter runbooks are)."""


class _Context:
    def __init__(
        self,
        components: set[str] | None,
        people: set[str] | None,
        runbooks: set[str],
        incidents: dict[Any, RecordFile],
        timezone: str = "UTC",
        rotations: set[str] | None = None,
    ) -> None:
        self.timezone = timezone
        self.rotations = rotations or set()
        self.components = components
        self.people = people
        self.runbooks = runbooks
        self.incidents = incidents

    def unknown_component(self, value: Any) -> bool:
        return (
            self.components is not None
            and isinstance(value, str)
            and (value not in self.components)
        )

    def unknown_person(self, value: Any) -> bool:
        return self.people is not None and isinstance(value, str) and value not in self.people


def _unknown_person(person: Any) -> str:
    return f"unknown person {person!r}; add them to people in incidents.yaml"


def _unknown_components(
    record: RecordFile, data: dict[str, Any], ctx: _Context
) -> Iterator[Finding]:
    """A finding for each of the record's `components` that the settings do not list."""
    for index, component in enumerate(data.get("components") or []):
        if ctx.unknown_component(component):
            yield _finding(
                record,
                ["components", index],
                f"unknown component {component!r} (known: {_known(ctx.components)})",
            )


def _known(values: set[str] | None) -> str:
    return ", ".join(sorted(values)) if values else "none"


def _check_settings(record: RecordFile) -> Iterator[Finding]:
    data = record.data
    if not isinstance(data, dict):
        return
    zone = data.get("timezone")
    if isinstance(zone, str) and not _valid_zone(zone):
        yield _finding(record, ["timezone"], f"unknown time zone {zone!r} (use an IANA name)")
    for key, field in (("components", "id"), ("people", "handle")):
        seen: set[Any] = set()
        for index, entry in enumerate(data.get(key) or []):
            if isinstance(entry, dict) and field in entry:
                if entry[field] in seen:
                    yield _finding(
                        record, [key, index, field], f"duplicate {field} {entry[field]!r}"
                    )
                seen.add(entry[field])
    alerts = data.get("alerts")
    mapped = alerts.get("components") if isinstance(alerts, dict) else None
    if isinstance(mapped, dict):
        ids = {
            str(e["id"]) for e in data.get("components") or [] if isinstance(e, dict) and "id" in e
        }
        for value, component in mapped.items():
            if component not in ids:
                yield _finding(
                    record,
                    ["alerts", "components", value],
                    f"unknown component {component!r} (known: {_known(ids)})",
                )
    yield from _check_channels(record, data)


def _check_channels(record: RecordFile, data: dict[str, Any]) -> Iterator[Finding]:
    """notify: each channel's name once (it names the channel's state), known components."""
    known = {
        str(c["id"]) for c in data.get("components") or [] if isinstance(c, dict) and "id" in c
    }
    names: set[Any] = set()
    for index, channel in enumerate(data.get("notify") or []):
        if not isinstance(channel, dict):
            continue
        name = channel.get("name")
        if name in names:
            yield _finding(record, ["notify", index, "name"], f"duplicate channel name {name!r}")
        names.add(name)
        for position, component in enumerate(channel.get("components") or []):
            if component not in known:
                yield _finding(
                    record,
                    ["notify", index, "components", position],
                    f"unknown component {component!r} (known: {_known(known)})",
                )


def _check_incident(
    record: RecordFile, ctx: _Context, seen_ids: dict[str, tuple[str, str]]
) -> Iterator[Finding]:
    """``seen_ids``: each incident id so far, in lower case -> (that id, its file)."""
    data = record.data
    if not isinstance(data, dict):
        return
    incident_id = data.get("id")
    if isinstance(incident_id, str):
        if incident_id != record.stem:
            yield _finding(
                record, ["id"], f"id {incident_id!r} does not match the file name {record.stem!r}"
            )
        twin = seen_ids.get(incident_id.casefold())
        if twin is None:
            seen_ids[incident_id.casefold()] = (incident_id, record.rel)
        elif twin[0] == incident_id:
            yield _finding(record, ["id"], f"id {incident_id!r} is also used by {twin[1]}")
        else:  # one file where case is ignored: a clone on macOS or Windows loses one
            yield _finding(
                record,
                ["id"],
                f"id {incident_id!r} differs only in case from {twin[0]!r} ({twin[1]}): they "
                "are one file on macOS and Windows; rename one",
            )
    yield from _unknown_components(record, data, ctx)
    for index, slug in enumerate(data.get("runbooks") or []):
        if isinstance(slug, str) and slug not in ctx.runbooks:
            yield _finding(record, ["runbooks", index], f"no runbook runbooks/{slug}.md")
    roles = mapping(data.get("roles"))
    for role in ("commander", "communications"):
        if ctx.unknown_person(roles.get(role)):
            yield _finding(
                record,
                ["roles", role],
                _unknown_person(roles[role]),
            )
    for index, person in enumerate(roles.get("responders") or []):
        if ctx.unknown_person(person):
            yield _finding(
                record,
                ["roles", "responders", index],
                _unknown_person(person),
            )
    yield from _check_phase(record, data)
    yield from _check_entries(record, data, ctx)
    yield from _check_resolution(record, data)


def _check_phase(record: RecordFile, data: dict[str, Any]) -> Iterator[Finding]:
    phase = data.get("phase")
    if phase not in PHASE_NEEDS:
        return
    needs = PHASE_NEEDS[phase]
    for name in PHASE_TIMES:
        if name in needs and name not in data:
            yield _finding(record, [name], f"missing: an incident in phase {phase!r} has {name}")
        if name not in needs and name in data:
            yield _finding(record, [name], f"set, but the incident is only in phase {phase!r}")
    if phase != "detected" and "severity" not in data:
        yield _finding(record, ["phase"], f"an incident in phase {phase!r} needs a severity")
    if phase in ("resolved", "postmortem", "closed") and "resolution" not in data:
        yield _finding(record, ["phase"], f"an incident in phase {phase!r} needs a resolution")
    previous: tuple[str, datetime] | None = None
    for name in PHASE_TIMES:
        when = _time(data.get(name))
        if when is None:
            continue
        if previous is not None and when < previous[1]:
            yield _finding(record, [name], f"{name} is before {previous[0]}")
        previous = (name, when)


def _check_entries(record: RecordFile, data: dict[str, Any], ctx: _Context) -> Iterator[Finding]:
    detected = _time(data.get("detected_at"))
    refs = {
        entry["ref"]
        for key in ("updates", "timeline")
        for entry in data.get(key) or []
        if isinstance(entry, dict) and isinstance(entry.get("ref"), str)
    }
    for key in ("updates", "timeline"):
        last: datetime | None = None
        seen: set[str] = set()
        for index, entry in enumerate(data.get(key) or []):
            if not isinstance(entry, dict):
                continue
            ref = entry.get("ref")
            if isinstance(ref, str):
                if ref in seen:
                    yield _finding(record, [key, index, "ref"], f"duplicate reference {ref!r}")
                seen.add(ref)
            target = entry.get("refers_to")
            if isinstance(target, str) and target not in refs:
                yield _finding(record, [key, index, "refers_to"], f"no entry {target!r}")
            when = _time(entry.get("at"))
            if when is not None:
                if detected is not None and when < detected:
                    yield _finding(record, [key, index, "at"], "is before detected_at")
                if last is not None and when < last:
                    yield _finding(
                        record, [key, index, "at"], f"out of order: before {key}[{index - 1}]"
                    )
                last = when
            if key == "updates" and isinstance(entry.get("components"), dict):
                for component in entry["components"]:
                    if ctx.unknown_component(component):
                        yield _finding(
                            record,
                            [key, index, "components", component],
                            f"unknown component {component!r} (known: {_known(ctx.components)})",
                        )


def _check_resolution(record: RecordFile, data: dict[str, Any]) -> Iterator[Finding]:
    resolution = data.get("resolution")
    if not isinstance(resolution, dict):
        return
    if resolution.get("workaround") is True:
        if not resolution.get("follow_up"):
            yield _finding(
                record,
                ["resolution", "workaround"],
                "a workaround needs a follow_up for the permanent fix",
            )
        return
    verified = set(resolution.get("verified_in") or [])
    missing = [r for r in data.get("regions") or [] if r not in verified]
    if missing:
        yield _finding(
            record,
            ["resolution", "verified_in"],
            f"recovery not verified in {', '.join(missing)}; verify every affected region "
            "or record a workaround with a follow_up",
        )


def _check_postmortem(record: RecordFile, ctx: _Context) -> Iterator[Finding]:
    data = record.data
    if not isinstance(data, dict):
        return
    authors = data.get("authors")
    for index, author in enumerate(authors if isinstance(authors, list) else []):
        if ctx.unknown_person(author):
            yield _finding(record, ["authors", index], _unknown_person(author))
    incident_id = data.get("incident")
    if isinstance(incident_id, str):
        if incident_id not in ctx.incidents:
            yield _finding(record, ["incident"], f"no incident {incident_id!r} in incidents/")
        if incident_id != record.stem:
            yield _finding(
                record,
                ["incident"],
                f"incident {incident_id!r} does not match the file name {record.stem!r}",
            )
    if data.get("status") == "published":
        from incidents_cli.core.postmortems import body_problems

        for problem in body_problems(record.body, record.body_line):
            yield Finding(record.rel, problem.line, 1, "body", problem.message)
        if not data.get("action_items"):
            yield _finding(
                record,
                ["status"],
                "a published postmortem needs at least one action item (action_items)",
            )
    yield from _check_action_items(record, data, ctx)


def _check_action_items(
    record: RecordFile, data: dict[str, Any], ctx: _Context
) -> Iterator[Finding]:
    """Duplicate ids and issues, stray reasons, and unknown owners of action items."""
    seen: set[Any] = set()
    issues: dict[str, Any] = {}
    for index, item in enumerate(data.get("action_items") or []):
        if not isinstance(item, dict):
            continue
        if item.get("id") in seen:
            yield _finding(record, ["action_items", index, "id"], f"duplicate id {item['id']!r}")
        seen.add(item.get("id"))
        if item.get("reason") and item.get("status") != "wont_do":
            yield _finding(
                record,
                ["action_items", index, "reason"],
                f"a reason is for wont_do items; this one is {item.get('status')!r}",
            )
        issue = item.get("issue")
        if isinstance(issue, str) and issue in issues:
            yield _finding(
                record,
                ["action_items", index, "issue"],
                f"the same issue as action item {issues[issue]!r}",
            )
        elif isinstance(issue, str):
            issues[issue] = item.get("id")
        if ctx.unknown_person(item.get("owner")):
            yield _finding(
                record,
                ["action_items", index, "owner"],
                _unknown_person(item["owner"]),
            )


def _check_runbook(record: RecordFile, ctx: _Context) -> Iterator[Finding]:
    data = record.data
    if not isinstance(data, dict):
        return
    owner = data.get("owner")
    if ctx.unknown_person(owner) and owner != ON_CALL_OWNER and owner not in ctx.rotations:
        yield _finding(
            record,
            ["owner"],
            f"unknown owner {owner!r}: name a person from people in incidents.yaml, a rotation "
            f"of oncall.yaml, or {ON_CALL_OWNER} (whoever is on call)",
        )
    yield from _unknown_components(record, data, ctx)


def _check_oncall(record: RecordFile, ctx: _Context) -> Iterator[Finding]:
    data = record.data
    if not isinstance(data, dict):
        return
    yield from _check_rotations(record, data, ctx)
    rotations = {r.get("id") for r in data.get("rotations") or [] if isinstance(r, dict)}
    yield from _check_escalation(record, data, ctx, rotations)
    yield from _check_overrides(record, data, ctx, rotations)


def _check_rotations(record: RecordFile, data: dict[str, Any], ctx: _Context) -> Iterator[Finding]:
    """Duplicate rotation ids, unknown members and unknown time zones."""
    rotations: set[Any] = set()
    for index, rotation in enumerate(data.get("rotations") or []):
        if not isinstance(rotation, dict):
            continue
        if rotation.get("id") in rotations:
            yield _finding(record, ["rotations", index, "id"], f"duplicate id {rotation['id']!r}")
        rotations.add(rotation.get("id"))
        for position, member in enumerate(rotation.get("members") or []):
            if ctx.unknown_person(member):
                yield _finding(
                    record,
                    ["rotations", index, "members", position],
                    _unknown_person(member),
                )
        zone = rotation.get("timezone")
        if isinstance(zone, str) and not _valid_zone(zone):
            yield _finding(record, ["rotations", index, "timezone"], f"unknown time zone {zone!r}")


def _check_escalation(
    record: RecordFile, data: dict[str, Any], ctx: _Context, rotations: set[Any]
) -> Iterator[Finding]:
    """Unknown rotations and people in the escalation policy."""
    escalation = mapping(data.get("escalation"))
    for where, value in (
        (["escalation", "primary"], escalation.get("primary")),
        (
            ["escalation", "secondary", "rotation"],
            mapping(escalation.get("secondary")).get("rotation"),
        ),
    ):
        if isinstance(value, str) and value not in rotations:
            yield _finding(record, where, f"no rotation {value!r}")
    for index, tier in enumerate(escalation.get("tiers") or []):
        tier = mapping(tier)
        place: list[str | int] = ["escalation", "tiers", index]
        if isinstance(tier.get("rotation"), str) and tier["rotation"] not in rotations:
            yield _finding(record, [*place, "rotation"], f"no rotation {tier['rotation']!r}")
        if ctx.unknown_person(tier.get("person")):
            yield _finding(record, [*place, "person"], _unknown_person(tier["person"]))
        for position, person in enumerate(tier.get("people") or []):
            if ctx.unknown_person(person):
                yield _finding(record, [*place, "people", position], _unknown_person(person))


def _check_overrides(
    record: RecordFile, data: dict[str, Any], ctx: _Context, rotations: set[Any]
) -> Iterator[Finding]:
    """Unknown rotations and people in overrides, and overrides that end before they start."""
    for index, override in enumerate(data.get("overrides") or []):
        if not isinstance(override, dict):
            continue
        if isinstance(override.get("rotation"), str) and override["rotation"] not in rotations:
            yield _finding(
                record, ["overrides", index, "rotation"], f"no rotation {override['rotation']!r}"
            )
        if ctx.unknown_person(override.get("person")):
            yield _finding(
                record,
                ["overrides", index, "person"],
                _unknown_person(override["person"]),
            )
        start, end = _time(override.get("start")), _time(override.get("end"))
        if start and end and end <= start:
            yield _finding(record, ["overrides", index, "end"], "ends before it starts")


def _valid_zone(name: str) -> bool:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
