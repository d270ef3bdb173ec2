"""The pages of months and incidents: which the site in --out has already, and rendering
the others on every core.

They are nearly all of a site's work: one page per incident and per month of history. The
plan is made in the command's process: each page's key, and whether the page built before
was rendered for that key (then it is reused). The other pages are rendered in forked
workers (store/parallel.py), month by month, and streamed back in order to be written.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from incidents_cli.core.timeutil import format_time
from incidents_cli.site.contexts import (
    incident_page_context,
    month_context,
    month_file,
)
from incidents_cli.site.files import REUSED, Reused
from incidents_cli.site.model import Page
from incidents_cli.site.public import PublicIncident
from incidents_cli.site.render import Renderer
from incidents_cli.store.parallel import MIN_ITEMS, bulk, iter_chunks

MARKER = ".incidents-site"
"""The manifest of a site built by this tool: the key each reusable page was rendered for."""

MONTH_TEMPLATES = ("site/history_month.html", "site/base.html", "site/_macros.html")
INCIDENT_TEMPLATES = ("site/incident.html", "site/base.html", "site/_macros.html")
"""The templates a month's page and an incident's page are keyed by (renderer.fingerprint)."""

MONTH, INCIDENT = 0, 1
Work = tuple[int, int]
"""A page to render: (MONTH, the month's place in the list) or (INCIDENT, its place)."""
Plan = list[tuple[str, Work | None]]
"""Each page's path, and what to render for it (None: reuse the page built before)."""


class Previous:
    """The site already in --out: the key each reusable page was rendered for.

    A page changed since (edited by hand: its inode's change time is after the manifest's,
    which every build writes last; unlike the modification time, no tool can set it back)
    is rendered again, and so is anything that is not a regular file (a symlink is never
    kept), so a rebuild gives a cold build's bytes."""

    def __init__(self, out: Path | None) -> None:
        self.out = out
        self.keys: dict[str, str] = {}
        self._files: dict[str, set[str]] = {}  # by folder: one listing, not a stat a page
        self._built = 0
        if out is None:
            return
        try:
            self._built = (out / MARKER).stat().st_ctime_ns
            manifest = json.loads((out / MARKER).read_text(encoding="utf-8"))
            self.keys = dict(manifest["pages"])
        except (OSError, ValueError, KeyError, TypeError, RecursionError):
            self.keys = {}  # damaged or foreign: every page is written anew

    def has(self, rel: str, key: str) -> bool:
        if self.out is None or self.keys.get(rel) != key:
            return False
        folder, _, name = rel.rpartition("/")
        if folder not in self._files:
            try:
                with os.scandir(self.out / folder) as entries:
                    self._files[folder] = {
                        e.name
                        for e in entries
                        if e.is_file(follow_symlinks=False)
                        and e.stat(follow_symlinks=False).st_ctime_ns <= self._built
                    }
            except OSError:
                self._files[folder] = set()
        return name in self._files[folder]


def page_key(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


@dataclass
class Reuse:
    """What decides whether a page built before can be reused: each incident's content key
    (its files' blob ids), the site in --out, the key of what every page shows besides its
    incidents, and the manifest the keys of this build go into."""

    keys: dict[str, str]
    previous: Previous
    fixed: str
    manifest: dict[str, str] = field(default_factory=dict)


def month_plan(
    page: Page, renderer: Renderer, months: dict[str, list[PublicIncident]], reuse: Reuse
) -> Plan:
    """One page per month; a month whose incidents did not change (and that shows no
    build time) is reused. Each month's key goes into the manifest."""
    templates = renderer.fingerprint(*MONTH_TEMPLATES)
    names = list(months)
    plan: Plan = []
    for number, month in enumerate(names):
        newer, older = _neighbours(names, number)
        rel = month_file(month)
        plan.append((rel, (MONTH, number)))
        content = [reuse.keys.get(i.id, "") for i in months[month]]
        if all(content):
            active = any(i.active for i in months[month])
            reuse.manifest[rel] = month_key(
                reuse.fixed, templates, month, newer, older, page.now if active else None, content
            )
            if reuse.previous.has(rel, reuse.manifest[rel]):
                plan[-1] = (rel, None)
    return plan


def month_key(
    fixed: str,
    templates: str,
    month: str,
    newer: str,
    older: str,
    now: datetime | None,
    content: Sequence[str],
) -> str:
    """The key of a month's page: what it shows besides its incidents, and their content
    keys in order (``now``: the build's time, where one of them is still open)."""
    shown = format_time(now) if now is not None else ""
    return page_key(fixed, templates, month, newer, older, shown, *content)


def incident_key(fixed: str, templates: str, content: str) -> str:
    """The key of a resolved incident's page."""
    return page_key(fixed, templates, content)


def _neighbours(names: Sequence[str], number: int) -> tuple[str, str]:
    """The months before and after the one at ``number`` (names are newest first)."""
    newer = names[number - 1] if number > 0 else ""
    older = names[number + 1] if number + 1 < len(names) else ""
    return newer, older


def incident_plan(page: Page, renderer: Renderer, reuse: Reuse) -> Plan:
    """One page per incident; a resolved incident's page is reused if its key is the one
    the page built before has. Each resolved incident's key goes into the manifest."""
    templates = renderer.fingerprint(*INCIDENT_TEMPLATES)
    plan: Plan = []
    for index, incident in enumerate(page.incidents):
        rel = _incident_file(page, index)
        plan.append((rel, (INCIDENT, index)))
        # an active incident's page shows how long it has lasted: always rendered
        if not incident.active and incident.id in reuse.keys:
            reuse.manifest[rel] = incident_key(reuse.fixed, templates, reuse.keys[incident.id])
            if reuse.previous.has(rel, reuse.manifest[rel]):
                plan[-1] = (rel, None)
    return plan


@dataclass
class _Job:
    """The pages being rendered, for the workers (forked: they have it already, nothing
    is sent to them but numbers)."""

    page: Page
    renderer: Renderer
    months: dict[str, list[PublicIncident]]
    names: list[str]


_JOB: _Job | None = None


def render_pages(
    page: Page, renderer: Renderer, months: dict[str, list[PublicIncident]], plan: Plan
) -> Iterator[tuple[str, bytes | Reused]]:
    """Each page of ``plan``: REUSED, or its text (UTF-8), rendered on every core and streamed back
    in order while this process writes them (a page written by each worker instead, into
    one folder at once, was measured slower: the file system serializes the creations).
    A path the plan gives twice is done once, where it comes last (for any file of the
    site, the last one given wins)."""
    global _JOB
    last = {rel: position for position, (rel, _) in enumerate(plan)}
    kept = [(rel, work) for position, (rel, work) in enumerate(plan) if last[rel] == position]
    todo = _by_month(page, months, [work for _, work in kept if work is not None])
    for rel, work in kept:
        if work is None:
            yield rel, REUSED
    if not todo:
        return
    # once, before forking (else each worker compiles its own)
    renderer.load("site/history_month.html", "site/incident.html", parser=len(todo) >= MIN_ITEMS)
    names = list(months)
    _JOB = _Job(page, renderer, months, names)
    try:
        with bulk():  # rendering makes no cycles: the collector would only walk the views
            paths = (_path(page, names, work) for work in todo)
            yield from zip(paths, iter_chunks(_render, todo), strict=True)
    finally:
        _JOB = None


def _path(page: Page, names: list[str], work: Work) -> str:
    kind, index = work
    return month_file(names[index]) if kind == MONTH else _incident_file(page, index)


def _incident_file(page: Page, index: int) -> str:
    return f"incidents/{page.incidents[index].id}.html"


def _by_month(page: Page, months: dict[str, list[PublicIncident]], todo: list[Work]) -> list[Work]:
    """The pages to render, each month's page followed by its incidents' pages: a worker
    reads an incident's view for both (a cached view is decoded on first use), and every
    worker gets some of the month pages, which weigh more."""
    number = {id(i): n for n, month in enumerate(months) for i in months[month]}

    def month_of(work: Work) -> tuple[int, int, int]:
        kind, index = work
        if kind == MONTH:
            return index, MONTH, index
        return number.get(id(page.incidents[index]), -1), INCIDENT, index

    return sorted(todo, key=month_of)


def _render(work: Sequence[Work]) -> list[bytes]:
    """Render these pages: what a worker does."""
    assert _JOB is not None
    job = _JOB
    out: list[bytes] = []
    for kind, index in work:
        if kind == MONTH:
            month = job.names[index]
            newer, older = _neighbours(job.names, index)
            context = month_context(job.page, month, job.months[month], newer, older)
            out.append(job.renderer.render_bytes("site/history_month.html", context))
        else:
            context = incident_page_context(job.page.incidents[index], job.page)
            out.append(job.renderer.render_bytes("site/incident.html", context))
    return out
