"""`incidents site build`: the static status site, written atomically and deterministically.

Reads the records, computes the public page (statuspage.py), renders the templates
(render.py) and writes every file into a fresh folder that then replaces the old one. "Now"
is the commit time of HEAD unless --as-of says otherwise, so one commit gives one site.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import os
import pickle
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from incidents_cli.core.errors import RefusedError
from incidents_cli.core.settings import Settings
from incidents_cli.core.timeutil import format_duration, format_time
from incidents_cli.site import model as statuspage
from incidents_cli.site.model import (
    STATUS_LABEL,
    UPDATE_STATUS_LABEL,
    Page,
    PublicIncident,
)
from incidents_cli.site.render import Renderer, markdown
from incidents_cli.store.layout import load_settings

MARKER = ".incidents-site"
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


@dataclass
class PublicInputs:
    """What the site is built from: the public view of every incident with the key of its
    content (file name and the blob ids of its record and postmortem) by incident id, the
    maintenance windows, and the files that could not be read."""

    incidents: list[PublicIncident]
    keys: dict[str, str]
    maintenances: list[statuspage.Maintenance]
    unreadable: list[str]


def _content_id(root: Path, rel: str, blobs: dict[str, str]) -> tuple[str, bytes | None]:
    """The blob id git gives a file's content, and the bytes if they had to be read for it:
    git's index knows it for a tracked, unchanged file; any other file is hashed here."""
    if rel in blobs:
        return blobs[rel], None
    try:
        raw = (root / rel).read_bytes()
    except OSError:
        return "unreadable", None
    return hashlib.sha1(b"blob %d\x00" % len(raw) + raw, usedforsecurity=False).hexdigest(), raw


PUBLIC_CACHE = "public-f2"  # entries: (id, started, resolved, latest), the pickled view, unreadable


class _Cached(PublicIncident):
    """A public incident from the cache: what ordering and grouping need (id, started,
    resolved, latest) is at hand; the rest is unpickled when first used. A rebuild touches
    the full view of only the few hundred incidents it renders or shows as recent.
    (This relies on PublicIncident's fields having no class-level defaults: a test says so.)
    """

    def __getattr__(self, name: str) -> Any:
        packed = self.__dict__.pop("_packed", None)
        if packed is None:
            raise AttributeError(name)
        self.__dict__.update(pickle.loads(packed).__dict__)  # frozen: fill __dict__ directly
        return self.__dict__[name] if name in self.__dict__ else super().__getattribute__(name)


def _cached(head: tuple[Any, ...], packed: bytes) -> PublicIncident:
    incident = object.__new__(_Cached)
    incident.__dict__.update(
        id=head[0], started=head[1], resolved=head[2], latest=head[3], _packed=packed
    )
    return incident


def public_inputs(root: Path) -> PublicInputs:
    """The public view of every incident, computed only for records that changed.

    The view of an incident depends on its record and on postmortems/<ID>.md (validation
    holds the postmortem's `incident` to its file name), so it is keyed by the blob ids of
    both files: from git's index where git vouches for the file, else hashed from its bytes
    (so a cold build gives the same keys). Views are cached by key in .git/incidents-cache,
    and a rebuild parses only what changed since.
    """
    from incidents_cli.core.records import INCIDENTS_DIR, POSTMORTEMS_DIR
    from incidents_cli.store import cache as record_cache
    from incidents_cli.store.layout import read_record
    from incidents_cli.store.yamlio import file_names

    snap = record_cache.snapshot(root)
    blobs = snap.blobs if snap is not None else {}
    cache = record_cache.load_pickle(snap, PUBLIC_CACHE) if snap is not None else {}
    kept: dict[str, Any] = {}
    with_postmortem = set(file_names(root / POSTMORTEMS_DIR, (".md",)))
    inputs = PublicInputs([], {}, [], [])
    for name in file_names(root / INCIDENTS_DIR, (".yaml", ".yml")):
        rel = f"{INCIDENTS_DIR}/{name}"
        stem = name.rsplit(".", 1)[0]
        pm_rel = f"{POSTMORTEMS_DIR}/{stem}.md" if f"{stem}.md" in with_postmortem else None
        record_id, raw = _content_id(root, rel, blobs)
        pm_id, pm_raw = _content_id(root, pm_rel, blobs) if pm_rel else ("-", None)
        key = f"{name}:{record_id}:{pm_id}"
        entry = cache.get(key)
        if isinstance(entry, tuple) and len(entry) == 3:
            head, packed, unreadable = entry
            view = _cached(head, packed) if head is not None else None
            kept[key] = entry
        else:
            view, unreadable = None, []
            record = read_record(root, rel, "incident", raw)  # each file is read once
            postmortem = read_record(root, pm_rel, "postmortem", pm_raw) if pm_rel else None
            if postmortem is not None and not isinstance(postmortem.data, dict):
                unreadable.append(postmortem.rel)
            if record.error is not None or not isinstance(record.data, dict):
                unreadable.insert(0, rel)
            else:
                pm_data = (
                    postmortem.data if postmortem and isinstance(postmortem.data, dict) else None
                )
                view = statuspage.public_incident(record.data, pm_data)
            if snap is not None:
                kept[key] = (
                    (view.id, view.started, view.resolved, view.latest) if view else None,
                    pickle.dumps(view, protocol=pickle.HIGHEST_PROTOCOL) if view else b"",
                    unreadable,
                )
        inputs.unreadable.extend(unreadable)
        if view is not None:
            inputs.incidents.append(view)
            inputs.keys[view.id] = key
    if snap is not None and kept.keys() != cache.keys():
        record_cache.save_pickle(snap, PUBLIC_CACHE, kept, cache)
    for record in record_cache.read_all(root, kinds=("maintenance",), snap=snap):
        if record.error is not None or not isinstance(record.data, dict):
            inputs.unreadable.append(record.rel)
            continue
        window = statuspage.maintenance_window(record.data)
        if window is not None:
            inputs.maintenances.append(window)
    return inputs


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
        **_common(page, "", f"Incident history - {page.settings.title}"),
        "years": years,
        "total": len(page.incidents),
    }


def month_context(
    page: Page, month: str, incidents: list[PublicIncident], newer: str, older: str
) -> dict[str, Any]:
    """One month's history page. It shows no build time, so it changes only with its
    incidents (or while one of them is still open)."""
    return {
        **_common(page, "", f"Incidents in {_month_name(month)} - {page.settings.title}"),
        "generated": "",
        "month": _month_name(month),
        "incidents": [_incident_context(i, page) for i in incidents],
        "newer": {"name": _month_name(newer), "href": month_file(newer)} if newer else None,
        "older": {"name": _month_name(older), "href": month_file(older)} if older else None,
    }


def _tag_authority(settings: Settings) -> str:
    host = urlsplit(settings.base_url).hostname if settings.base_url else None
    return host or "incidents.invalid"


def feed_context(page: Page) -> dict[str, Any]:
    # The newest updates all belong to the incidents whose own newest update is newest, so
    # only those are searched (updates are sorted by time within an incident).
    def newest(incident: PublicIncident) -> tuple[datetime, str, int]:
        return incident.latest[0], incident.id, incident.latest[1]

    candidates = heapq.nlargest(FEED_ENTRIES, page.incidents, key=newest)
    entries = [(u.at, incident, u) for incident in candidates for u in incident.updates]
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


class Reused:
    """A file taken unchanged from the site already in --out (linked, not rewritten)."""


REUSED = Reused()


class Previous:
    """The site already in --out: the key each reusable page was rendered for."""

    def __init__(self, out: Path | None) -> None:
        self.out = out
        self.keys: dict[str, str] = {}
        self._files: dict[str, set[str]] = {}  # by folder: one listing, not a stat a page
        if out is None:
            return
        try:
            manifest = json.loads((out / MARKER).read_text(encoding="utf-8"))
            self.keys = dict(manifest["pages"])
        except (OSError, ValueError, KeyError, TypeError):
            self.keys = {}

    def has(self, rel: str, key: str) -> bool:
        if self.out is None or self.keys.get(rel) != key:
            return False
        folder, _, name = rel.rpartition("/")
        if folder not in self._files:
            try:
                with os.scandir(self.out / folder) as entries:
                    self._files[folder] = {e.name for e in entries if e.is_file()}
            except OSError:
                self._files[folder] = set()
        return name in self._files[folder]


def _key(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


def _fixed_key(page: Page) -> str:
    """What every reusable page depends on besides its incidents: the tool's version and the
    settings the pages show."""
    from incidents_cli import __version__

    return _key(
        __version__,
        page.settings.title,
        page.settings.timezone,
        repr([(c.id, c.name) for c in page.settings.components]),
    )


def render_site(
    page: Page,
    renderer: Renderer,
    keys: dict[str, str] | None = None,
    previous: Previous | None = None,
) -> Iterator[tuple[str, str | Reused]]:
    """Every file of the site as (relative path, text), one at a time so that no more than
    one page is held in memory: a pure function of the page.

    ``keys`` gives the content key of each incident (its files' blob ids); a page whose key
    (that, the templates, the settings it shows and the tool's version) equals the one the
    page in ``previous`` was rendered for is reused instead of rendered again: the pages of
    resolved incidents, and the history pages of months whose incidents did not change.
    The manifest of keys comes last.
    """
    keys = keys or {}
    previous = previous or Previous(None)
    fixed = _fixed_key(page)
    manifest: dict[str, str] = {}
    yield "style.css", renderer.source("site/style.css")
    yield "index.html", renderer.render("site/index.html", index_context(page))
    months = months_of(page)
    yield "history.html", renderer.render("site/history.html", history_context(page, months))
    names = list(months)
    month_templates = renderer.fingerprint(
        "site/history_month.html", "site/base.html", "site/_macros.html"
    )
    for number, month in enumerate(names):
        newer = names[number - 1] if number > 0 else ""
        older = names[number + 1] if number + 1 < len(names) else ""
        incidents = months[month]
        rel = month_file(month)
        content = [keys.get(i.id, "") for i in incidents]
        if all(content):
            now = format_time(page.now) if any(i.active for i in incidents) else ""
            manifest[rel] = _key(fixed, month_templates, month, newer, older, now, *content)
            if previous.has(rel, manifest[rel]):
                yield rel, REUSED
                continue
        context = month_context(page, month, incidents, newer, older)
        yield rel, renderer.render("site/history_month.html", context)
    incident_templates = renderer.fingerprint(
        "site/incident.html", "site/base.html", "site/_macros.html"
    )
    for incident in page.incidents:
        rel = f"incidents/{incident.id}.html"
        # an active incident's page shows how long it has lasted: always rendered
        if not incident.active and incident.id in keys:
            manifest[rel] = _key(fixed, incident_templates, keys[incident.id])
            if previous.has(rel, manifest[rel]):
                yield rel, REUSED
                continue
        context = {
            **_common(page, "../", f"{incident.title} - {page.settings.title}"),
            "generated": "",
            "incident": _incident_context(incident, page),
        }
        yield rel, renderer.render("site/incident.html", context)
    feed = feed_context(page)
    yield "history.atom", renderer.render("site/history.atom", feed)
    yield "history.rss", renderer.render("site/history.rss", feed)
    for path, document in statuspage.api_documents(page).items():
        yield f"api/v2/{path}", _json(document)
    yield (
        "badge.svg",
        renderer.render(
            "site/badge.svg",
            badge_context(
                "status", INDICATOR_LABEL[page.indicator].lower(), BADGE_COLOR[page.indicator]
            ),
        ),
    )
    for view in page.components:
        yield (
            f"badges/{view.id}.svg",
            renderer.render(
                "site/badge.svg",
                badge_context(
                    view.name, STATUS_LABEL[view.status].lower(), BADGE_COLOR[view.status]
                ),
            ),
        )
    yield (
        MARKER,
        json.dumps({"built_by": "incidents site build", "pages": manifest}, indent=0) + "\n",
    )


def write_tree(out: Path, files: Iterable[tuple[str, str | Reused]]) -> int:
    """Write the site to a new folder as its files come, then swap it in place of the old
    one; the number of files. Reused files are hard links to the old copies (a copy where
    the file system has none). If anything fails, the old site is left as it was."""
    out = out.resolve()
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).exists())):
        raise RefusedError(
            f"--out {out} exists and is not a site built by incidents; "
            "choose another folder, or empty it first"
        )
    staging = out.parent / f".{out.name}.building"
    if staging.exists():
        shutil.rmtree(staging)
    # Plain strings ("/" works on every OS): 10,000 Path objects cost more than the writes.
    base, before = str(staging), str(out)
    made: set[str] = set()
    written: set[str] = set()
    try:
        for rel, content in files:
            target = f"{base}/{rel}"
            folder = target.rpartition("/")[0]
            if folder not in made:
                os.makedirs(folder, exist_ok=True)  # noqa: PTH103
                made.add(folder)
            if rel in written:  # two records with one id: the last wins, and is never
                os.unlink(target)  # noqa: PTH108  written through a link into the old site
            written.add(rel)
            if isinstance(content, Reused):
                try:
                    os.link(f"{before}/{rel}", target)
                except OSError:
                    shutil.copyfile(f"{before}/{rel}", target)
            else:
                with open(target, "w", encoding="utf-8", newline="\n") as handle:  # noqa: PTH123
                    handle.write(content)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = out.parent / f".{out.name}.old"
    if old.exists():
        shutil.rmtree(old)
    if out.exists():
        out.rename(old)
    staging.rename(out)
    if old.exists():
        shutil.rmtree(old)
    return len(written)


def build_site(
    root: Path,
    out: Path,
    *,
    as_of: datetime | None = None,
    base_url: str | None = None,
) -> BuildResult:

    from incidents_cli.core.timeutil import now_utc, parse_time
    from incidents_cli.store.cache import enabled
    from incidents_cli.store.git import Repo

    settings = load_settings(root)
    if base_url is not None:
        settings = settings._replace(base_url=base_url)
    if as_of is None:
        head_time = Repo.at(root).head_time() if _in_git(root) else None
        as_of = parse_time(head_time) if head_time else now_utc()
    inputs = public_inputs(root)
    page = statuspage.build_page(settings, inputs.incidents, inputs.maintenances, as_of)
    previous = Previous(out if enabled() else None)  # INCIDENTS_NO_CACHE: render everything
    count = write_tree(out, render_site(page, Renderer(root), inputs.keys, previous))
    return BuildResult(out.resolve(), count, len(page.incidents), page.indicator, inputs.unreadable)


def _in_git(root: Path) -> bool:
    from incidents_cli.store.git import Repo

    return Repo.is_repo(root)
