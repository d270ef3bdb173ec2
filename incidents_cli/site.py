"""`incidents site build`: the static status site, written atomically and deterministically.

Reads the records, computes the public page (statuspage.py), renders the templates
(render.py) and writes every file into a fresh folder that then replaces the old one. "Now"
is the commit time of HEAD unless --as-of says otherwise, so one commit gives one site.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from incidents_cli import statuspage
from incidents_cli.errors import RefusedError
from incidents_cli.render import Renderer, markdown
from incidents_cli.repository import load_settings
from incidents_cli.settings import Settings
from incidents_cli.statuspage import (
    STATUS_LABEL,
    UPDATE_STATUS_LABEL,
    Page,
    PublicIncident,
)
from incidents_cli.timeutil import format_duration, format_time

MARKER = ".incidents-site"
HISTORY_PAGE_SIZE = 50
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


@dataclass
class BuildResult:
    out: Path
    files: int
    incidents: int
    indicator: str
    unreadable: list[str]


def shown(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else ""


def load_public_inputs(
    root: Path, unreadable: list[str] | None = None
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Incident records, postmortem front matter by incident id, maintenance records."""
    from incidents_cli.record_cache import read_all

    incidents: list[dict[str, Any]] = []
    postmortems: dict[str, dict[str, Any]] = {}
    maintenance: list[dict[str, Any]] = []
    for record in read_all(root, kinds=("incident", "postmortem", "maintenance")):
        if record.error is not None or not isinstance(record.data, dict):
            if unreadable is not None:
                unreadable.append(record.rel)
            continue
        if record.kind == "incident":
            incidents.append(record.data)
        elif record.kind == "postmortem":
            postmortems[str(record.data.get("incident", record.stem))] = record.data
        elif record.kind == "maintenance":
            maintenance.append(record.data)
    return incidents, postmortems, maintenance


# --- template contexts ------------------------------------------------------------------


def _update_context(update: statuspage.PublicUpdate, names: dict[str, str]) -> dict[str, Any]:
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


def _incident_context(incident: PublicIncident, page: Page) -> dict[str, Any]:
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
        "updates": [_update_context(u, names) for u in reversed(incident.updates)],
        "postmortem": incident.postmortem_summary or "",
    }


def _maintenance_context(window: statuspage.Maintenance, page: Page) -> dict[str, Any]:
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


def _common(page: Page, root_prefix: str, title: str) -> dict[str, Any]:
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
        **_common(page, "", page.settings.title),
        "description": page.description,
        "active": [_incident_context(i, page) for i in page.active],
        "in_progress": [_maintenance_context(w, page) for w in page.in_progress],
        "upcoming": [_maintenance_context(w, page) for w in page.upcoming],
        "groups": groups,
        "recent": [_incident_context(i, page) for i in recent_resolved],
    }


def history_pages(page: Page) -> list[tuple[str, dict[str, Any]]]:
    incidents = page.incidents
    count = max(1, -(-len(incidents) // HISTORY_PAGE_SIZE))
    names = [f"history-{n}.html" if n > 1 else "history.html" for n in range(1, count + 1)]
    out = []
    for number in range(1, count + 1):
        chunk = incidents[(number - 1) * HISTORY_PAGE_SIZE : number * HISTORY_PAGE_SIZE]
        months: list[dict[str, Any]] = []
        for incident in chunk:
            month = incident.started.strftime("%B %Y")
            if not months or months[-1]["name"] != month:
                months.append({"name": month, "incidents": []})
            months[-1]["incidents"].append(_incident_context(incident, page))
        out.append(
            (
                names[number - 1],
                {
                    **_common(page, "", f"Incident history - {page.settings.title}"),
                    "months": months,
                    "number": number,
                    "count": count,
                    "previous": names[number - 2] if number > 1 else "",
                    "next": names[number] if number < count else "",
                    "pages": [
                        {"number": n, "href": names[n - 1]} for n in _page_window(number, count)
                    ],
                    "total": len(incidents),
                },
            )
        )
    return out


def _page_window(number: int, count: int) -> list[int]:
    wanted = {1, count, *range(max(1, number - 3), min(count, number + 3) + 1)}
    return sorted(wanted)


def _tag_authority(settings: Settings) -> str:
    host = urlsplit(settings.base_url).hostname if settings.base_url else None
    return host or "incidents.invalid"


def feed_context(page: Page) -> dict[str, Any]:
    entries = []
    for incident in page.incidents:
        for update in incident.updates:
            entries.append((update.at, incident, update))
    entries.sort(key=lambda e: (e[0], e[1].id, e[2].number), reverse=True)
    entries = entries[:FEED_ENTRIES]
    authority = _tag_authority(page.settings)
    items = []
    for at, incident, update in entries:
        label = UPDATE_STATUS_LABEL.get(update.status, update.status)
        items.append(
            {
                "id": f"tag:{authority},2000:incident/{incident.id}/update/{update.number}",
                "title": f"{incident.title}: {label}",
                "link": statuspage.absolute_url(
                    page.settings.base_url, f"incidents/{incident.id}.html#update-{update.number}"
                ),
                "updated": format_time(at),
                "rfc822": format_datetime(at, usegmt=True),
                "html": str(markdown(update.message)),
            }
        )
    updated = entries[0][0] if entries else page.now
    return {
        "title": f"{page.settings.title} - incident history",
        "site": statuspage.absolute_url(page.settings.base_url, "index.html"),
        "self_atom": statuspage.absolute_url(page.settings.base_url, "history.atom"),
        "self_rss": statuspage.absolute_url(page.settings.base_url, "history.rss"),
        "id": f"tag:{authority},2000:history",
        "updated": format_time(updated),
        "updated_rfc822": format_datetime(updated, usegmt=True),
        "entries": items,
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


# --- writing ------------------------------------------------------------------------------


def _json(data: Any) -> str:
    # <, > and & as \u escapes: the same data, and safe even if someone inlines the JSON
    # into an HTML page.
    text = json.dumps(data, indent=2, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") + "\n"


Reuse = Callable[[str, str], str | None]


def _no_reuse(rel: str, key: str) -> str | None:
    return None


def page_key(incident: PublicIncident, page: Page, renderer: Renderer) -> str:
    """What a resolved incident's page depends on, hashed: its public data, the names and
    settings it shows, the templates and the tool's version. Not "now": the page has none."""
    from incidents_cli import __version__

    parts = [
        __version__,
        renderer.fingerprint("site/incident.html", "site/base.html", "site/_macros.html"),
        repr(incident),
        repr([(c.id, c.name) for c in page.settings.components]),
        page.settings.title,
        page.settings.timezone,
    ]
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


def render_site(page: Page, renderer: Renderer, reuse: Reuse = _no_reuse) -> dict[str, str]:
    """Every file of the site, by relative path: a pure function of the page.

    ``reuse(path, key)`` may return the text a previous build rendered for the same key, so
    the pages of resolved incidents that did not change are not rendered again.
    """
    keys: dict[str, str] = {}
    files: dict[str, str] = {
        "style.css": renderer.source("site/style.css"),
        "index.html": renderer.render("site/index.html", index_context(page)),
    }
    for name, context in history_pages(page):
        files[name] = renderer.render("site/history.html", context)
    for incident in page.incidents:
        rel = f"incidents/{incident.id}.html"
        if not incident.active:  # an active incident's page shows how long it has lasted
            keys[rel] = page_key(incident, page, renderer)
            previous = reuse(rel, keys[rel])
            if previous is not None:
                files[rel] = previous
                continue
        context = {
            **_common(page, "../", f"{incident.title} - {page.settings.title}"),
            "generated": "",
            "incident": _incident_context(incident, page),
        }
        files[rel] = renderer.render("site/incident.html", context)
    feed = feed_context(page)
    files["history.atom"] = renderer.render("site/history.atom", feed)
    files["history.rss"] = renderer.render("site/history.rss", feed)
    for path, document in statuspage.api_documents(page).items():
        files[f"api/v2/{path}"] = _json(document)
    files["badge.svg"] = renderer.render(
        "site/badge.svg",
        badge_context(
            "status", INDICATOR_LABEL[page.indicator].lower(), BADGE_COLOR[page.indicator]
        ),
    )
    for view in page.components:
        files[f"badges/{view.id}.svg"] = renderer.render(
            "site/badge.svg",
            badge_context(view.name, STATUS_LABEL[view.status].lower(), BADGE_COLOR[view.status]),
        )
    files[MARKER] = json.dumps({"built_by": "incidents site build", "pages": keys}, indent=0) + "\n"
    return files


def write_tree(out: Path, files: dict[str, str]) -> None:
    """Write the whole site to a new folder, then swap it in place of the old one."""
    out = out.resolve()
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).exists())):
        raise RefusedError(
            f"--out {out} exists and is not a site built by incidents; "
            "choose another folder, or empty it first"
        )
    staging = out.parent / f".{out.name}.building"
    if staging.exists():
        shutil.rmtree(staging)
    for rel, text in sorted(files.items()):
        target = staging / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8", newline="\n")
    old = out.parent / f".{out.name}.old"
    if old.exists():
        shutil.rmtree(old)
    if out.exists():
        out.rename(old)
    staging.rename(out)
    if old.exists():
        shutil.rmtree(old)


def build_site(
    root: Path,
    out: Path,
    *,
    as_of: datetime | None = None,
    base_url: str | None = None,
) -> BuildResult:
    from dataclasses import replace

    from incidents_cli.gitrepo import Repo
    from incidents_cli.timeutil import now_utc, parse_time

    settings = load_settings(root)
    if base_url is not None:
        settings = replace(settings, base_url=base_url)
    if as_of is None:
        head_time = Repo.at(root).head_time() if _in_git(root) else None
        as_of = parse_time(head_time) if head_time else now_utc()
    unreadable: list[str] = []
    incidents, postmortems, maintenance = load_public_inputs(root, unreadable)
    page = statuspage.build_page(settings, incidents, postmortems, maintenance, as_of)
    files = render_site(page, Renderer(root), _previous_pages(out))
    write_tree(out, files)
    return BuildResult(out.resolve(), len(files), len(page.incidents), page.indicator, unreadable)


def _previous_pages(out: Path) -> Reuse:
    """Pages of the site already in ``out``, by the key they were rendered for."""
    try:
        manifest = json.loads((out / MARKER).read_text(encoding="utf-8"))
        keys: dict[str, str] = dict(manifest["pages"])
    except (OSError, ValueError, KeyError, TypeError):
        return _no_reuse

    def reuse(rel: str, key: str) -> str | None:
        if keys.get(rel) != key:
            return None
        try:
            return (out / rel).read_text(encoding="utf-8")
        except OSError:
            return None

    return reuse


def _in_git(root: Path) -> bool:
    from incidents_cli.gitrepo import Repo

    return Repo.is_repo(root)
