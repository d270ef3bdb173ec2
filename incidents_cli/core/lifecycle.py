"""The incident lifecycle: one table of allowed moves, and pure transition functions.

A transition takes a record (a plain dict as stored in incidents/<ID>.yaml) and the facts of
the event, and returns a new record, or raises ``TransitionRefused``. It never reads or writes files
or talks to git: that is what lets a transition be replayed on a newer remote state.
"""

from __future__ import annotations

import copy
import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from incidents_cli.core import refs
from incidents_cli.core.errors import RefusedError
from incidents_cli.core.settings import Settings
from incidents_cli.core.text import clip, first_line
from incidents_cli.core.timeutil import format_duration, format_time, parse_time
from incidents_cli.core.vocabulary import NOTE_KINDS, OPEN_PHASES, PHASES, SEVERITIES

IncidentData = dict[str, Any]


# action -> (phases it is allowed from, the phase it moves to; None: the phase stays)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "ack": (("detected",), "acknowledged"),
    "investigate": (("acknowledged",), "investigating"),
    "resolve": (("acknowledged", "investigating"), "resolved"),
    "reopen": (("resolved", "postmortem"), "investigating"),
    "postmortem": (("resolved",), "postmortem"),
    "close": (("resolved", "postmortem"), "closed"),
    "severity": (OPEN_PHASES, None),
    "assign": (OPEN_PHASES, None),
    "note": (OPEN_PHASES, None),
    "update": (OPEN_PHASES, None),
    "scope": (OPEN_PHASES, None),
    "amend": (PHASES, None),
    "retract": (PHASES, None),
    "publish": (("postmortem",), None),
}

RESOLVED_MESSAGE = "This incident has been resolved."
REOPENED_MESSAGE = "We are investigating this issue again."

# The time field each phase sets (its timeline entry is of the phase's own kind).
PHASE_TIME = {
    "detected": "detected_at",
    "acknowledged": "acknowledged_at",
    "resolved": "resolved_at",
    "closed": "closed_at",
}
FUTURE_TOLERANCE = timedelta(minutes=5)


class TransitionRefused(RefusedError):
    """The transition does not apply to this record; nothing is changed."""

    output: str = ""
    """Lines printed before the message: the findings behind a refusal, one per line."""


def refused_with(findings: Sequence[str], message: str) -> TransitionRefused:
    """A refusal that lists every finding behind it (each `path:line:col: field: ...`)."""
    error = TransitionRefused(message)
    error.output = "\n".join(findings)
    return error


class Event(NamedTuple):
    """Who, when, and under which settings: what every transition needs."""

    actor: str
    at: datetime
    settings: Settings
    now: datetime


@dataclass
class Change:
    """A new record and how to describe it in a commit."""

    record: IncidentData
    action: str
    subject: str
    notices: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    """Other files to write in the same commit, by repository-relative path."""
    write_record: bool = True
    trailers: tuple[tuple[str, str], ...] = ()
    """The commit's trailers when it is about no single incident and phase (a sync of many
    postmortems), instead of Incident-Id and Phase."""
    removes: list[str] = field(default_factory=list)
    """Files to delete in the same commit, by repository-relative path."""
    body: str = ""
    """Text between the subject and the trailers (a review note, say)."""
    staged: tuple[str, ...] = ()
    """Paths of ``files`` that a person staged and this change commits as they are staged."""

    @property
    def incident_id(self) -> str:
        return str(self.record["id"])

    @property
    def phase(self) -> str:
        return str(self.record["phase"])


# --- reading a record ------------------------------------------------------------------


def phase_changed_at(record: IncidentData) -> datetime:
    """When the incident entered its current phase (from its timeline)."""
    phase = record.get("phase")
    if phase == "detected":
        return parse_time(record["detected_at"])
    for entry in reversed(record.get("timeline") or []):
        if (phase != "detected" and entry.get("kind") == phase) or (
            phase == "investigating" and entry.get("kind") == "reopened"
        ):
            return parse_time(entry["at"])
    field_name = PHASE_TIME.get(str(phase))
    if field_name and field_name in record:
        return parse_time(record[field_name])
    return parse_time(record["detected_at"])


def last_phase_entry(record: IncidentData) -> dict[str, Any] | None:
    kinds = {"declared", "reopened", *PHASES[1:]}
    for entry in reversed(record.get("timeline") or []):
        if entry.get("kind") in kinds:
            return dict(entry)
    return None


def allowed_actions(phase: str) -> list[str]:
    return [name for name, (sources, _) in TRANSITIONS.items() if phase in sources]


def _check_allowed(record: IncidentData, action: str) -> None:
    sources, _ = TRANSITIONS[action]
    phase = str(record.get("phase"))
    if phase in sources:
        return
    since = ""
    entry = last_phase_entry(record)
    if entry is not None:
        since = f" (since {entry.get('at')}, by {entry.get('actor')})"
    allowed = allowed_actions(phase)
    hint = f"from {phase!r} you can: {', '.join(allowed)}" if allowed else "nothing more can happen"
    raise TransitionRefused(f"cannot {action} {record.get('id')}: it is {phase}{since}; {hint}")


def _check_time(record: IncidentData, event: Event, action: str) -> None:
    if event.at > event.now + FUTURE_TOLERANCE:
        raise TransitionRefused(f"--at {format_time(event.at)} is in the future")
    detected = parse_time(record["detected_at"])
    if event.at < detected:
        raise TransitionRefused(
            f"--at {format_time(event.at)} is before {record['id']} was detected "
            f"({record['detected_at']})"
        )
    if TRANSITIONS[action][1] is not None:
        since = phase_changed_at(record)
        if event.at < since:
            raise TransitionRefused(
                f"--at {format_time(event.at)} would put the timeline out of order: "
                f"{record['id']} became {record['phase']} at {format_time(since)}"
            )


def _begin(record: IncidentData, event: Event, action: str) -> IncidentData:
    _check_allowed(record, action)
    _check_time(record, event, action)
    new = copy.deepcopy(record)
    refs.ensure_refs(new)  # a record from before references gets them now, in order
    return new


def _add_entry(record: IncidentData, entry: dict[str, Any], key: str = "timeline") -> None:
    """Insert in time order (after entries with the same time), so replays stay ordered; an
    entry without a reference gets the next one."""
    if "ref" not in entry:
        ref = refs.next_ref(record, key)
        items = list(entry.items())
        entry.clear()
        entry.update([("ref", ref), *items])
    entries = record.setdefault(key, [])
    times = [parse_time(e["at"]) for e in entries]
    entries.insert(bisect_right(times, parse_time(entry["at"])), entry)


def _timeline(
    record: IncidentData, event: Event, kind: str, text: str, evidence: Sequence[str] = ()
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "at": format_time(event.at),
        "actor": event.actor,
        "kind": kind,
        "text": text,
    }
    if evidence:
        entry["evidence"] = list(evidence)
    _add_entry(record, entry)
    return entry


def _subject(record: IncidentData, what: str) -> str:
    title = str(record.get("title", ""))
    return clip(f"{record['id']} {what}: {title}", 100)


def _check_components(settings: Settings, components: Sequence[str]) -> None:
    known = settings.component_ids
    unknown = [c for c in components if c not in known]
    if unknown:
        raise TransitionRefused(
            f"unknown component {unknown[0]!r} (known: {', '.join(sorted(known)) or 'none'}); "
            "add it to components in incidents.yaml"
        )


def _check_person(settings: Settings, person: str, option: str) -> None:
    if settings.people and person not in settings.people:
        raise TransitionRefused(
            f"{option}: unknown person {person!r} (known: {', '.join(sorted(settings.people))}); "
            "add them to people in incidents.yaml"
        )


# --- identifiers -----------------------------------------------------------------------------


def next_id(existing: Sequence[str], prefix: str) -> str:
    """The next free id: one more than the highest with this prefix, four digits at least.

    The prefix is compared in any case, as `ids.resolve_id` reads ids: the schema allows a
    hand-written ``inc-0007``, which is INC-0007 to every command, and the same file as
    ``INC-0007.yaml`` on a file system that ignores case (macOS, Windows)."""
    pattern = re.compile(rf"^{re.escape(prefix)}-(\d+)$", re.IGNORECASE)
    numbers = [int(m.group(1)) for m in map(pattern.match, existing) if m]
    return f"{prefix}-{max(numbers, default=0) + 1:04d}"


# --- transitions ---------------------------------------------------------------------------


def declare(
    incident_id: str,
    title: str,
    event: Event,
    *,
    severity: str | None = None,
    components: Sequence[str] = (),
    regions: Sequence[str] = (),
    source: str = "internal",
    summary: str | None = None,
    primary: str | None = None,
) -> Change:
    if not title.strip():
        raise TransitionRefused("the title must not be empty: say what users see is broken")
    if event.at > event.now + FUTURE_TOLERANCE:
        raise TransitionRefused(f"--at {format_time(event.at)} is in the future")
    _check_components(event.settings, components)
    check_regions(regions, "--region")
    record: IncidentData = {"id": incident_id, "title": title.strip()}
    if summary:
        record["summary"] = summary
    if severity:
        record["severity"] = severity
    record["phase"] = "detected"
    record["source"] = source
    if components:
        record["components"] = list(dict.fromkeys(components))
    if regions:
        record["regions"] = list(dict.fromkeys(regions))
    record["detected_at"] = format_time(event.at)
    if primary:
        record["primary_at_detection"] = primary
    record["timeline"] = []
    _timeline(
        record,
        event,
        "declared",
        f"Declared from {source}" + (f" as {severity}" if severity else ""),
    )
    return Change(record, "declare", _subject(record, "declared"))


def acknowledge(record: IncidentData, event: Event, severity: str | None = None) -> Change:
    new = _begin(record, event, "ack")
    if severity:
        new["severity"] = severity
    if not new.get("severity"):
        raise TransitionRefused(
            f"cannot ack {record['id']}: its severity is not known yet; pass --severity "
            f"({'|'.join(SEVERITIES)})"
        )
    new["phase"] = "acknowledged"
    new["acknowledged_at"] = format_time(event.at)
    window = event.settings.ack_within[new["severity"]]
    took = event.at - parse_time(new["detected_at"])
    text = f"Acknowledged as {new['severity']}"
    notices = []
    if took > window:
        late = f"{format_duration(took)} after detection, over the {format_duration(window)} window"
        text += f" ({late})"
        notices.append(f"late acknowledgment: {late}")
    _timeline(new, event, "acknowledged", text)
    return Change(new, "ack", _subject(new, "acknowledged"), notices)


def change_severity(record: IncidentData, event: Event, severity: str) -> Change:
    new = _begin(record, event, "severity")
    old = new.get("severity")
    if old == severity:
        raise TransitionRefused(f"{record['id']} is already {severity}")
    new["severity"] = severity
    _timeline(new, event, "severity", f"Severity changed from {old or 'unset'} to {severity}")
    return Change(new, "severity", _subject(new, f"severity {severity}"))


def assign(
    record: IncidentData,
    event: Event,
    *,
    commander: str | None = None,
    communications: str | None = None,
    responders: Sequence[str] = (),
) -> Change:
    if not (commander or communications or responders):
        raise TransitionRefused("assign: pass --commander, --comms or --responder")
    new = _begin(record, event, "assign")
    roles = new.setdefault("roles", {})
    said = []
    if commander:
        _check_person(event.settings, commander, "--commander")
        roles["commander"] = commander
        said.append(f"commander {commander}")
    if communications:
        _check_person(event.settings, communications, "--comms")
        roles["communications"] = communications
        said.append(f"communications {communications}")
    for person in responders:
        _check_person(event.settings, person, "--responder")
        current = roles.setdefault("responders", [])
        if person not in current:
            current.append(person)
            said.append(f"responder {person}")
    if not said:
        raise TransitionRefused(f"{record['id']}: those roles are assigned already")
    _timeline(new, event, "assigned", "Assigned " + ", ".join(said))
    return Change(new, "assign", _subject(new, "roles"))


def investigate(record: IncidentData, event: Event) -> Change:
    new = _begin(record, event, "investigate")
    if new.get("severity") in ("critical", "high") and not (new.get("roles") or {}).get(
        "commander"
    ):
        raise TransitionRefused(
            f"cannot investigate {record['id']}: a {new['severity']} incident needs an incident "
            f"commander first; run `incidents assign {record['id']} --commander NAME`"
        )
    new["phase"] = "investigating"
    _timeline(new, event, "investigating", "Investigation started")
    return Change(new, "investigate", _subject(new, "investigating"))


def note(
    record: IncidentData,
    event: Event,
    text: str,
    *,
    kind: str = "note",
    evidence: Sequence[str] = (),
    runbook: str | None = None,
    known_runbooks: Sequence[str] = (),
) -> Change:
    if not text.strip():
        raise TransitionRefused("a note needs text")
    new = _begin(record, event, "note")
    if runbook:
        if runbook not in known_runbooks:
            raise TransitionRefused(f"--runbook: no runbook runbooks/{runbook}.md")
        used = new.setdefault("runbooks", [])
        if runbook not in used:
            used.append(runbook)
    _timeline(new, event, kind, text.strip(), evidence)
    subject = clip(f"{record['id']} {kind}: {first_line(text.strip())}", 100)
    return Change(new, "note", subject)


def public_update(
    record: IncidentData,
    event: Event,
    *,
    status: str,
    message: str,
    components: dict[str, str] | None = None,
    eta: datetime | None = None,
) -> Change:
    if not message.strip():
        raise TransitionRefused("a public update needs a message")
    new = _begin(record, event, "update")
    if eta is not None and eta < event.at:
        raise TransitionRefused(f"--eta {format_time(eta)} is before the update itself")
    notices: list[str] = []
    entry = _post(new, event, status, message, components, notices)
    if eta is not None:
        entry["eta"] = format_time(eta)
    return Change(new, "update", _subject(new, f"public update ({status})"), notices)


def posted_updates(record: IncidentData) -> list[dict[str, Any]]:
    """The public updates that stand: every one not retracted, oldest first."""
    return [
        u for u in record.get("updates") or [] if isinstance(u, dict) and not u.get("retracted")
    ]


def affected_components(record: IncidentData) -> list[str]:
    """The incident's components and any other its standing public updates named."""
    named = [str(c) for c in record.get("components") or []]
    for update in posted_updates(record):
        named.extend(str(c) for c in update.get("components") or {})
    return list(dict.fromkeys(named))


def _post(
    new: IncidentData,
    event: Event,
    status: str,
    message: str,
    components: dict[str, str] | None,
    notices: list[str],
) -> dict[str, Any]:
    """Add a public update to ``new``. A component it names that is not on the incident
    joins the incident's components (a scope entry and a notice say so): the page lists
    what an update says is affected."""
    if components:
        _check_components(event.settings, list(components))
    entry: dict[str, Any] = {
        "ref": refs.next_ref(new, "updates"),
        "at": format_time(event.at),
        "status": status,
        "message": message.strip(),
    }
    if components:
        entry["components"] = dict(components)
        current = new.setdefault("components", [])
        for component in components:
            if component not in current:
                current.append(component)
                added = _timeline(
                    new,
                    event,
                    "scope",
                    f"Component {component} added (named in public update {entry['ref']})",
                )
                added["refers_to"] = entry["ref"]
                notices.append(f"{component} added to {new['id']}'s affected components")
    _add_entry(new, entry, "updates")
    return entry


def resolve(
    record: IncidentData,
    event: Event,
    *,
    action: str,
    summary: str,
    verified_in: Sequence[str] = (),
    workaround: bool = False,
    follow_up: str | None = None,
    message: str | None = None,
    components: dict[str, str] | None = None,
    public_update: bool = True,
) -> Change:
    """Resolve; an incident that said something in public says it is resolved there too."""
    new = _begin(record, event, "resolve")
    _check_public_options(message, components, public_update)
    check_regions(verified_in, "--verified-in")
    _check_resolution(record, new, summary, verified_in, workaround, follow_up)
    resolution = _resolution(action, summary, verified_in, workaround, follow_up)
    new["resolution"] = resolution
    new["phase"] = "resolved"
    new["resolved_at"] = format_time(event.at)
    text = f"Resolved by {action}: {summary.strip()}"
    if workaround:
        text += f" (workaround; follow-up: {resolution['follow_up']})"
    _timeline(new, event, "resolved", text)
    notices: list[str] = []
    posted = posted_updates(new)
    said_already = bool(posted) and posted[-1].get("status") == "resolved"
    if public_update and (message is not None or components or (posted and not said_already)):
        statuses = components or {c: "operational" for c in affected_components(new)}
        _post(new, event, "resolved", message or RESOLVED_MESSAGE, statuses, notices)
    return Change(new, "resolve", _subject(new, "resolved"), notices)


def _check_resolution(
    record: IncidentData,
    new: IncidentData,
    summary: str,
    verified_in: Sequence[str],
    workaround: bool,
    follow_up: str | None,
) -> None:
    """Refuse a resolution without a summary, with a stray follow-up, or with recovery not
    verified in every affected region (unless it is a workaround)."""
    if not summary.strip():
        raise TransitionRefused("--summary: say what fixed it")
    if workaround and not (follow_up and follow_up.strip()):
        raise TransitionRefused(
            "--workaround needs --follow-up TEXT: the follow-up for the permanent fix"
        )
    if follow_up and not workaround:
        raise TransitionRefused("--follow-up goes with --workaround")
    regions = list(new.get("regions") or [])
    unknown = [r for r in verified_in if r not in regions]
    if unknown and regions:
        raise TransitionRefused(
            f"--verified-in {unknown[0]}: not an affected region of {record['id']} "
            f"(affected: {', '.join(regions)})"
        )
    missing = [r for r in regions if r not in verified_in]
    if missing and not workaround:
        raise TransitionRefused(
            f"cannot resolve {record['id']}: recovery is not verified in "
            f"{', '.join(missing)}; pass --verified-in for each affected region, or "
            "--workaround --follow-up TEXT if the root cause is not fixed yet"
        )


def _resolution(
    action: str,
    summary: str,
    verified_in: Sequence[str],
    workaround: bool,
    follow_up: str | None,
) -> dict[str, Any]:
    """The record's ``resolution`` mapping."""
    resolution: dict[str, Any] = {"action": action, "summary": summary.strip()}
    if verified_in:
        resolution["verified_in"] = list(dict.fromkeys(verified_in))
    if workaround:
        resolution["workaround"] = True
        resolution["follow_up"] = str(follow_up).strip()
    return resolution


def _check_public_options(
    message: str | None, components: dict[str, str] | None, public_update: bool
) -> None:
    if not public_update and (message is not None or components):
        raise TransitionRefused("--no-public-update goes without --message and --component")
    if message is not None and not message.strip():
        raise TransitionRefused("--message must not be empty")


def _statuses_before_resolution(record: IncidentData) -> dict[str, str]:
    """Each affected component's last status other than operational, from standing updates."""
    last: dict[str, str] = {}
    for update in posted_updates(record):
        for component, status in (update.get("components") or {}).items():
            if status != "operational":
                last[str(component)] = str(status)
    return {c: last[c] for c in affected_components(record) if c in last}


def reopen(
    record: IncidentData,
    event: Event,
    reason: str,
    *,
    message: str | None = None,
    components: dict[str, str] | None = None,
    public_update: bool = True,
) -> Change:
    """Back to investigating; in public too, with the components as they were before."""
    if not reason.strip():
        raise TransitionRefused("--reason: say why it is not resolved after all")
    new = _begin(record, event, "reopen")
    _check_public_options(message, components, public_update)
    new["phase"] = "investigating"
    for name in ("resolved_at", "resolution"):
        new.pop(name, None)
    _timeline(new, event, "reopened", f"Reopened: {reason.strip()}")
    notices: list[str] = []
    if public_update and (message is not None or components or posted_updates(new)):
        statuses = components or _statuses_before_resolution(new)
        _post(new, event, "investigating", message or REOPENED_MESSAGE, statuses, notices)
    return Change(new, "reopen", _subject(new, "reopened"), notices)


def start_postmortem(record: IncidentData, event: Event, path: str) -> Change:
    new = _begin(record, event, "postmortem")
    new["phase"] = "postmortem"
    new["postmortem"] = path
    _timeline(new, event, "postmortem", f"Postmortem started: {path}")
    return Change(new, "postmortem", _subject(new, "postmortem"))


def close(
    record: IncidentData,
    event: Event,
    postmortem_status: str | None,
    postmortem_findings: Sequence[str] = (),
) -> Change:
    """Close. ``postmortem_status`` and ``postmortem_findings`` describe the postmortem as
    committed (or staged): its status, and what the publish rules find in it."""
    new = _begin(record, event, "close")
    severity = new.get("severity")
    if postmortem_status == "published" and postmortem_findings:
        raise refused_with(
            postmortem_findings,
            f"cannot close {record['id']}: its postmortem {new.get('postmortem')} is marked "
            f"published but fails the publish rules ({len(postmortem_findings)} "
            "problem(s) above); nothing was changed",
        )
    if severity in event.settings.required_for and postmortem_status != "published":
        if new["phase"] != "postmortem":
            why = (
                f"a {severity} incident needs a published postmortem; "
                f"run `incidents postmortem {record['id']}` first"
            )
        elif postmortem_status is None:
            why = f"its postmortem {new.get('postmortem')} does not exist yet"
        else:
            why = f"its postmortem is {postmortem_status}, not published"
        raise TransitionRefused(f"cannot close {record['id']}: {why}")
    new["phase"] = "closed"
    new["closed_at"] = format_time(event.at)
    _timeline(new, event, "closed", "Closed")
    return Change(new, "close", _subject(new, "closed"))


def publish_postmortem(record: IncidentData, event: Event, path: str) -> Change:
    """The incident's side of `postmortem publish`: a timeline entry in the same commit as
    the document (the use case checks the document and sets its status)."""
    new = _begin(record, event, "publish")
    _timeline(new, event, "postmortem_published", f"Postmortem published: {path}")
    return Change(new, "publish", _subject(new, "postmortem published"))


# --- scope and corrections -----------------------------------------------------------------


def scope(
    record: IncidentData,
    event: Event,
    *,
    add_components: Sequence[str] = (),
    remove_components: Sequence[str] = (),
    add_regions: Sequence[str] = (),
    remove_regions: Sequence[str] = (),
    title: str | None = None,
    public: bool | None = None,
) -> Change:
    """Widen or narrow the blast radius, retitle, or change visibility: one timeline entry
    per change, all in one commit."""
    new = _begin(record, event, "scope")
    iid = record["id"]
    said: list[str] = []
    _check_region_addable(new, iid, add_regions)
    check_regions(add_regions, "--add-region")
    _check_components(event.settings, add_components)
    for key, label, added, removed in (
        ("components", "Component", add_components, remove_components),
        ("regions", "Region", add_regions, remove_regions),
    ):
        said += _change_list(new, iid, key, label, added, removed)
    if title is not None:
        said.append(_retitle(new, iid, title))
    if public is not None:
        said.append(_change_visibility(new, iid, public))
    if not said:
        raise TransitionRefused(
            "scope: nothing to change; pass --add-component, --remove-component, "
            "--add-region, --remove-region, --title, --public or --private"
        )
    for text in said:
        _timeline(new, event, "scope", text)
    return Change(new, "scope", _subject(new, "scope"))


_NOT_ONE_LINE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def check_regions(regions: Sequence[str], option: str) -> None:
    """Refuse a region that is not one line of text (as the schema's pattern for regions):
    lists and one-line output show one region per place."""
    for region in regions:
        if not region.strip() or _NOT_ONE_LINE.search(region):
            raise TransitionRefused(f"{option} {region!r}: a region is one line of text")


def _check_region_addable(new: IncidentData, iid: str, add_regions: Sequence[str]) -> None:
    """Refuse to add a region to an incident resolved with recovery verified (not a
    workaround): it must be reopened first."""
    resolution = new.get("resolution")
    if add_regions and isinstance(resolution, dict) and not resolution.get("workaround"):
        raise TransitionRefused(
            f"cannot add a region to {iid}: it is {new['phase']} and recovery was verified "
            f"only in {', '.join(resolution.get('verified_in') or []) or 'no region'}; "
            f"reopen it first (`incidents reopen {iid} --reason TEXT`)"
        )


def _change_list(
    new: IncidentData,
    iid: str,
    key: str,
    label: str,
    added: Sequence[str],
    removed: Sequence[str],
) -> list[str]:
    """Add and remove values of the ``key`` list in place; what changed, one line each."""
    said: list[str] = []
    current = [str(v) for v in new.get(key) or []]
    for value in added:
        if not value.strip():
            raise TransitionRefused(f"--add-{label.lower()}: name the {label.lower()}")
        if value in current:
            raise TransitionRefused(f"{value} is already an affected {label.lower()} of {iid}")
        current.append(value)
        said.append(f"{label} {value} added")
    for value in removed:
        if value not in current:
            raise TransitionRefused(
                f"{value} is not an affected {label.lower()} of {iid} "
                f"(affected: {', '.join(current) or 'none'})"
            )
        current.remove(value)
        said.append(f"{label} {value} removed")
    if current:
        new[key] = current
    else:
        new.pop(key, None)
    return said


def _retitle(new: IncidentData, iid: str, title: str) -> str:
    """Set the new title in place; what changed."""
    if not title.strip():
        raise TransitionRefused(
            "--title: the title must not be empty; say what users see is broken"
        )
    if title.strip() == new.get("title"):
        raise TransitionRefused(f"{iid} is titled {title.strip()!r} already")
    said = f"Title changed from {new.get('title')!r} to {title.strip()!r}"
    new["title"] = title.strip()
    return said


def _change_visibility(new: IncidentData, iid: str, public: bool) -> str:
    """Make the incident public or private in place; what changed."""
    if public:
        if new.get("public", True) is True:
            raise TransitionRefused(f"{iid} is public already")
        new.pop("public", None)
        return "Made public: shown on the status page once it has a public update"
    if new.get("public") is False:
        raise TransitionRefused(f"{iid} is private already")
    new["public"] = False
    return "Made private: kept off the status page"


def _correctable(record: IncidentData, event: Event, ref: str) -> tuple[str, dict[str, Any]]:
    try:
        key, entry = refs.find(record, ref)
    except RefusedError as exc:
        raise TransitionRefused(exc.message) from None
    name = entry["ref"]
    if key == "timeline" and entry.get("kind") not in NOTE_KINDS:
        raise TransitionRefused(
            f"{name} ({entry.get('kind')}) was written by the tool; only notes and public "
            "updates can be corrected"
        )
    retracted = entry.get("retracted")
    if isinstance(retracted, dict):
        raise TransitionRefused(
            f"{name} was retracted already ({retracted.get('at')}, by {retracted.get('actor')})"
        )
    at = entry.get("at")
    if isinstance(at, str) and event.at < parse_time(at):
        raise TransitionRefused(f"--at {format_time(event.at)} is before {name} itself ({at})")
    return key, entry


def amend(record: IncidentData, event: Event, ref: str, message: str) -> Change:
    """Correct the text of a note or a public update; git keeps the original."""
    if not message.strip():
        raise TransitionRefused("--message: the corrected text needs some words")
    new = _begin(record, event, "amend")
    key, entry = _correctable(new, event, ref)
    field_name = "message" if key == "updates" else "text"
    if entry.get(field_name) == message.strip():
        raise TransitionRefused(f"--message is the same as {entry['ref']}'s text; nothing to amend")
    entry[field_name] = message.strip()
    entry["amended"] = {"at": format_time(event.at), "actor": event.actor}
    name = entry["ref"]
    note = _timeline(new, event, "amended", f"Amended {name}")
    note["refers_to"] = name
    return Change(new, "amend", _subject(new, f"amended {name}"))


def retract(record: IncidentData, event: Event, ref: str, reason: str) -> Change:
    """Withdraw a note or a public update: a retracted update leaves every public output;
    the entry stays in the record, marked with who withdrew it, when and why."""
    if not reason.strip():
        raise TransitionRefused("--reason: say why it is withdrawn")
    new = _begin(record, event, "retract")
    key, entry = _correctable(new, event, ref)
    entry["retracted"] = {
        "at": format_time(event.at),
        "actor": event.actor,
        "reason": reason.strip(),
    }
    name = entry["ref"]
    note = _timeline(new, event, "retracted", f"Retracted {name}: {reason.strip()}")
    note["refers_to"] = name
    if key == "updates":
        # a component the update brought onto the incident leaves with it, unless a
        # standing update names it too
        still_named = {c for u in posted_updates(new) for c in u.get("components") or {}}
        scope_texts = {
            str(e.get("text", ""))
            for e in new.get("timeline") or []
            if e.get("kind") == "scope" and e.get("refers_to") == name
        }
        brought = {
            c
            for c in entry.get("components") or {}
            if any(t.startswith(f"Component {c} added") for t in scope_texts)
        }
        current = new.get("components") or []
        for component in [c for c in current if c in brought and c not in still_named]:
            current.remove(component)
            _timeline(
                new,
                event,
                "scope",
                f"Component {component} removed (its public update {name} was retracted)",
            )
        if not current:
            new.pop("components", None)
    return Change(new, "retract", _subject(new, f"retracted {name}"))
