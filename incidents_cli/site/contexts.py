"""The context of each template: built in Python, so templates only display."""

from __future__ import annotations

import heapq
from datetime import date, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

from incidents_cli.core.settings import Settings
from incidents_cli.core.timeutil import format_duration, format_time
from incidents_cli.site.api import absolute_url
from incidents_cli.site.model import ComponentView, Page
from incidents_cli.site.public import (
    STATUS_LABEL,
    UPDATE_STATUS_LABEL,
    Maintenance,
    PublicIncident,
    PublicUpdate,
)
from incidents_cli.site.render import markdown

FEED_ENTRIES = 50
INDICATOR_LABEL = {
    "none": "All systems operational",
    "maintenance": "Maintenance in progress",
    "minor": "Minor service disruption",
    "major": "Major service disruption",
    "critical": "Critical outage",
}
BADGE_COLOR = {
    "none": "#2e7d32",
    "maintenance": "#1565c0",
    "minor": "#f9a825",
    "major": "#ef6c00",
    "critical": "#c62828",
    "operational": "#2e7d32",
    "under_maintenance": "#1565c0",
    "degraded_performance": "#f9a825",
    "partial_outage": "#ef6c00",
    "major_outage": "#c62828",
}


def shown(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else ""


def update_context(update: PublicUpdate, names: dict[str, str]) -> dict[str, Any]:
    return {
        "anchor": f"update-{update.number}",
        "status": update.status,
        "status_label": UPDATE_STATUS_LABEL.get(update.status, update.status),
        "at": format_time(update.at),
        "at_shown": shown(update.at),
        "message": update.message,
        "eta": shown(update.eta) if update.eta else "",
        "components": [
            {"name": names.get(c, c), "status": s, "label": STATUS_LABEL.get(s, s)}
            for c, s in update.components.items()
        ],
    }


def incident_context(incident: PublicIncident, page: Page) -> dict[str, Any]:
    names = {c.id: c.name for c in page.settings.components}
    end = incident.resolved or page.now
    return {
        "id": incident.id,
        "title": incident.title,
        "impact": incident.impact,
        "status": incident.status,
        "status_label": UPDATE_STATUS_LABEL.get(incident.status, incident.status),
        "href": f"incidents/{incident.id}.html",
        "started": format_time(incident.started),
        "started_shown": shown(incident.started),
        "resolved_shown": shown(incident.resolved),
        "duration": format_duration(end - incident.started),
        "active": incident.active,
        "components": [names.get(c, c) for c in incident.components],
        "updates": [update_context(u, names) for u in reversed(incident.updates)],
        "postmortem": incident.postmortem_summary or "",
    }


def maintenance_context(window: Maintenance, page: Page) -> dict[str, Any]:
    names = {c.id: c.name for c in page.settings.components}
    return {
        "id": window.id,
        "title": window.title,
        "state": window.state(page.now),
        "start_shown": shown(window.start),
        "end_shown": shown(window.end),
        "start": format_time(window.start),
        "end": format_time(window.end),
        "components": [names.get(c, c) for c in window.components],
        "message": window.message,
    }


def common_context(page: Page, root_prefix: str, title: str) -> dict[str, Any]:
    return {
        "site_title": page.settings.title,
        "page_title": title,
        "root": root_prefix,
        "timezone": page.settings.timezone,
        "generated": shown(page.now),
        "generated_iso": format_time(page.now),
        "indicator": page.indicator,
        "indicator_label": INDICATOR_LABEL[page.indicator],
    }


def index_context(page: Page) -> dict[str, Any]:
    groups: list[dict[str, Any]] = []
    by_name: dict[str, dict[str, Any]] = {}
    for view in page.components:
        key = view.group or ""
        if key not in by_name:
            by_name[key] = {"name": view.group or "", "components": []}
            groups.append(by_name[key])
        by_name[key]["components"].append(
            {
                "id": view.id,
                "name": view.name,
                "description": view.description or "",
                "status": view.status,
                "status_label": STATUS_LABEL[view.status],
                "uptime": f"{view.uptime:.2f}",
                "days": [
                    {"status": d.status, "label": d.label, "maintenance": d.maintenance}
                    for d in view.days
                ],
                "first_day": view.days[0].date,
            }
        )
    recent_resolved = [i for i in page.incidents if not i.active][:5]
    return {
        **common_context(page, "", page.settings.title),
        "description": page.description,
        "active": [incident_context(i, page) for i in page.active],
        "in_progress": [maintenance_context(w, page) for w in page.in_progress],
        "upcoming": [maintenance_context(w, page) for w in page.upcoming],
        "groups": groups,
        "recent": [incident_context(i, page) for i in recent_resolved],
    }


def month_file(month: str) -> str:
    """The history page of one month ("2026-11"): a permalink that never shifts."""
    return f"history-{month}.html"


def _month_name(month: str) -> str:
    year, number = month.split("-")
    return date(int(year), int(number), 1).strftime("%B %Y")


def months_of(page: Page) -> dict[str, list[PublicIncident]]:
    """Public incidents by the month they started in, newest month and incident first."""
    months: dict[str, list[PublicIncident]] = {}
    for incident in page.incidents:
        started = incident.started  # (strftime costs 4 us an incident here)
        months.setdefault(f"{started.year:04d}-{started.month:02d}", []).append(incident)
    return months


def history_context(page: Page, months: dict[str, list[PublicIncident]]) -> dict[str, Any]:
    """history.html: every month with incidents, by year, with its count."""
    years: list[dict[str, Any]] = []
    for month, incidents in months.items():
        if not years or years[-1]["name"] != month[:4]:
            years.append({"name": month[:4], "months": []})
        years[-1]["months"].append(
            {"name": _month_name(month), "href": month_file(month), "count": len(incidents)}
        )
    return {
        **common_context(page, "", f"Incident history - {page.settings.title}"),
        "years": years,
        "total": len(page.incidents),
    }


def month_context(
    page: Page, month: str, incidents: list[PublicIncident], newer: str, older: str
) -> dict[str, Any]:
    """One month's history page. It shows no build time, so it changes only with its
    incidents (or while one of them is still open)."""
    return {
        **common_context(page, "", f"Incidents in {_month_name(month)} - {page.settings.title}"),
        "generated": "",
        "month": _month_name(month),
        "incidents": [incident_context(i, page) for i in incidents],
        "newer": {"name": _month_name(newer), "href": month_file(newer)} if newer else None,
        "older": {"name": _month_name(older), "href": month_file(older)} if older else None,
    }


def tag_authority(settings: Settings) -> str:
    host = urlsplit(settings.base_url).hostname if settings.base_url else None
    return host or "incidents.invalid"


def feed_file(component: str, kind: str) -> str:
    """The feed of one component: feeds/<component>.atom or .rss (ids are [a-z0-9-])."""
    return f"feeds/{component}.{kind}"


def feed_context(page: Page, component: ComponentView | None = None) -> dict[str, Any]:
    """The Atom and RSS feed of the whole site (every public update), or of one component:
    the updates of incidents that touch it and the maintenance windows that affect it."""
    incidents = page.incidents
    if component is not None:
        incidents = [i for i in incidents if component.id in i.touched]

    # The newest updates all belong to the incidents whose own newest update is newest, so
    # only those are searched (updates are sorted by time within an incident).
    def newest(incident: PublicIncident) -> tuple[datetime, str, int]:
        return incident.latest[0], incident.id, incident.latest[1]

    candidates = heapq.nlargest(FEED_ENTRIES, incidents, key=newest)
    entries = [(u.at, incident, u) for incident in candidates for u in incident.updates]
    entries.sort(key=lambda e: (e[0], e[1].id, e[2].number), reverse=True)
    authority = tag_authority(page.settings)
    base = page.settings.base_url
    items: list[tuple[datetime, str, dict[str, Any]]] = []
    for at, incident, update in entries[:FEED_ENTRIES]:
        label = UPDATE_STATUS_LABEL.get(update.status, update.status)
        items.append(
            (
                at,
                f"incident/{incident.id}/update/{update.number}",
                {
                    "title": f"{incident.title}: {label}",
                    "link": absolute_url(
                        base, f"incidents/{incident.id}.html#update-{update.number}"
                    ),
                    "html": str(markdown(update.message)),
                },
            )
        )
    if component is not None:
        for window in page.maintenances:
            if component.id in window.components:
                window_text = f"{shown(window.start)} to {shown(window.end)}"
                items.append(
                    (
                        window.start,
                        f"maintenance/{window.id}",
                        {
                            "title": f"Scheduled maintenance: {window.title}",
                            "link": absolute_url(base, "index.html#maintenance"),
                            "html": str(markdown(window_text))
                            + (str(markdown(window.message)) if window.message else ""),
                        },
                    )
                )
    items.sort(key=lambda item: (item[0], item[1]), reverse=True)
    items = items[:FEED_ENTRIES]
    updated = items[0][0] if items else page.now
    if component is None:
        title = f"{page.settings.title} - incident history"
        atom, rss, feed_id = "history.atom", "history.rss", "history"
    else:
        title = f"{page.settings.title} - {component.name}"
        atom, rss = feed_file(component.id, "atom"), feed_file(component.id, "rss")
        feed_id = f"component/{component.id}"
    return {
        "title": title,
        "site": absolute_url(base, "index.html"),
        "self_atom": absolute_url(base, atom),
        "self_rss": absolute_url(base, rss),
        "id": f"tag:{authority},2000:{feed_id}",
        "updated": format_time(updated),
        "updated_rfc822": format_datetime(updated, usegmt=True),
        "entries": [
            {
                **item,
                "id": f"tag:{authority},2000:{key}",
                "updated": format_time(at),
                "rfc822": format_datetime(at, usegmt=True),
            }
            for at, key, item in items
        ],
    }


def badge_context(label: str, message: str, color: str) -> dict[str, Any]:
    def width(text: str) -> int:
        return 10 + round(6.6 * len(text))

    left, right = width(label), width(message)
    return {
        "label": label,
        "message": message,
        "color": color,
        "left": left,
        "right": right,
        "total": left + right,
        "label_x": left / 2,
        "message_x": left + right / 2,
    }
