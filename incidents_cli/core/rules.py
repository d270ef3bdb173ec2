"""The rules no schema can say: cross-file references, ids, time order, phase consistency.

Pure: takes parsed records, returns findings. No file or git access.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from incidents_cli.core.document import dotted, mapping
from incidents_cli.core.findings import Finding
from incidents_cli.core.records import RecordFile
from incidents_cli.core.settings import settings_from_data
from incidents_cli.core.timeutil import DurationRangeError, format_time, parse_duration
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


class Facts(NamedTuple):
    """What the rules across records need of one record that follows its schema: a few
    names, not the record. `validate` keeps only these for every record (and caches them by
    blob id), so the cross-record rules run without holding, or even reading, the records.

    ``names``: what the record refers to, each once, as "space:value" (``p:`` a person,
    ``c:`` a component, ``r:`` a runbook, ``i:`` an incident, ``o:`` a runbook's owner;
    ``t:`` a recurrence, which the settings' time zone decides, with a digest of its rule).
    ``provides``: what others refer to (an incident's id, a runbook's slug, oncall.yaml's
    rotations; the settings' ``c:`` components, ``p:`` people and ``tz:`` time zone).
    """

    rel: str
    kind: str
    names: tuple[str, ...]
    provides: tuple[str, ...]


def check_repository(records: Sequence[RecordFile]) -> list[Finding]:
    """Every rule's findings of a repository's parsed records (those that follow their
    schema): each record's own, then those across records, from the records' facts."""
    records = [record for record in records if record.doc is not None]
    findings = [finding for record in records for finding in own_findings(record)]
    by_rel = {record.rel: record for record in records}
    findings.extend(cross_findings([facts_of(r) for r in records], by_rel.__getitem__))
    return findings


def own_findings(record: RecordFile) -> list[Finding]:
    """The findings of the rules that need nothing but the record itself."""
    check = _OWN_CHECKS.get(record.kind)
    return list(check(record)) if check is not None else []


def facts_of(record: RecordFile) -> Facts:
    """What the rules across records need of this record (see ``Facts``)."""
    names = dict.fromkeys(name for name, _ in references(record))
    if _recurrence_start(record) is not None:  # with what its check reads: a change to the
        names[f"t:{_recurrence_digest(record)}"] = None  # rule is a change of the facts
    return Facts(record.rel, record.kind, tuple(names), _provides(record, mapping(record.data)))


def _recurrence_digest(record: RecordFile) -> str:
    """A digest of what a recurrence's check reads of its record: the rule, the start and
    the called-off occurrences (kept verdicts across records are keyed by the facts)."""
    import hashlib
    import json

    data = mapping(record.data)
    read = [data.get(key) for key in ("recurrence", "start", "cancelled_occurrences")]
    text = json.dumps(read, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


def _recurrence_start(record: RecordFile) -> datetime | None:
    """The start of a maintenance window that repeats (None for any other record)."""
    data = mapping(record.data)
    if record.kind != "maintenance" or not isinstance(data.get("recurrence"), str):
        return None
    return _time(data.get("start"))


def _provides(record: RecordFile, data: dict[str, Any]) -> tuple[str, ...]:
    if record.kind == "incident":
        return (data["id"],) if isinstance(data.get("id"), str) else ()
    if record.kind == "runbook":
        return (record.stem,)
    if record.kind == "oncall":
        return tuple(
            str(rotation.get("id"))
            for rotation in data.get("rotations") or []
            if isinstance(rotation, dict) and rotation.get("id")
        )
    if record.kind == "settings":
        settings = settings_from_data(record.data)
        return (
            f"tz:{settings.timezone}",
            *(f"c:{c}" for c in sorted(settings.component_ids)),
            *(f"p:{p}" for p in sorted(settings.people)),
        )
    return ()


def _id_twin(incident_id: str, rel: str, seen_ids: dict[str, tuple[str, str]]) -> str | None:
    """What is wrong with an incident id that an earlier incident uses (None: it is the
    first): the same id, or one that differs only in case, which is one file on macOS and
    Windows (a clone there loses one of them)."""
    twin = seen_ids.get(incident_id.casefold())
    if twin is None:
        seen_ids[incident_id.casefold()] = (incident_id, rel)
        return None
    if twin[0] == incident_id:
        return f"id {incident_id!r} is also used by {twin[1]}"
    return (
        f"id {incident_id!r} differs only in case from {twin[0]!r} ({twin[1]}): they "
        "are one file on macOS and Windows; rename one"
    )


def cross_findings(facts: Sequence[Facts], record_at: Callable[[str], RecordFile]) -> list[Finding]:
    """The findings of the rules across records, from every record's facts (in file order).
    ``record_at(rel)`` gives the parsed record, asked for only to place a finding: for a
    record that refers to something unknown, or repeats an incident's id."""
    ctx = _context(facts)
    findings: list[Finding] = []
    seen_ids: dict[str, tuple[str, str]] = {}  # each id so far, in lower case -> (id, file)
    for fact in facts:
        if fact.kind == "incident" and fact.provides:
            twin = _id_twin(fact.provides[0], fact.rel, seen_ids)
            if twin is not None:
                findings.append(_finding(record_at(fact.rel), ["id"], twin))
        if not all(ctx.settled(name) for name in fact.names):
            findings.extend(reference_findings(record_at(fact.rel), ctx))
    return findings


def _context(facts: Sequence[Facts]) -> _Context:
    settings = next((f.provides for f in facts if f.kind == "settings"), None)
    given = settings or ()
    people = {p[2:] for p in given if p.startswith("p:")}
    return _Context(
        components={c[2:] for c in given if c.startswith("c:")} if settings is not None else None,
        people=people or None,
        runbooks={f.provides[0] for f in facts if f.kind == "runbook"},
        incidents={f.provides[0] for f in facts if f.kind == "incident" and f.provides},
        timezone=next((t[3:] for t in given if t.startswith("tz:")), "UTC"),
        rotations={r for f in facts if f.kind == "oncall" for r in f.provides},
    )


def reference_findings(record: RecordFile, ctx: _Context) -> Iterator[Finding]:
    """The findings of a record's references to what the repository does not have (and of
    a maintenance window's recurrence, which the time zone decides)."""
    for name, where in references(record):
        if not ctx.settled(name):
            yield _finding(record, where, ctx.message(name))
    start = _recurrence_start(record)
    if start is not None:
        yield from _check_recurrence(record, record.data, start, ctx.timezone)


Reference = tuple[str, list[str | int]]
"""A name the record refers to ("space:value", see ``Facts``), and where."""


def references(record: RecordFile) -> Iterator[Reference]:
    """Every name the record refers to that another record (or the settings) must have."""
    data = record.data
    if not isinstance(data, dict):
        return
    refer = _REFERENCES.get(record.kind)
    if refer is not None:
        yield from refer(data)


def _check_maintenance(record: RecordFile) -> Iterator[Finding]:
    data = record.data
    if not isinstance(data, dict):
        return
    if isinstance(data.get("id"), str) and data["id"] != record.stem:
        yield _finding(
            record, ["id"], f"id {data['id']!r} does not match the file name {record.stem!r}"
        )
    start, end = _time(data.get("start")), _time(data.get("end"))
    if start and end and end <= start:
        yield _finding(record, ["end"], "ends before it starts")


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
    """What the repository has, that records refer to."""

    def __init__(
        self,
        components: set[str] | None,
        people: set[str] | None,
        runbooks: set[str],
        incidents: set[str],
        timezone: str = "UTC",
        rotations: set[str] | None = None,
    ) -> None:
        self.timezone = timezone
        self.rotations = rotations or set()
        self.components = components
        self.people = people
        self.runbooks = runbooks
        self.incidents = incidents

    def settled(self, name: str) -> bool:
        """Whether the repository has what ``name`` (see ``Facts``) refers to."""
        space, value = name[:1], name[2:]
        if space == "p":
            return self.people is None or value in self.people
        if space == "c":
            return self.components is None or value in self.components
        if space == "r":
            return value in self.runbooks
        if space == "i":
            return value in self.incidents
        if space == "o":
            return self.settled(f"p:{value}") or value == ON_CALL_OWNER or value in self.rotations
        return False  # "t:": a recurrence, checked against the time zone on the record

    def message(self, name: str) -> str:
        """What is wrong with a reference to ``name`` that is not ``settled``."""
        space, value = name[:1], name[2:]
        if space == "c":
            return f"unknown component {value!r} (known: {_known(self.components)})"
        if space == "r":
            return f"no runbook runbooks/{value}.md"
        if space == "i":
            return f"no incident {value!r} in incidents/"
        if space == "o":
            return (
                f"unknown owner {value!r}: name a person from people in incidents.yaml, a "
                f"rotation of oncall.yaml, or {ON_CALL_OWNER} (whoever is on call)"
            )
        return f"unknown person {value!r}; add them to people in incidents.yaml"


def _each(values: Any, where: list[str | int], space: str = "p") -> Iterator[Reference]:
    """A reference to each name in ``values`` (a list; people unless ``space`` says
    otherwise), at ``where`` and its index."""
    for index, value in enumerate(values if isinstance(values, list) else []):
        if isinstance(value, str):
            yield f"{space}:{value}", [*where, index]


def _one(value: Any, where: list[str | int], space: str = "p") -> Iterator[Reference]:
    """A reference to ``value`` (a person unless ``space`` says otherwise), if it is a name."""
    if isinstance(value, str):
        yield f"{space}:{value}", where


def _components(data: dict[str, Any]) -> Iterator[Reference]:
    """A reference to each of the record's `components`."""
    yield from _each(data.get("components") or [], ["components"], "c")


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
    yield from duration_findings(record)


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


def _check_incident(record: RecordFile) -> Iterator[Finding]:
    data = record.data
    if not isinstance(data, dict):
        return
    incident_id = data.get("id")
    if isinstance(incident_id, str) and incident_id != record.stem:
        yield _finding(
            record, ["id"], f"id {incident_id!r} does not match the file name {record.stem!r}"
        )
    yield from _check_phase(record, data)
    yield from _check_entries(record, data)
    yield from _check_resolution(record, data)


def _incident_references(data: dict[str, Any]) -> Iterator[Reference]:
    yield from _components(data)
    yield from _each(data.get("runbooks") or [], ["runbooks"], "r")
    roles = mapping(data.get("roles"))
    for role in ("commander", "communications"):
        yield from _one(roles.get(role), ["roles", role])
    yield from _each(roles.get("responders") or [], ["roles", "responders"])
    for index, entry in enumerate(data.get("updates") or []):
        if isinstance(entry, dict) and isinstance(entry.get("components"), dict):
            for component in entry["components"]:
                if isinstance(component, str):
                    yield f"c:{component}", ["updates", index, "components", component]


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


def _check_entries(record: RecordFile, data: dict[str, Any]) -> Iterator[Finding]:
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


def _check_postmortem(record: RecordFile) -> Iterator[Finding]:
    data = record.data
    if not isinstance(data, dict):
        return
    incident_id = data.get("incident")
    if isinstance(incident_id, str) and incident_id != record.stem:
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
    yield from _check_action_items(record, data)


def _postmortem_references(data: dict[str, Any]) -> Iterator[Reference]:
    yield from _each(data.get("authors"), ["authors"])
    if isinstance(data.get("incident"), str):
        yield f"i:{data['incident']}", ["incident"]
    for index, item in enumerate(data.get("action_items") or []):
        if isinstance(item, dict):
            yield from _one(item.get("owner"), ["action_items", index, "owner"])


def _check_action_items(record: RecordFile, data: dict[str, Any]) -> Iterator[Finding]:
    """Duplicate ids and issues, and stray reasons, of action items."""
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


def _runbook_references(data: dict[str, Any]) -> Iterator[Reference]:
    yield from _one(data.get("owner"), ["owner"], "o")
    yield from _components(data)


def _check_oncall(record: RecordFile) -> Iterator[Finding]:
    data = record.data
    if not isinstance(data, dict):
        return
    rotations: set[Any] = set()
    for index, rotation in enumerate(data.get("rotations") or []):
        if not isinstance(rotation, dict):
            continue
        if rotation.get("id") in rotations:
            yield _finding(record, ["rotations", index, "id"], f"duplicate id {rotation['id']!r}")
        rotations.add(rotation.get("id"))
        zone = rotation.get("timezone")
        if isinstance(zone, str) and not _valid_zone(zone):
            yield _finding(record, ["rotations", index, "timezone"], f"unknown time zone {zone!r}")
    yield from _check_escalation(record, data, rotations)
    yield from _check_overrides(record, data, rotations)
    yield from duration_findings(record)


def duration_findings(record: RecordFile) -> Iterator[Finding]:
    """Durations of the settings and oncall.yaml in the right form (the schema's part) that
    are longer than ten years (``LONGEST_DAYS``). `validate` reports them, and every command
    that reads these files refuses them (store/layout.py): no reader then adds a duration
    to a time that cannot hold the sum."""
    for where, value in _durations(record.kind, mapping(record.data)):
        if isinstance(value, str):
            try:
                parse_duration(value)
            except DurationRangeError as exc:
                yield _finding(record, where, str(exc))
            except ValueError:
                pass  # not a duration at all: the schema says so


def _durations(kind: str, data: dict[str, Any]) -> Iterator[tuple[list[str | int], Any]]:
    """Each duration of the settings (response windows, update cadences, the postmortem's
    due_within) or of oncall.yaml (shifts), with its place."""
    if kind == "settings":
        for level, entry in mapping(data.get("severities")).items():
            for key in ("ack_within", "update_every"):
                if key in mapping(entry):
                    yield ["severities", level, key], entry[key]
        policy = mapping(data.get("postmortem"))
        if "due_within" in policy:
            yield ["postmortem", "due_within"], policy["due_within"]
    elif kind == "oncall":
        for index, rotation in enumerate(data.get("rotations") or []):
            if "shift" in mapping(rotation):
                yield ["rotations", index, "shift"], rotation["shift"]


def _oncall_references(data: dict[str, Any]) -> Iterator[Reference]:
    """The people of rotations, escalation tiers and overrides."""
    for index, rotation in enumerate(data.get("rotations") or []):
        if isinstance(rotation, dict):
            yield from _each(rotation.get("members") or [], ["rotations", index, "members"])
    for index, tier in enumerate(mapping(data.get("escalation")).get("tiers") or []):
        tier = mapping(tier)
        place: list[str | int] = ["escalation", "tiers", index]
        yield from _one(tier.get("person"), [*place, "person"])
        yield from _each(tier.get("people") or [], [*place, "people"])
    for index, override in enumerate(data.get("overrides") or []):
        if isinstance(override, dict):
            yield from _one(override.get("person"), ["overrides", index, "person"])


def _check_escalation(
    record: RecordFile, data: dict[str, Any], rotations: set[Any]
) -> Iterator[Finding]:
    """Unknown rotations in the escalation policy."""
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
        if isinstance(tier.get("rotation"), str) and tier["rotation"] not in rotations:
            yield _finding(
                record,
                ["escalation", "tiers", index, "rotation"],
                f"no rotation {tier['rotation']!r}",
            )


def _check_overrides(
    record: RecordFile, data: dict[str, Any], rotations: set[Any]
) -> Iterator[Finding]:
    """Unknown rotations in overrides, and overrides that end before they start."""
    for index, override in enumerate(data.get("overrides") or []):
        if not isinstance(override, dict):
            continue
        if isinstance(override.get("rotation"), str) and override["rotation"] not in rotations:
            yield _finding(
                record, ["overrides", index, "rotation"], f"no rotation {override['rotation']!r}"
            )
        start, end = _time(override.get("start")), _time(override.get("end"))
        if start and end and end <= start:
            yield _finding(record, ["overrides", index, "end"], "ends before it starts")


_OWN_CHECKS: dict[str, Callable[[RecordFile], Iterator[Finding]]] = {
    "settings": lambda record: _check_settings(record),
    "incident": lambda record: _check_incident(record),
    "postmortem": lambda record: _check_postmortem(record),
    "oncall": lambda record: _check_oncall(record),
    "maintenance": lambda record: _check_maintenance(record),
}
"""The rules of each kind of record that need nothing but the record (runbooks have none)."""

_REFERENCES: dict[str, Callable[[dict[str, Any]], Iterator[Reference]]] = {
    "incident": lambda data: _incident_references(data),
    "postmortem": lambda data: _postmortem_references(data),
    "runbook": lambda data: _runbook_references(data),
    "oncall": lambda data: _oncall_references(data),
    "maintenance": lambda data: _components(data),
}
"""Where each kind of record names people, components, runbooks and incidents."""


_MACHINE_ZONES = frozenset({"localtime", "posixrules"})
"""Files in the system's zone folder that are not IANA names: each machine's own zone, so a
site built on a runner would follow the runner's clock rules."""


def _valid_zone(name: str) -> bool:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if name in _MACHINE_ZONES:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
