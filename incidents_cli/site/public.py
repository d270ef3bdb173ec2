"""The public view of an incident and of a maintenance window: the one function that
decides what of a record may be published.

Pure: it reads only the public fields of a record (title, severity as impact, components,
public updates, and a postmortem's public summary when it is published and public); nothing
else can reach the site, the API, the feeds or a public notification, because nothing else is
copied.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from incidents_cli.core import refs
from incidents_cli.core.records import is_incident_id
from incidents_cli.core.timeutil import maybe_time as _time
from incidents_cli.core.vocabulary import RESOLVED_PHASES
from incidents_cli.site.i18n import N_

STATUS_RANK = {
    "operational": 0,
    "under_maintenance": 1,
    "degraded_performance": 2,
    "partial_outage": 3,
    "major_outage": 4,
}
STATUS_LABEL = {
    "operational": N_("Operational"),
    "under_maintenance": N_("Under maintenance"),
    "degraded_performance": N_("Degraded performance"),
    "partial_outage": N_("Partial outage"),
    "major_outage": N_("Major outage"),
}
IMPACT_OF_SEVERITY = {"critical": "critical", "high": "major", "medium": "minor", "low": "minor"}
STATUS_OF_SEVERITY = {
    "critical": "major_outage",
    "high": "partial_outage",
    "medium": "degraded_performance",
    "low": "degraded_performance",
}
IMPACT_RANK = {"none": 0, "maintenance": 1, "minor": 2, "major": 3, "critical": 4}
INDICATOR_DESCRIPTION = {
    "none": "All Systems Operational",
    "maintenance": "Service Under Maintenance",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major System Outage",
}
HISTORY_DAYS = 90
UPDATE_STATUS_LABEL = {
    "investigating": N_("Investigating"),
    "identified": N_("Identified"),
    "monitoring": N_("Monitoring"),
    "resolved": N_("Resolved"),
    "postmortem": N_("Postmortem"),
}


@dataclass(frozen=True)
class PublicUpdate:
    number: int
    at: datetime
    status: str
    message: str
    components: dict[str, str]
    eta: datetime | None


@dataclass(frozen=True)
class PublicIncident:
    """Only what may be published about an incident."""

    id: str
    title: str
    impact: str
    severity_status: str
    components: tuple[str, ...]
    started: datetime
    resolved: datetime | None
    updates: tuple[PublicUpdate, ...]
    postmortem_summary: str | None
    postmortem_at: datetime | None
    latest: tuple[datetime, int]
    """Time and number of the newest update (what the feed orders by)."""
    touched: frozenset[str]
    """Every component the incident or one of its updates names (what a component's feed
    and history select by)."""

    @property
    def active(self) -> bool:
        return self.resolved is None

    @property
    def status(self) -> str:
        if self.postmortem_summary is not None and self.resolved is not None:
            return "postmortem"
        if self.resolved is not None:
            return "resolved"
        return self.updates[-1].status

    @property
    def updated(self) -> datetime:
        times = [u.at for u in self.updates]
        times += [t for t in (self.resolved, self.postmortem_at) if t is not None]
        return max(times)

    @property
    def monitoring(self) -> datetime | None:
        for update in self.updates:
            if update.status == "monitoring":
                return update.at
        return None

    def worst_status(self, component: str) -> str:
        """The worst status an update gave ``component`` (what its 90-day bars show)."""
        return self.component_status(component, latest=False)

    def status_changes(self) -> list[tuple[tuple[str, ...], datetime]]:
        """When the incident changed the status of which components: its start and end,
        each update (those it names, else the incident's)."""
        changes = [(self.components, self.started)]
        changes += [(tuple(u.components) or self.components, u.at) for u in self.updates]
        if self.resolved is not None:
            changes.append((self.components, self.resolved))
        return changes

    def component_status(self, component: str, *, latest: bool) -> str:
        """The status an update gave ``component``: the latest one, or the worst one."""
        seen = [u.components[component] for u in self.updates if component in u.components]
        seen = [s for s in seen if s != "operational"] if not latest else seen
        if latest and seen:
            return seen[-1]
        if seen:
            return max(seen, key=STATUS_RANK.__getitem__)
        return self.severity_status


def may_be_public(record: dict[str, Any]) -> bool:
    """Whether an incident may be shown in public at all: only a literal true (or none)."""
    return record.get("public", True) is True


def public_incident(
    record: dict[str, Any], postmortem: dict[str, Any] | None = None
) -> PublicIncident | None:
    """The public view of a record, or None if it is not to be published (yet)."""
    if not may_be_public(record):
        return None
    started = _time(record.get("detected_at"))
    if started is None or not is_incident_id(record.get("id")):  # ids become file names
        return None
    updates = _public_updates(record)
    if not updates:
        return None  # nothing was said in public yet: the page says nothing either
    severity = str(record.get("severity") or "")
    resolved = _time(record.get("resolved_at")) if record.get("phase") in RESOLVED_PHASES else None
    if record.get("phase") in RESOLVED_PHASES and resolved is None:
        resolved = updates[-1].at
    summary, summary_at = _public_summary(postmortem)
    ordered = tuple(sorted(updates, key=lambda u: (u.at, u.number)))
    return PublicIncident(
        id=record["id"],
        title=str(record.get("title", record["id"])),
        impact=IMPACT_OF_SEVERITY.get(severity, "minor"),
        severity_status=STATUS_OF_SEVERITY.get(severity, "degraded_performance"),
        components=tuple(str(c) for c in record.get("components") or []),
        started=started,
        resolved=resolved,
        updates=ordered,
        postmortem_summary=summary,
        postmortem_at=summary_at,
        latest=(ordered[-1].at, ordered[-1].number),
        touched=frozenset(
            [str(c) for c in record.get("components") or []]
            + [c for u in ordered for c in u.components]
        ),
    )


def _public_updates(record: dict[str, Any]) -> list[PublicUpdate]:
    """The record's public updates that stand (not retracted), in the record's order."""
    updates = []
    for position, raw in enumerate(record.get("updates") or [], start=1):
        at = _time(raw.get("at")) if isinstance(raw, dict) else None
        if at is None or not isinstance(raw.get("message"), str) or raw.get("retracted"):
            continue  # a retracted update is withdrawn from every public output
        # the number of its reference (U3: 3), so anchors and feed ids never move
        number = refs.number(raw.get("ref")) or position
        components = raw.get("components") if isinstance(raw.get("components"), dict) else {}
        updates.append(
            PublicUpdate(
                number=number,
                at=at,
                status=str(raw.get("status")),
                message=raw["message"],
                components={str(k): str(v) for k, v in components.items()},
                eta=_time(raw.get("eta")),
            )
        )
    return updates


def _public_summary(postmortem: dict[str, Any] | None) -> tuple[str | None, datetime | None]:
    """The postmortem's public summary and when it was published, if it is published and
    meant for the public."""
    summary = None
    summary_at = None
    if (
        postmortem is not None
        and postmortem.get("status") == "published"
        and postmortem.get("public") is True
        and isinstance(postmortem.get("public_summary"), str)
        and postmortem["public_summary"].strip()
    ):
        summary = postmortem["public_summary"]
        summary_at = _time(postmortem.get("published_at"))
    return summary, summary_at


def _stamp(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _unstamp(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text is not None else None


def incident_to_data(view: PublicIncident) -> dict[str, Any]:
    """A public view as plain JSON data (for the cache): exact, including microseconds."""
    return {
        "id": view.id,
        "title": view.title,
        "impact": view.impact,
        "severity_status": view.severity_status,
        "components": list(view.components),
        "started": _stamp(view.started),
        "resolved": _stamp(view.resolved),
        "updates": [
            [u.number, _stamp(u.at), u.status, u.message, u.components, _stamp(u.eta)]
            for u in view.updates
        ],
        "postmortem_summary": view.postmortem_summary,
        "postmortem_at": _stamp(view.postmortem_at),
        "latest": [_stamp(view.latest[0]), view.latest[1]],
        "touched": sorted(view.touched),
    }


def incident_fields_from_data(data: dict[str, Any]) -> dict[str, Any]:
    """The fields of a public view from ``incident_to_data``'s output."""
    return {
        **data,
        "components": tuple(data["components"]),
        "started": _unstamp(data["started"]),
        "resolved": _unstamp(data["resolved"]),
        "updates": tuple(
            PublicUpdate(n, _unstamp(at), status, message, components, _unstamp(eta))  # type: ignore[arg-type]
            for n, at, status, message, components, eta in data["updates"]
        ),
        "postmortem_at": _unstamp(data["postmortem_at"]),
        "latest": (_unstamp(data["latest"][0]), data["latest"][1]),
        "touched": frozenset(data["touched"]),
    }


@dataclass(frozen=True)
class Maintenance:
    """One maintenance window; a recurring record gives one per occurrence."""

    id: str
    title: str
    start: datetime
    end: datetime
    components: tuple[str, ...]
    message: str
    series: str = ""  # the record's id; equal to ``id`` for a one-off window
    cancelled: bool = False  # called off (the record, or this one occurrence)
    recurrence: str = ""  # the record's rule, as RFC 5545 writes it
    updates: tuple[tuple[int, datetime, str], ...] = ()
    """Public updates posted about the window: (number, when, message), oldest first."""

    def state(self, now: datetime) -> str:
        if now < self.start:
            return "scheduled"
        if now < self.end:
            return "in_progress"
        return "completed"


def maintenance_windows(record: dict[str, Any], timezone: str = "UTC") -> list[Maintenance]:
    """The public view of a maintenance record: its windows, cancelled ones included (the
    calendar says they were called off; the page and the API leave them out).

    A recurring record (``recurrence``, an RRULE subset: core/recurrence.py) gives one window
    per occurrence, each as long as the record's, with its own id (the record's and the
    occurrence's date); ``cancelled_occurrences`` calls single occurrences off by their start
    time. A rule that does not parse gives the first window only: validation reports it.
    """
    from incidents_cli.core.recurrence import RecurrenceError, occurrences, parse_rule

    start, end = _time(record.get("start")), _time(record.get("end"))
    if start is None or end is None:
        return []
    series = str(record.get("id"))
    base = _one_window(record, series, start, end)
    rule_text = record.get("recurrence")
    if not isinstance(rule_text, str):
        return [base]
    try:
        rule = parse_rule(rule_text)
        starts = occurrences(start, rule, timezone)
    except (RecurrenceError, KeyError, ValueError):  # KeyError: an unknown time zone
        return [base]
    called_off = {_time(t) for t in record.get("cancelled_occurrences") or []}
    length = end - start
    return [
        replace(
            base,
            id=f"{series}-{moment:%Y%m%d}",
            start=moment,
            end=moment + length,
            cancelled=base.cancelled or moment in called_off,
            recurrence=rule.text(),
        )
        for moment in starts
    ]


def _one_window(record: dict[str, Any], series: str, start: datetime, end: datetime) -> Maintenance:
    """The record's window as written (the first, for a recurring record)."""
    return Maintenance(
        id=series,
        title=str(record.get("title", "")),
        start=start,
        end=end,
        components=tuple(str(c) for c in record.get("components") or []),
        message=str(record.get("message") or ""),
        series=series,
        cancelled=record.get("cancelled") is True,
        updates=tuple(
            (refs.number(u.get("ref")) or position, at, u["message"])
            for position, u in enumerate(record.get("updates") or [], start=1)
            if isinstance(u, dict)
            and isinstance(u.get("message"), str)
            and (at := _time(u.get("at"))) is not None
        ),
    )
