"""The status page as data: what is down now, the 90 days of history, what is planned.

Pure: built from the public views (public.py), the settings and "now".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from itertools import pairwise
from zoneinfo import ZoneInfo

from incidents_cli.core.settings import Settings
from incidents_cli.site.public import (
    HISTORY_DAYS,
    IMPACT_RANK,
    INDICATOR_DESCRIPTION,
    STATUS_LABEL,
    STATUS_RANK,
    Maintenance,
    PublicIncident,
)


@dataclass(frozen=True)
class Day:
    date: str
    status: str
    incidents: tuple[tuple[str, str], ...]  # (id, title)
    maintenance: bool = False
    first_start: datetime | None = None  # when the day's earliest incident started

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
    created: datetime  # when the page's records begin (the API's created_at)
    changed: datetime  # the last public change of its status up to "now"
    incident_count: int  # incidents in the days shown


@dataclass
class Page:
    """Everything the site shows, computed once."""

    settings: Settings
    now: datetime
    incidents: list[PublicIncident]  # every public incident, newest first
    maintenances: list[Maintenance]  # every window not called off, oldest first
    components: list[ComponentView]
    indicator: str
    description: str
    active: list[PublicIncident] = field(default_factory=list)
    upcoming: list[Maintenance] = field(default_factory=list)
    in_progress: list[Maintenance] = field(default_factory=list)
    calendar: list[Maintenance] = field(default_factory=list)  # cancelled windows too


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


def zone_of(settings: Settings) -> tzinfo:
    """The team's time zone (settings.timezone); UTC for a name this system does not know
    (validation reports it)."""
    try:
        return ZoneInfo(settings.timezone)
    except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        return UTC


def _day_start(moment: datetime, zone: tzinfo = UTC) -> datetime:
    """Midnight of ``moment``'s day in ``zone`` (days are the team's days)."""
    return moment.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)


def history_days(
    component: str,
    incidents: Sequence[PublicIncident],
    maintenances: Sequence[Maintenance],
    now: datetime,
    zone: tzinfo = UTC,
) -> tuple[tuple[Day, ...], float]:
    """90 daily bars for one component, oldest first, and its uptime over them (percent).
    Days run from midnight to midnight in ``zone``, the team's time zone. (Subtracting two
    times of one zone gives the wall-clock difference: the day's index, across DST.)

    Uptime counts a major outage as fully down and a partial outage as 30% down, as
    Statuspage does; degraded performance and maintenance count as up.
    """
    return _Bars(incidents, now, zone).days(component, maintenances)


class _Bars:
    """What the 90 days of every component share, worked out once for the page rather
    than once for each component: the first day, each day's date, the days each incident
    spans (by the components it touches), and the days without an incident."""

    def __init__(self, incidents: Sequence[PublicIncident], now: datetime, zone: tzinfo) -> None:
        self.now, self.zone = now, zone
        self.first = first = bars_begin(now, zone)
        self.dates = [(first + timedelta(days=i)).strftime("%Y-%m-%d") for i in range(HISTORY_DAYS)]
        self.quiet: dict[tuple[int, bool], Day] = {}
        self.touching: dict[str, list[tuple[PublicIncident, list[int]]]] = {}
        for incident in incidents:
            if (incident.resolved or now) < first:
                continue
            indexes = self._indexes(incident)
            for component in incident.touched:
                self.touching.setdefault(component, []).append((incident, indexes))

    def _indexes(self, incident: PublicIncident) -> list[int]:
        """The indexes of the days the incident spans, up to now."""
        first, now, zone = self.first, self.now, self.zone
        end = incident.resolved or now
        indexes = []
        day = max(incident.started, first)
        while day <= end and day <= now:
            start = _day_start(day, zone)
            indexes.append((start - first).days)
            day = start + timedelta(days=1)
        return indexes

    def days(
        self, component: str, maintenances: Sequence[Maintenance]
    ) -> tuple[tuple[Day, ...], float]:
        """``history_days`` of one component."""
        first, now = self.first, self.now
        per_day, down = self._incident_days(component)
        maintenance_days = _maintenance_days(component, maintenances, first, now, self.zone)
        days = []
        for index in range(HISTORY_DAYS):
            found = per_day.get(index)
            if not found:
                days.append(self._quiet(index, index in maintenance_days))
                continue
            ordered = sorted({(i.started, i.id, i.title) for _, i in found})
            days.append(
                Day(
                    date=self.dates[index],
                    status=_worst(s for s, _ in found),
                    incidents=tuple((i, t) for _, i, t in ordered),
                    maintenance=index in maintenance_days,
                    first_start=ordered[0][0],
                )
            )
        total = (now - first).total_seconds()
        lost = _weighted_union(down)
        uptime = 100.0 * (1 - lost / total) if total > 0 else 100.0
        return tuple(days), uptime

    def _quiet(self, index: int, maintenance: bool) -> Day:
        """A day without incidents (one object for every component that has it)."""
        day = self.quiet.get((index, maintenance))
        if day is None:
            day = Day(
                date=self.dates[index], status=_worst(()), incidents=(), maintenance=maintenance
            )
            self.quiet[(index, maintenance)] = day
        return day

    def _incident_days(
        self, component: str
    ) -> tuple[dict[int, list[tuple[str, PublicIncident]]], list[tuple[datetime, datetime, float]]]:
        """The component's incidents by day index (with its status in each), and the
        intervals it was down, weighted."""
        per_day: dict[int, list[tuple[str, PublicIncident]]] = {}
        down: list[tuple[datetime, datetime, float]] = []
        for incident, indexes in self.touching.get(component, ()):
            status = incident.worst_status(component)
            weight = {"major_outage": 1.0, "partial_outage": 0.3}.get(status, 0.0)
            if weight:
                end = incident.resolved or self.now
                down.append((max(incident.started, self.first), min(end, self.now), weight))
            for index in indexes:
                per_day.setdefault(index, []).append((status, incident))
        return per_day, down


def _maintenance_days(
    component: str,
    maintenances: Sequence[Maintenance],
    first: datetime,
    now: datetime,
    zone: tzinfo,
) -> set[int]:
    """The day indexes on which a maintenance window of the component runs."""
    maintenance_days: set[int] = set()
    for window in maintenances:
        if component in window.components:
            day = max(window.start, first)
            while day < window.end and day <= now:
                maintenance_days.add((_day_start(day, zone) - first).days)
                day = _day_start(day, zone) + timedelta(days=1)
    return maintenance_days


def _weighted_union(intervals: Sequence[tuple[datetime, datetime, float]]) -> float:
    """Seconds lost, counting each moment once at the heaviest weight that covers it: the
    intervals' ends cut time into spans, summed in order, each at the heaviest weight of
    the intervals under way in it (counted as the spans are passed)."""
    points = sorted({t for a, b, _ in intervals for t in (a, b)})
    changes: dict[datetime, list[tuple[float, int]]] = {}
    for a, b, w in intervals:
        if a < b:  # (one that ends before it starts covers nothing)
            changes.setdefault(a, []).append((w, 1))
            changes.setdefault(b, []).append((w, -1))
    under_way: dict[float, int] = {}
    lost = 0.0
    for left, right in pairwise(points):
        for w, step in changes.get(left, ()):
            under_way[w] = under_way.get(w, 0) + step
        weight = max((w for w, count in under_way.items() if count), default=0.0)
        lost += weight * (right - left).total_seconds()
    return lost


def bars_begin(now: datetime, zone: tzinfo) -> datetime:
    """The start of the first day the 90-day bars show."""
    return _day_start(now, zone) - timedelta(days=HISTORY_DAYS - 1)


def build_page(
    settings: Settings,
    public: Iterable[PublicIncident],
    maintenances: Iterable[Maintenance],
    now: datetime,
) -> Page:
    """The page as of ``now``, from the public view of every incident (public_incident)."""
    incidents = [i for i in public if i.started <= now]
    incidents.sort(key=lambda i: (i.started, i.id), reverse=True)
    every_window = sorted(maintenances, key=lambda w: (w.start, w.id))
    windows = [w for w in every_window if not w.cancelled]
    active = [i for i in incidents if i.active]
    running = [w for w in windows if w.state(now) == "in_progress"]
    upcoming = [w for w in windows if w.state(now) == "scheduled"]
    statuses = current_statuses(settings, active, running)
    zone = zone_of(settings)
    first_day = bars_begin(now, zone)
    recent = [i for i in incidents if (i.resolved or now) >= first_day]  # what the bars show
    created, changed = _component_times(incidents, recent, windows, now)
    views = _component_views(settings, recent, windows, now, zone, statuses, created, changed)
    indicator = _indicator(active, statuses)
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
        calendar=every_window,
    )


def _component_views(
    settings: Settings,
    recent: Sequence[PublicIncident],
    windows: Sequence[Maintenance],
    now: datetime,
    zone: tzinfo,
    statuses: Mapping[str, str],
    created: datetime,
    changed: Mapping[str, datetime],
) -> list[ComponentView]:
    """Each component as the page shows it, with its 90 days, in the settings' order."""
    views = []
    bars = _Bars(recent, now, zone)
    for position, component in enumerate(settings.components, start=1):
        days, uptime = bars.days(component.id, windows)
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
                created=created,
                changed=changed.get(component.id, created),
                incident_count=len({i for day in days for i, _ in day.incidents}),
            )
        )
    return views


def _indicator(active: Sequence[PublicIncident], statuses: Mapping[str, str]) -> str:
    """The page's indicator: the heaviest impact of an active incident or a component status."""
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
    return indicator


def _component_times(
    incidents: Sequence[PublicIncident],
    recent: Sequence[PublicIncident],
    windows: Sequence[Maintenance],
    now: datetime,
) -> tuple[datetime, dict[str, datetime]]:
    """When the page's records begin (what the API gives as each component's created_at:
    stable from build to build), and the last public change of each component's status up
    to ``now`` (its updated_at): an update naming it, the start or end of an incident or a
    maintenance window touching it. Only incidents the bars show are read in full."""
    starts = [incidents[-1].started] if incidents else []
    starts += [w.start for w in windows[:1]]
    created = min([*starts, now])
    changed: dict[str, datetime] = {}

    def touch(components: Iterable[str], at: datetime) -> None:
        if at <= now:
            for component in components:
                changed[component] = max(changed.get(component, at), at)

    for incident in recent:
        for components, at in incident.status_changes():
            touch(components, at)
    for window in windows:
        touch(window.components, window.start)
        touch(window.components, window.end)
    return created, changed
