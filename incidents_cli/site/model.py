"""The public status page as data: what is down, what happened, what is planned.

Pure: takes incident and maintenance records, the settings and "now", and returns plain data
for the templates and the JSON API. It reads only the public fields of a record (title,
severity as impact, components, public updates, and a postmortem's public summary when it
is published and public); nothing else can reach the site because nothing else is copied.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from incidents_cli.core.settings import Settings
from incidents_cli.core.timeutil import format_time
from incidents_cli.core.timeutil import maybe_time as _time
from incidents_cli.core.vocabulary import RESOLVED_PHASES

STATUS_RANK = {
    "operational": 0,
    "under_maintenance": 1,
    "degraded_performance": 2,
    "partial_outage": 3,
    "major_outage": 4,
}
STATUS_LABEL = {
    "operational": "Operational",
    "under_maintenance": "Under maintenance",
    "degraded_performance": "Degraded performance",
    "partial_outage": "Partial outage",
    "major_outage": "Major outage",
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
    "investigating": "Investigating",
    "identified": "Identified",
    "monitoring": "Monitoring",
    "resolved": "Resolved",
    "postmortem": "Postmortem",
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

    def component_status(self, component: str, *, latest: bool) -> str:
        """The status an update gave ``component``: the latest one, or the worst one."""
        seen = [u.components[component] for u in self.updates if component in u.components]
        seen = [s for s in seen if s != "operational"] if not latest else seen
        if latest and seen:
            return seen[-1]
        if seen:
            return max(seen, key=STATUS_RANK.__getitem__)
        return self.severity_status


def public_incident(
    record: dict[str, Any], postmortem: dict[str, Any] | None = None
) -> PublicIncident | None:
    """The public view of a record, or None if it is not to be published (yet)."""
    if record.get("public") is False:
        return None
    started = _time(record.get("detected_at"))
    if started is None or not isinstance(record.get("id"), str):
        return None
    updates = []
    for number, raw in enumerate(record.get("updates") or [], start=1):
        at = _time(raw.get("at")) if isinstance(raw, dict) else None
        if at is None or not isinstance(raw.get("message"), str):
            continue
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
    if not updates:
        return None  # nothing was said in public yet: the page says nothing either
    severity = str(record.get("severity") or "")
    resolved = _time(record.get("resolved_at")) if record.get("phase") in RESOLVED_PHASES else None
    if record.get("phase") in RESOLVED_PHASES and resolved is None:
        resolved = updates[-1].at
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
    )


@dataclass(frozen=True)
class Maintenance:
    id: str
    title: str
    start: datetime
    end: datetime
    components: tuple[str, ...]
    message: str

    def state(self, now: datetime) -> str:
        if now < self.start:
            return "scheduled"
        if now < self.end:
            return "in_progress"
        return "completed"


def maintenance_window(record: dict[str, Any]) -> Maintenance | None:
    start, end = _time(record.get("start")), _time(record.get("end"))
    if start is None or end is None or record.get("cancelled") is True:
        return None
    return Maintenance(
        id=str(record.get("id")),
        title=str(record.get("title", "")),
        start=start,
        end=end,
        components=tuple(str(c) for c in record.get("components") or []),
        message=str(record.get("message") or ""),
    )


@dataclass(frozen=True)
class Day:
    date: str
    status: str
    incidents: tuple[tuple[str, str], ...]  # (id, title)
    maintenance: bool = False

    @property
    def label(self) -> str:
        if not self.incidents:
            text = "No incidents"
            if self.maintenance:
                text = "Scheduled maintenance"
            return f"{self.date}: {text}"
        names = "; ".join(f"{i}: {t}" for i, t in self.incidents)
        return f"{self.date}: {STATUS_LABEL[self.status]}: {names}"


@dataclass(frozen=True)
class ComponentView:
    id: str
    name: str
    group: str | None
    description: str | None
    position: int
    status: str
    days: tuple[Day, ...]
    uptime: float


@dataclass
class Page:
    """Everything the site shows, computed once."""

    settings: Settings
    now: datetime
    incidents: list[PublicIncident]  # every public incident, newest first
    maintenances: list[Maintenance]
    components: list[ComponentView]
    indicator: str
    description: str
    active: list[PublicIncident] = field(default_factory=list)
    upcoming: list[Maintenance] = field(default_factory=list)
    in_progress: list[Maintenance] = field(default_factory=list)


def _worst(statuses: Iterable[str]) -> str:
    return max(statuses, key=STATUS_RANK.__getitem__, default="operational")


def current_statuses(
    settings: Settings, active: Sequence[PublicIncident], running: Sequence[Maintenance]
) -> dict[str, str]:
    statuses = {c.id: "operational" for c in settings.components}
    for window in running:
        for component in window.components:
            if component in statuses:
                statuses[component] = _worst([statuses[component], "under_maintenance"])
    for incident in active:
        touched = set(incident.components)
        for update in incident.updates:
            touched.update(update.components)
        for component in touched:
            if component in statuses:
                status = incident.component_status(component, latest=True)
                statuses[component] = _worst([statuses[component], status])
    return statuses


def _day_start(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def history_days(
    component: str,
    incidents: Sequence[PublicIncident],
    maintenances: Sequence[Maintenance],
    now: datetime,
) -> tuple[tuple[Day, ...], float]:
    """90 daily bars for one component, oldest first, and its uptime over them (percent).

    Uptime counts a major outage as fully down and a partial outage as 30% down, as
    Statuspage does; degraded performance and maintenance count as up.
    """
    first = _day_start(now) - timedelta(days=HISTORY_DAYS - 1)
    per_day: dict[int, list[tuple[str, PublicIncident]]] = {}
    down: list[tuple[datetime, datetime, float]] = []
    for incident in incidents:
        if component not in incident.components and not any(
            component in u.components for u in incident.updates
        ):
            continue
        end = incident.resolved or now
        if end < first:
            continue
        status = incident.component_status(component, latest=False)
        weight = {"major_outage": 1.0, "partial_outage": 0.3}.get(status, 0.0)
        if weight:
            down.append((max(incident.started, first), min(end, now), weight))
        day = max(incident.started, first)
        while day <= end and day <= now:
            index = (_day_start(day) - first).days
            per_day.setdefault(index, []).append((status, incident))
            day = _day_start(day) + timedelta(days=1)
    maintenance_days: set[int] = set()
    for window in maintenances:
        if component in window.components:
            day = max(window.start, first)
            while day < window.end and day <= now:
                maintenance_days.add((_day_start(day) - first).days)
                day = _day_start(day) + timedelta(days=1)
    days = []
    for index in range(HISTORY_DAYS):
        date = (first + timedelta(days=index)).strftime("%Y-%m-%d")
        found = per_day.get(index, [])
        ordered = sorted({(i.started, i.id, i.title) for _, i in found})
        days.append(
            Day(
                date=date,
                status=_worst(s for s, _ in found),
                incidents=tuple((i, t) for _, i, t in ordered),
                maintenance=index in maintenance_days,
            )
        )
    total = (now - first).total_seconds()
    lost = _weighted_union(down)
    uptime = 100.0 * (1 - lost / total) if total > 0 else 100.0
    return tuple(days), uptime


def _weighted_union(intervals: Sequence[tuple[datetime, datetime, float]]) -> float:
    """Seconds lost, counting each moment once at the heaviest weight that covers it."""
    points = sorted({t for a, b, _ in intervals for t in (a, b)})
    lost = 0.0
    for left, right in pairwise(points):
        weight = max((w for a, b, w in intervals if a <= left and right <= b), default=0.0)
        lost += weight * (right - left).total_seconds()
    return lost


def build_page(
    settings: Settings,
    public: Iterable[PublicIncident],
    maintenances: Iterable[Maintenance],
    now: datetime,
) -> Page:
    """The page as of ``now``, from the public view of every incident (public_incident)."""
    incidents = [i for i in public if i.started <= now]
    incidents.sort(key=lambda i: (i.started, i.id), reverse=True)
    windows = sorted(maintenances, key=lambda w: (w.start, w.id))
    active = [i for i in incidents if i.active]
    running = [w for w in windows if w.state(now) == "in_progress"]
    upcoming = [w for w in windows if w.state(now) == "scheduled"]
    statuses = current_statuses(settings, active, running)
    first_day = _day_start(now) - timedelta(days=HISTORY_DAYS - 1)
    recent = [i for i in incidents if (i.resolved or now) >= first_day]  # what the bars show
    views = []
    for position, component in enumerate(settings.components, start=1):
        days, uptime = history_days(component.id, recent, windows, now)
        views.append(
            ComponentView(
                id=component.id,
                name=component.name,
                group=component.group,
                description=component.description,
                position=position,
                status=statuses[component.id],
                days=days,
                uptime=uptime,
            )
        )
    indicator = "none"
    for incident in active:
        indicator = max(indicator, incident.impact, key=IMPACT_RANK.__getitem__)
    for status in statuses.values():
        implied = {
            "major_outage": "major",
            "partial_outage": "minor",
            "degraded_performance": "minor",
            "under_maintenance": "maintenance",
        }.get(status, "none")
        indicator = max(indicator, implied, key=IMPACT_RANK.__getitem__)
    return Page(
        settings=settings,
        now=now,
        incidents=incidents,
        maintenances=windows,
        components=views,
        indicator=indicator,
        description=INDICATOR_DESCRIPTION[indicator],
        active=active,
        upcoming=upcoming,
        in_progress=running,
    )


# --- the Statuspage v2 API shapes ---------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return format_time(moment) if moment is not None else None


def absolute_url(base: str, path: str) -> str:
    """``path`` under the site's base URL (relative when there is none)."""
    return (base.rstrip("/") + "/" + path) if base else path


def api_page(page: Page) -> dict[str, Any]:
    return {
        "id": "incidents",
        "name": page.settings.title,
        "url": page.settings.base_url,
        "time_zone": page.settings.timezone,
        "updated_at": _iso(page.now),
    }


def api_components(page: Page) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    groups: dict[str, dict[str, Any]] = {}
    for view in page.components:
        group_id = f"group-{view.group}" if view.group else None
        if view.group and view.group not in groups:
            groups[view.group] = {
                "id": group_id,
                "name": view.group,
                "status": "operational",
                "created_at": None,
                "updated_at": _iso(page.now),
                "position": len(groups) + 1,
                "description": None,
                "showcase": False,
                "start_date": None,
                "group_id": None,
                "page_id": "incidents",
                "group": True,
                "only_show_if_degraded": False,
                "components": [],
            }
        out.append(
            {
                "id": view.id,
                "name": view.name,
                "status": view.status,
                "created_at": None,
                "updated_at": _iso(page.now),
                "position": view.position,
                "description": view.description,
                "showcase": True,
                "start_date": None,
                "group_id": group_id,
                "page_id": "incidents",
                "group": False,
                "only_show_if_degraded": False,
            }
        )
        if view.group:
            group = groups[view.group]
            group["components"].append(view.id)
            group["status"] = _worst([group["status"], view.status])
    return list(groups.values()) + out


def _affected(incident: PublicIncident, page: Page) -> list[dict[str, Any]]:
    names = {c.id: c.name for c in page.settings.components}
    return [{"id": c, "name": names.get(c, c)} for c in incident.components if c in names]


def api_incident(incident: PublicIncident, page: Page) -> dict[str, Any]:
    names = {c.id: c.name for c in page.settings.components}
    previous: dict[str, str] = {}
    updates = []
    for update in incident.updates:
        affected = []
        for component, status in update.components.items():
            affected.append(
                {
                    "code": component,
                    "name": names.get(component, component),
                    "old_status": previous.get(component, "operational"),
                    "new_status": status,
                }
            )
            previous[component] = status
        updates.append(
            {
                "id": f"{incident.id}-{update.number}",
                "status": update.status,
                "body": update.message,
                "incident_id": incident.id,
                "created_at": _iso(update.at),
                "updated_at": _iso(update.at),
                "display_at": _iso(update.at),
                "affected_components": affected or None,
                "deliver_notifications": True,
                "custom_tweet": None,
                "tweet_id": None,
            }
        )
    updates.reverse()  # newest first, as Statuspage lists them
    return {
        "id": incident.id,
        "name": incident.title,
        "status": incident.status,
        "impact": incident.impact,
        "created_at": _iso(incident.started),
        "updated_at": _iso(incident.updated),
        "monitoring_at": _iso(incident.monitoring),
        "resolved_at": _iso(incident.resolved),
        "started_at": _iso(incident.started),
        "shortlink": absolute_url(page.settings.base_url, f"incidents/{incident.id}.html"),
        "page_id": "incidents",
        "incident_updates": updates,
        "components": _affected(incident, page),
    }


def api_maintenance(window: Maintenance, page: Page) -> dict[str, Any]:
    names = {c.id: c.name for c in page.settings.components}
    state = window.state(page.now)
    return {
        "id": window.id,
        "name": window.title,
        "status": state,
        "impact": "maintenance",
        "created_at": _iso(window.start),
        "updated_at": _iso(min(page.now, window.end) if state != "scheduled" else window.start),
        "monitoring_at": None,
        "resolved_at": _iso(window.end) if state == "completed" else None,
        "started_at": _iso(window.start),
        "scheduled_for": _iso(window.start),
        "scheduled_until": _iso(window.end),
        "shortlink": absolute_url(page.settings.base_url, "index.html#maintenance"),
        "page_id": "incidents",
        "incident_updates": [
            {
                "id": f"{window.id}-1",
                "status": "scheduled",
                "body": window.message or window.title,
                "incident_id": window.id,
                "created_at": _iso(window.start),
                "updated_at": _iso(window.start),
                "display_at": _iso(window.start),
                "affected_components": [
                    {
                        "code": c,
                        "name": names.get(c, c),
                        "old_status": "operational",
                        "new_status": "under_maintenance",
                    }
                    for c in window.components
                ],
            }
        ],
        "components": [{"id": c, "name": names.get(c, c)} for c in window.components],
    }


RECENT_INCIDENTS = 50


def api_documents(page: Page) -> dict[str, Any]:
    """Every JSON file of the API, by path under api/v2/."""
    status = {"indicator": page.indicator, "description": page.description}
    components = api_components(page)
    unresolved = [api_incident(i, page) for i in page.active]
    recent = [api_incident(i, page) for i in page.incidents[:RECENT_INCIDENTS]]
    relevant = [w for w in page.maintenances if w.state(page.now) != "completed"]
    upcoming = [api_maintenance(w, page) for w in page.upcoming]
    active = [api_maintenance(w, page) for w in page.in_progress]
    every_window = [api_maintenance(w, page) for w in reversed(page.maintenances)][
        :RECENT_INCIDENTS
    ]
    head = {"page": api_page(page)}
    return {
        "summary.json": {
            **head,
            "status": status,
            "components": components,
            "incidents": unresolved,
            "scheduled_maintenances": [api_maintenance(w, page) for w in relevant],
        },
        "status.json": {**head, "status": status},
        "components.json": {**head, "components": components},
        "incidents.json": {**head, "incidents": recent},
        "incidents/unresolved.json": {**head, "incidents": unresolved},
        "scheduled-maintenances.json": {**head, "scheduled_maintenances": every_window},
        "scheduled-maintenances/upcoming.json": {**head, "scheduled_maintenances": upcoming},
        "scheduled-maintenances/active.json": {**head, "scheduled_maintenances": active},
    }
