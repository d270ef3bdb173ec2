"""The read-only JSON API in the shape of Atlassian Statuspage's public API v2."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from incidents_cli.core.timeutil import format_time
from incidents_cli.site.model import ComponentView, Page, _worst
from incidents_cli.site.public import Maintenance, PublicIncident

PAGE_ID = "incidents"


def _iso(moment: datetime | None) -> str | None:
    return format_time(moment) if moment is not None else None


def absolute_url(base: str, path: str) -> str:
    """``path`` under the site's base URL (relative when there is none)."""
    return (base.rstrip("/") + "/" + path) if base else path


def api_page(page: Page) -> dict[str, Any]:
    return {
        "id": PAGE_ID,
        "name": page.settings.title,
        "url": page.settings.base_url,
        "time_zone": page.settings.timezone,
        "updated_at": _iso(page.now),
    }


def _component_object(view: ComponentView, group_id: str | None) -> dict[str, Any]:
    """A component as the real API gives it, every field present (readers index them)."""
    return {
        "id": view.id,
        "name": view.name,
        "status": view.status,
        "created_at": _iso(view.created),
        "updated_at": _iso(view.changed),
        "position": view.position,
        "description": view.description,
        "showcase": True,
        "start_date": None,
        "group_id": group_id,
        "page_id": PAGE_ID,
        "group": False,
        "only_show_if_degraded": False,
    }


def _group_id(view: ComponentView) -> str | None:
    return f"group-{view.group}" if view.group else None


def api_components(page: Page) -> list[dict[str, Any]]:
    """Groups first (with their members' ids and worst status), then every component."""
    out: list[dict[str, Any]] = []
    groups: dict[str, dict[str, Any]] = {}
    for view in page.components:
        if view.group and view.group not in groups:
            groups[view.group] = {
                **_component_object(view, None),
                "id": _group_id(view),
                "name": view.group,
                "status": "operational",
                "position": len(groups) + 1,
                "description": None,
                "showcase": False,
                "group": True,
                "components": [],
            }
        out.append(_component_object(view, _group_id(view)))
        if view.group:
            group = groups[view.group]
            group["components"].append(view.id)
            group["status"] = _worst([group["status"], view.status])
            group["created_at"] = min(group["created_at"], out[-1]["created_at"])
            group["updated_at"] = max(group["updated_at"], out[-1]["updated_at"])
    return list(groups.values()) + out


def _affected(components: Iterable[str], page: Page) -> list[dict[str, Any]]:
    """The full objects of the components a record names (known ones, in its order): the
    same objects components.json lists, as the real API gives them."""
    views = {view.id: view for view in page.components}
    return [_component_object(views[c], _group_id(views[c])) for c in components if c in views]


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
        at = _iso(update.at)
        updates.append(
            {
                "id": f"{incident.id}-{update.number}",
                "status": update.status,
                "body": update.message,
                "incident_id": incident.id,
                "created_at": at,
                "updated_at": at,
                "display_at": at,
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
        "page_id": PAGE_ID,
        "incident_updates": updates,
        "components": _affected(incident.components, page),
    }


def api_maintenance(window: Maintenance, page: Page) -> dict[str, Any]:
    names = {c.id: c.name for c in page.settings.components}
    state = window.state(page.now)
    affected = [
        {
            "code": c,
            "name": names.get(c, c),
            "old_status": "operational",
            "new_status": "under_maintenance",
        }
        for c in window.components
        if c in names
    ]
    updates = _maintenance_updates(window, page, state, affected)
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
        "page_id": PAGE_ID,
        "incident_updates": updates,
        "components": _affected(window.components, page),
    }


def _maintenance_updates(
    window: Maintenance, page: Page, state: str, affected: list[dict[str, str]]
) -> list[dict[str, Any]]:
    """The window's incident_updates, newest first."""
    # What Statuspage posts for a window: scheduled, then in progress, then completed.
    steps = [("scheduled", window.start, window.message or window.title)]
    if state != "scheduled":
        steps.append(("in_progress", window.start, "Scheduled maintenance is in progress."))
    if state == "completed":
        steps.append(("completed", window.end, "The scheduled maintenance has been completed."))
    ids = [f"{window.id}-{number}" for number in range(1, len(steps) + 1)]
    # updates posted with `maintenance update`: ids of their own, so the steps' never move
    for number, at, message in window.updates:
        if at <= page.now:
            steps.append(("scheduled" if at < window.start else "in_progress", at, message))
            ids.append(f"{window.id}-u{number}")
    order = sorted(range(len(steps)), key=lambda i: steps[i][1])
    updates = [
        {
            "id": ids[index],
            "status": steps[index][0],
            "body": steps[index][2],
            "incident_id": window.id,
            "created_at": _iso(steps[index][1]),
            "updated_at": _iso(steps[index][1]),
            "display_at": _iso(steps[index][1]),
            "affected_components": affected or None,
            "deliver_notifications": True,
            "custom_tweet": None,
            "tweet_id": None,
        }
        for index in order
    ]
    updates.reverse()  # newest first
    return updates


RECENT_INCIDENTS = 50


def api_documents(page: Page) -> dict[str, Any]:
    """Every JSON file of the API, by path under api/v2/."""
    status = {"indicator": page.indicator, "description": page.description}
    components = api_components(page)
    made: dict[str, dict[str, Any]] = {}  # an incident unresolved and recent: made once

    def incident(view: PublicIncident) -> dict[str, Any]:
        found = made.get(view.id)
        if found is None:
            found = made[view.id] = api_incident(view, page)
        return found

    unresolved = [incident(i) for i in page.active]
    recent = [incident(i) for i in page.incidents[:RECENT_INCIDENTS]]
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
