"""Cadence: open incidents whose public updates have gone quiet.

Pure: takes incident records, the settings' ``update_every`` and ``ack_within`` per severity,
and "now". An incident is quiet when its last public update is older than its severity's
``update_every``; a critical or high incident is also quiet when nothing was said in public
at all once its acknowledgment window has passed. Exactly at the limit is not yet quiet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from incidents_cli.core.timeutil import format_duration, format_time, maybe_time
from incidents_cli.core.vocabulary import PHASES, RESOLVED_PHASES

MUST_SPEAK = ("critical", "high")
"""Severities that must say something in public once their ack window has passed."""
UNRESOLVED_PHASES = tuple(p for p in PHASES if p not in RESOLVED_PHASES)
"""Where an incident still owes the public updates: before it is resolved."""


@dataclass(frozen=True)
class Quiet:
    incident: str
    title: str
    severity: str
    since: datetime
    """The last public update, or (none yet) the end of the ack window."""
    every: timedelta
    waiting: timedelta
    never_updated: bool
    path: str = ""
    line: int = 0

    def describe(self) -> str:
        if self.never_updated:
            return (
                f"{self.incident} {self.severity}: no public update yet, "
                f"{format_duration(self.waiting)} after its ack window closed"
            )
        return (
            f"{self.incident} {self.severity}: last public update "
            f"{format_duration(self.waiting)} ago (expected every {format_duration(self.every)})"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "incident": self.incident,
            "title": self.title,
            "severity": self.severity,
            "since": format_time(self.since),
            "update_every_seconds": int(self.every.total_seconds()),
            "waiting_seconds": int(self.waiting.total_seconds()),
            "never_updated": self.never_updated,
            "path": self.path,
            "line": self.line,
        }


def quiet_incidents(
    incidents: Iterable[tuple[str, int, Mapping[str, Any]]],
    update_every: Mapping[str, timedelta],
    ack_within: Mapping[str, timedelta],
    as_of: datetime,
) -> list[Quiet]:
    """(path, line, record) in; the quiet ones out, oldest silence first."""
    out = []
    for path, line, record in incidents:
        found = _quiet(path, line, record, update_every, ack_within, as_of)
        if found is not None:
            out.append(found)
    return sorted(out, key=lambda q: (q.since, q.incident))


def _quiet(
    path: str,
    line: int,
    record: Mapping[str, Any],
    update_every: Mapping[str, timedelta],
    ack_within: Mapping[str, timedelta],
    as_of: datetime,
) -> Quiet | None:
    """The incident's silence if it is owed the public an update, else None."""
    if record.get("phase") not in UNRESOLVED_PHASES or record.get("public") is False:
        # resolved, or never to be on the status page: nothing is owed to the public
        return None
    severity = str(record.get("severity") or "")
    detected = maybe_time(record.get("detected_at"))
    if detected is None or detected > as_of:
        return None
    times = _update_times(record, as_of)
    every = update_every.get(severity)
    if times:
        if every is None:
            return None
        since = max(times)
        never = False
    elif severity in MUST_SPEAK and severity in ack_within:
        since = detected + ack_within[severity]
        every = every or ack_within[severity]
        never = True
    else:
        return None
    waiting = as_of - since
    if (never and waiting <= timedelta(0)) or (not never and waiting <= every):
        return None
    return Quiet(
        incident=str(record.get("id")),
        title=str(record.get("title", "")),
        severity=severity,
        since=since,
        every=every,
        waiting=waiting,
        never_updated=never,
        path=path,
        line=line,
    )


def _update_times(record: Mapping[str, Any], as_of: datetime) -> list[datetime]:
    """When the public updates that stand were posted, up to ``as_of``."""
    return [
        t
        for t in (
            maybe_time(u.get("at"))
            for u in record.get("updates") or []
            if isinstance(u, dict) and not u.get("retracted")  # withdrawn: never said
        )
        if t is not None and t <= as_of
    ]
