"""Escalation: incidents nobody acknowledged within their severity's window, and who is next.

Pure: takes incident records, the settings, the schedule (if any) and "now".

The tiers (oncall.yaml's ``escalation``: primary, secondary, further ``tiers``) are resolved
as they stood when the incident was detected: those are the people responsible for it, and
the path does not change under a responder's feet at a hand-off. Each missed response window
reaches one tier more. A person who was paged and did not answer is never paged again, so a
tier that would page only people already paged is skipped; past the last tier the
escalation stays there, and says so.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from incidents_cli.core.findings import Finding, report_github
from incidents_cli.core.oncall import Schedule, Tier, on_call, primary_at
from incidents_cli.core.settings import Settings
from incidents_cli.core.timeutil import TimeFormatError, format_duration, format_time, parse_time


@dataclass(frozen=True)
class Escalation:
    incident: str
    title: str
    severity: str
    assumed_severity: bool
    detected: datetime
    window: timedelta
    waiting: timedelta
    primary: str | None
    escalate_to: tuple[str, ...]  # the people the tier reached pages (none paged before)
    tier: Tier | None  # the tier reached (None: nobody left to page)
    last_tier: bool  # no tier after this one: the escalation stays here
    path: str
    line: int
    reach: dict[str, str] = field(default_factory=dict)  # handle -> how to reach them

    def as_dict(self) -> dict[str, Any]:
        return {
            "incident": self.incident,
            "title": self.title,
            "severity": self.severity,
            "severity_assumed": self.assumed_severity,
            "detected_at": format_time(self.detected),
            "ack_within_seconds": int(self.window.total_seconds()),
            "unacknowledged_seconds": int(self.waiting.total_seconds()),
            "primary_at_detection": self.primary,
            "escalate_to": ", ".join(self.escalate_to) or None,
            "escalate_to_people": list(self.escalate_to),
            "tier": self.tier.number if self.tier else None,
            "tier_name": self.tier.name if self.tier else None,
            "last_tier": self.last_tier,
            "contacts": {p: self.reach[p] for p in self.escalate_to if self.reach.get(p)},
            "path": self.path,
            "line": self.line,
        }

    def describe(self) -> str:
        severity = (
            f"{self.severity} (assumed: severity unset)"
            if self.assumed_severity
            else (self.severity)
        )
        return (
            f"{self.incident} {severity} unacknowledged for {format_duration(self.waiting)} "
            f"(window {format_duration(self.window)}); primary at detection: "
            f"{self.primary or 'unknown'}; {self.target()}"
        )

    def target(self) -> str:
        """Who is next, at which tier, and how to reach them."""
        if self.tier is None:
            return (
                "nobody else to page (add a secondary or further tiers to oncall.yaml)"
                if self.last_tier
                else "escalate to nobody (no secondary tier in oncall.yaml)"
            )
        where = f"tier {self.tier.number}, {self.tier.name}"
        if self.last_tier:
            where += ": the last tier, it stays here"
        text = f"escalate to {', '.join(self.escalate_to)} ({where})"
        reach = [f"{p} {self.reach[p]}" for p in self.escalate_to if self.reach.get(p)]
        return f"{text}; reach {'; '.join(reach)}" if reach else text


@dataclass(frozen=True)
class Step:
    """One escalation: the tier reached and the people it pages (none paged before)."""

    tier: Tier
    people: tuple[str, ...]


def paged_by(tier: Tier, schedule: Schedule, moment: datetime) -> tuple[str, ...]:
    """Who ``tier`` pages at ``moment``: its named people, then its rotation's."""
    found = list(tier.people)
    if tier.rotation is not None and tier.rotation in schedule.rotations:
        if tier.everyone:
            found += schedule.rotations[tier.rotation].members
        else:
            who = on_call(schedule, tier.rotation, moment, tier.offset)
            if who.person is not None:
                found.append(who.person)
    return tuple(dict.fromkeys(found))  # each person once, in order


def escalation_path(
    tiers: Sequence[Tier], schedule: Schedule, detected: datetime, primary: str | None
) -> list[Step]:
    """The tiers after the primary as they stood at ``detected``, each paging only people
    not paged before (``primary``: who was paged first and did not answer)."""
    paged = {primary} if primary else set()
    if primary is None and tiers and tiers[0].number == 1:
        paged.update(paged_by(tiers[0], schedule, detected))
    path = []
    for tier in tiers:
        if tier.number == 1:
            continue
        fresh = tuple(p for p in paged_by(tier, schedule, detected) if p not in paged)
        if fresh:
            path.append(Step(tier, fresh))
            paged.update(fresh)
    return path


def step_after(path: Sequence[Step], windows_missed: int) -> tuple[Step | None, bool]:
    """The step reached after ``windows_missed`` response windows without an answer (1: the
    first escalation), and whether it is the last one there is (where it stays)."""
    if not path or windows_missed < 1:
        return None, not path
    index = min(windows_missed, len(path)) - 1
    return path[index], windows_missed >= len(path)


def escalations(
    incidents: Sequence[tuple[str, int, dict[str, Any]]],
    settings: Settings,
    schedule: Schedule | None,
    as_of: datetime,
) -> list[Escalation]:
    """(path, line of detected_at, record) of each incident in, overdue escalations out."""
    out = []
    for path, line, record in incidents:
        found = _escalation(path, line, record, settings, schedule, as_of)
        if found is not None:
            out.append(found)
    return sorted(out, key=lambda e: (e.detected, e.incident))


def _escalation(
    path: str,
    line: int,
    record: dict[str, Any],
    settings: Settings,
    schedule: Schedule | None,
    as_of: datetime,
) -> Escalation | None:
    """The incident's overdue escalation, or None when it is acknowledged or within its window."""
    if record.get("phase") != "detected":
        return None
    try:
        detected = parse_time(str(record.get("detected_at")))
    except TimeFormatError:
        return None
    level, window, assumed = settings.response_window(record.get("severity"))
    waiting = as_of - detected
    if waiting <= window:
        return None
    # Past one window: the first tier after the primary; each further window one more.
    missed = math.ceil(waiting / window) - 1
    primary, step, last = _next_step(schedule, record.get("primary_at_detection"), detected, missed)
    return Escalation(
        incident=str(record.get("id")),
        title=str(record.get("title", "")),
        severity=level,
        assumed_severity=assumed,
        detected=detected,
        window=window,
        waiting=waiting,
        primary=str(primary) if primary else None,
        escalate_to=step.people if step else (),
        tier=step.tier if step else None,
        last_tier=last,
        path=path,
        line=line,
        reach={p: settings.reach(p) for p in (step.people if step else ())},
    )


def _next_step(
    schedule: Schedule | None, primary: Any, detected: datetime, missed: int
) -> tuple[Any, Step | None, bool]:
    """The primary (from the schedule when the record names none), the step to escalate to
    after ``missed`` windows, and whether it is the last tier."""
    step: Step | None = None
    last = False
    if schedule is not None:
        if not primary:
            who = primary_at(schedule, detected)
            primary = who.person if who else None
        path_ = escalation_path(schedule.tiers, schedule, detected, primary or None)
        step, last = step_after(path_, missed)
        if step is None and not any(t.number > 1 for t in schedule.tiers):
            last = False  # no tier after the primary at all: say that, not "nobody else"
    return primary, step, last


def text(found: Sequence[Escalation]) -> str:
    if not found:
        return "No incident is waiting for an acknowledgment past its window.\n"
    return "".join(f"{item.describe()}  ({item.path}:{item.line})\n" for item in found)


def json_text(found: Sequence[Escalation]) -> str:
    import json

    return json.dumps([e.as_dict() for e in found], indent=2) + "\n"


def github_text(found: Sequence[Escalation]) -> str:
    return report_github(
        [Finding(e.path, e.line, 1, "Unacknowledged incident", e.describe()) for e in found]
    )


# `incidents escalations --format`: each turns the escalations into the text printed.
FORMATS_BY_NAME: dict[str, Callable[[Sequence[Escalation]], str]] = {
    "text": text,
    "json": json_text,
    "github": github_text,
}
