"""Escalation: incidents nobody acknowledged within their severity's window, and who is next.

Pure: takes incident records, the settings, the schedule (if any) and "now".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from incidents_cli.core.findings import Finding, report_github
from incidents_cli.core.oncall import Schedule, primary_at, secondary_at
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
    escalate_to: str | None
    tier: int  # 1: the secondary; 2: the tier after it; ...
    path: str
    line: int

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
            "escalate_to": self.escalate_to,
            "tier": self.tier,
            "path": self.path,
            "line": self.line,
        }

    def describe(self) -> str:
        severity = (
            f"{self.severity} (assumed: severity unset)"
            if self.assumed_severity
            else (self.severity)
        )
        target = self.escalate_to or "nobody (no secondary tier in oncall.yaml)"
        return (
            f"{self.incident} {severity} unacknowledged for {format_duration(self.waiting)} "
            f"(window {format_duration(self.window)}); primary at detection: "
            f"{self.primary or 'unknown'}; escalate to {target}"
            + (f" (tier {self.tier + 1})" if self.tier > 1 else "")
        )


def escalations(
    incidents: Sequence[tuple[str, int, dict[str, Any]]],
    settings: Settings,
    schedule: Schedule | None,
    as_of: datetime,
) -> list[Escalation]:
    """(path, line of detected_at, record) of each incident in, overdue escalations out."""
    out = []
    for path, line, record in incidents:
        if record.get("phase") != "detected":
            continue
        try:
            detected = parse_time(str(record.get("detected_at")))
        except TimeFormatError:
            continue
        severity = record.get("severity")
        assumed = severity not in settings.ack_within
        level = "critical" if assumed else str(severity)
        window = settings.ack_within[level]
        waiting = as_of - detected
        if waiting <= window:
            continue
        # Past one window: the secondary (tier 1); each further window reaches one tier more.
        tier = math.ceil(waiting / window) - 1
        primary = record.get("primary_at_detection")
        target = None
        if schedule is not None:
            if not primary:
                who = primary_at(schedule, detected)
                primary = who.person if who else None
            next_tier = secondary_at(schedule, detected, extra=tier - 1)
            target = next_tier.person if next_tier else None
        out.append(
            Escalation(
                incident=str(record.get("id")),
                title=str(record.get("title", "")),
                severity=level,
                assumed_severity=assumed,
                detected=detected,
                window=window,
                waiting=waiting,
                primary=str(primary) if primary else None,
                escalate_to=target,
                tier=tier,
                path=path,
                line=line,
            )
        )
    return sorted(out, key=lambda e: (e.detected, e.incident))


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
