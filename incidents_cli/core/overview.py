"""Reading incidents for people: list and show, with durations and response-window breaches.

Pure: the records come from the record cache (record_cache.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from incidents_cli.core.alerts import COLLECTING_PHASES, record_alert_state
from incidents_cli.core.settings import Settings
from incidents_cli.core.timeutil import (
    TimeFormatError,
    format_duration,
    format_local,
    format_time,
    maybe_time,
    parse_time,
)
from incidents_cli.core.vocabulary import OPEN_PHASES


def usable(data: dict[str, Any]) -> bool:
    try:
        parse_time(str(data.get("detected_at")))
    except TimeFormatError:
        return False
    return isinstance(data.get("id"), str) and isinstance(data.get("phase"), str)


def _time(record: dict[str, Any], name: str) -> datetime | None:
    return maybe_time(record.get(name))


@dataclass(frozen=True)
class View:
    """An incident with what a responder wants computed: durations and breaches."""

    record: dict[str, Any]
    as_of: datetime
    ack_window: timedelta | None
    time_to_ack: timedelta | None
    time_to_resolve: timedelta | None
    open_for: timedelta
    ack_breach: str | None
    monitors: str | None = None
    """What the incident's alert group says now: None without one, else "green" or
    "firing in REGIONS"."""

    @property
    def id(self) -> str:
        return str(self.record["id"])

    def computed(self) -> dict[str, Any]:
        def seconds(value: timedelta | None) -> int | None:
            return int(value.total_seconds()) if value is not None else None

        return {
            "as_of": format_time(self.as_of),
            "ack_within_seconds": seconds(self.ack_window),
            "time_to_acknowledge_seconds": seconds(self.time_to_ack),
            "time_to_resolve_seconds": seconds(self.time_to_resolve),
            "open_seconds": seconds(self.open_for),
            "ack_breach": self.ack_breach,
            "monitors_green": None if self.monitors is None else self.monitors == "green",
        }


def view(record: dict[str, Any], settings: Settings, as_of: datetime) -> View:
    detected = _time(record, "detected_at") or as_of
    acknowledged = _time(record, "acknowledged_at")
    resolved = _time(record, "resolved_at")
    closed = _time(record, "closed_at")
    level, window, assumed = settings.response_window(record.get("severity"))
    over = f"over the {format_duration(window)} window"
    if assumed:  # as `escalations` judges it
        over += f" ({level}'s: severity unset)"
    breach = None
    if acknowledged is not None and acknowledged - detected > window:
        breach = f"acknowledged {format_duration(acknowledged - detected)} after detection, {over}"
    elif acknowledged is None and as_of - detected > window:
        breach = f"unacknowledged for {format_duration(as_of - detected)}, {over}"
    end = resolved or closed or as_of
    state = record_alert_state(record)
    monitors = None
    if state is not None and state.fingerprints:
        firing = [f.region or f.fingerprint for f in state.firing]
        monitors = "green" if not firing else "firing in " + ", ".join(dict.fromkeys(firing))
    return View(
        record=record,
        as_of=as_of,
        ack_window=window,
        time_to_ack=acknowledged - detected if acknowledged else None,
        time_to_resolve=resolved - detected if resolved else None,
        open_for=end - detected,
        ack_breach=breach,
        monitors=monitors,
    )


def select(
    records: Sequence[dict[str, Any]],
    *,
    phases: Sequence[str] = (),
    severities: Sequence[str] = (),
    components: Sequence[str] = (),
    include_closed: bool = False,
    since: datetime | None = None,
) -> list[dict[str, Any]]:
    out = []
    for record in records:
        phase = record.get("phase")
        if phases and phase not in phases:
            continue
        if not phases and not include_closed and phase not in OPEN_PHASES:
            continue
        if severities and record.get("severity") not in severities:
            continue
        if components and not set(components) & set(record.get("components") or []):
            continue
        detected = _time(record, "detected_at")
        if since is not None and (detected is None or detected < since):
            continue
        out.append(record)
    return sorted(out, key=lambda r: (str(r.get("detected_at")), str(r.get("id"))), reverse=True)


# --- text for people -----------------------------------------------------------------------


def list_text(views: Sequence[View], zone: str = "UTC") -> str:
    """The table of ``list``; DETECTED in the team's time zone with its offset (``zone``)."""
    if not views:
        return "No incidents match.\n"
    rows = [("ID", "SEVERITY", "PHASE", "DETECTED", "OPEN FOR", "COMMANDER", "TITLE")]
    for item in views:
        record = item.record
        title = str(record.get("title", ""))
        if item.ack_breach:
            title += f"  [ACK LATE: {item.ack_breach}]"
        if item.monitors == "green" and record.get("phase") in COLLECTING_PHASES:
            title += "  [monitors green]"
        detected = maybe_time(record.get("detected_at"))
        rows.append(
            (
                item.id,
                str(record.get("severity") or "unset"),
                str(record.get("phase")),
                format_local(detected, zone, seconds=False) if detected else "-",
                format_duration(item.open_for),
                str((record.get("roles") or {}).get("commander") or "-"),
                title,
            )
        )
    last = len(rows[0]) - 1
    widths = [max(len(row[i]) for row in rows) for i in range(last)]
    lines = []
    for row in rows:
        cells = [row[i].ljust(widths[i]) for i in range(last)]
        lines.append("  ".join([*cells, row[last]]).rstrip())
    return "\n".join(lines) + "\n"


def _correction(entry: dict[str, Any], when: Callable[[Any], str]) -> str:
    """How `show` marks an amended or retracted entry."""
    retracted = entry.get("retracted")
    if isinstance(retracted, dict):
        return (
            f"  [RETRACTED {when(retracted.get('at'))} by {retracted.get('actor')}: "
            f"{retracted.get('reason')}]"
        )
    amended = entry.get("amended")
    if isinstance(amended, dict):
        return f"  [amended {when(amended.get('at'))} by {amended.get('actor')}]"
    return ""


def show_text(item: View, settings: Settings, utc: bool = False) -> str:
    """One incident for people; times in the team's time zone with the offset (``utc``:
    in UTC, as stored)."""
    record = item.record
    zone = "UTC" if utc else settings.timezone

    def when(value: Any) -> str:
        moment = maybe_time(value)
        return format_local(moment, zone) if moment is not None else "-"

    detected = maybe_time(record.get("detected_at"))

    def after(value: Any) -> str:
        """How long after detection: ``(+12m)``, the way a responder reads a timeline."""
        moment = maybe_time(value)
        if moment is None or detected is None or moment < detected:
            return ""
        return f"  (+{format_duration(moment - detected)})"

    names = {c.id: c.name for c in settings.components}
    lines = [
        *_header_lines(item, settings, names),
        *_time_lines(item, when),
        *_state_lines(item, zone),
        *_update_lines(record, names, when, after),
        *_timeline_lines(record, when, after),
    ]
    return "\n".join(lines) + "\n"


def _header_lines(item: View, settings: Settings, names: dict[str, str]) -> list[str]:
    """Title, facts, summary, scope, roles and how to reach the people in them."""
    record = item.record
    lines = [f"{item.id}  {record.get('title', '')}"]
    facts = [
        str(record.get("severity") or "severity unset"),
        str(record.get("phase")),
        f"source {record.get('source')}",
    ]
    if record.get("public") is False:
        facts.append("not public")
    lines.append("  " + " · ".join(facts))
    if record.get("summary"):
        lines.append(f"  {record['summary']}")
    components = [names.get(c, c) for c in record.get("components") or []]
    if components:
        lines.append(f"  Components:  {', '.join(components)}")
    if record.get("regions"):
        lines.append(f"  Regions:     {', '.join(record['regions'])}")
    roles = record.get("roles") or {}
    lines.append(
        f"  Commander:   {roles.get('commander') or '- (none yet)'}"
        f"    Comms: {roles.get('communications') or '-'}"
        f"    Responders: {', '.join(roles.get('responders') or []) or '-'}"
    )
    holders = [roles.get("commander"), roles.get("communications"), *roles.get("responders", [])]
    holders = [h for h in holders if isinstance(h, str)]
    reach = [
        f"{h} ({settings.reach(h)})" for h in dict.fromkeys(holders) if h and settings.reach(h)
    ]
    if reach:
        lines.append(f"  Reach:       {'; '.join(reach)}")
    return lines


def _time_lines(item: View, when: Callable[[Any], str]) -> list[str]:
    """The phase times, with time to acknowledge and to resolve, and a breached window."""
    record = item.record
    lines = [""]
    lines.append(f"  Detected      {when(record.get('detected_at'))}")
    ack = when(record.get("acknowledged_at"))
    if item.time_to_ack is not None:
        ack += f"  (after {format_duration(item.time_to_ack)})"
    lines.append(f"  Acknowledged  {ack}")
    resolved = when(record.get("resolved_at"))
    if item.time_to_resolve is not None:
        resolved += f"  (after {format_duration(item.time_to_resolve)})"
    lines.append(f"  Resolved      {resolved}")
    lines.append(f"  Closed        {when(record.get('closed_at'))}")
    if item.ack_breach:
        lines.append(f"  ! Response window breached: {item.ack_breach}")
    return lines


def _state_lines(item: View, zone: str) -> list[str]:
    """Monitors, the alert link, how long it is open, resolution, runbooks and postmortem."""
    record = item.record
    lines: list[str] = []
    if item.monitors == "green":
        lines.append(
            "  Monitors:     every alert of the group is resolved"
            + (
                "; verify recovery, then resolve --verified-in"
                if record.get("phase") in COLLECTING_PHASES
                else ""
            )
        )
    elif item.monitors is not None:
        lines.append(f"  Monitors:     still {item.monitors}")
    alert = record.get("alert")
    if isinstance(alert, dict) and alert.get("url"):
        lines.append(f"  Alert link:   {alert['url']}")
    if record.get("phase") in OPEN_PHASES and not record.get("resolved_at"):
        lines.append(
            f"  Open for {format_duration(item.open_for)} as of {format_local(item.as_of, zone)}"
        )
    resolution = record.get("resolution")
    if isinstance(resolution, dict):
        lines.append(f"  Resolution:   {resolution.get('action')}: {resolution.get('summary')}")
        if resolution.get("workaround"):
            lines.append(f"  Workaround; follow-up: {resolution.get('follow_up')}")
    if record.get("runbooks"):
        lines.append(f"  Runbooks used: {', '.join(record['runbooks'])}")
    if record.get("postmortem"):
        lines.append(f"  Postmortem:   {record['postmortem']}")
    return lines


def _update_lines(
    record: dict[str, Any],
    names: dict[str, str],
    when: Callable[[Any], str],
    after: Callable[[Any], str],
) -> list[str]:
    """The public updates, newest first."""
    lines: list[str] = []
    updates = record.get("updates") or []
    if updates:
        lines.append("")
        lines.append("Public updates (newest first):")
        for update in reversed(updates):
            eta = f"  (ETA {when(update.get('eta'))})" if update.get("eta") else ""
            lines.append(
                f"  {update.get('ref', '-'):<4} {when(update.get('at'))}{after(update.get('at'))}"
                f"  {update.get('status')}{eta}{_correction(update, when)}"
            )
            lines.append(f"      {update.get('message')}")
            for component, status in (update.get("components") or {}).items():
                lines.append(f"      {names.get(component, component)}: {status}")
    return lines


def _timeline_lines(
    record: dict[str, Any], when: Callable[[Any], str], after: Callable[[Any], str]
) -> list[str]:
    """The timeline, oldest first, with evidence."""
    lines: list[str] = []
    timeline = record.get("timeline") or []
    if timeline:
        lines.append("")
        lines.append("Timeline:")
        for entry in timeline:
            lines.append(
                f"  {entry.get('ref', '-'):<4} {when(entry.get('at'))}{after(entry.get('at'))}  "
                f"{entry.get('actor')}  [{entry.get('kind')}]  {entry.get('text')}"
                f"{_correction(entry, when)}"
            )
            for ref in entry.get("evidence") or []:
                lines.append(f"      evidence: {ref}")
    return lines
