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
import shutil
from collections import Counter
from collections.abc import Iterable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from incidents_cli.core.errors import IncidentsError
from incidents_cli.core.settings import Settings
from incidents_cli.core.timeutil import format_time
from incidents_cli.site.contexts import (
    incident_page_context,
    month_context,
    month_file,
    words_of,
)
from incidents_cli.site.files import MARKER, REUSED, Folders, SiteFile, write_text
from incidents_cli.site.inputs import content_key, parsed_view_made
from incidents_cli.site.model import Page
from incidents_cli.site.public import PublicIncident
from incidents_cli.site.render import Renderer
from incidents_cli.store.parallel import bulk, iter_chunks

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

    def __init__(self, out: Path | None, vouched: int | None = None) -> None:
        self.out = out
        self.keys: dict[str, str] = {}
        self._files: dict[str, set[str]] = {}  # by folder: one listing, not a stat a page
        self._built = 0
        if out is None:
            return
        try:
            self._built = (out / MARKER).stat().st_ctime_ns
            if vouched is not None:  # the time the last build's check of --out began
                self._built = min(self._built, vouched)
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
                with Folders(str(self.out)) as walk, os.scandir(walk.fd(folder)) as entries:
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
    (of its public view, never of its files: see inputs.content_key), the site in --out,
    the key of what every page shows besides its
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


def incident_plan(
    page: Page, renderer: Renderer, reuse: Reuse, early: EarlyPages | None = None
) -> Plan:
    """One page per incident; a resolved incident's page is reused if its key is the one
    the page built before has, and left out if ``early`` wrote it already from the same
    content. Each resolved incident's key goes into the manifest."""
    templates = renderer.fingerprint(*INCIDENT_TEMPLATES)
    plan: Plan = []
    ids = Counter(incident.id for incident in page.incidents) if early is not None else None
    for index, incident in enumerate(page.incidents):
        rel = _incident_file(page, index)
        content = reuse.keys.get(incident.id)
        work: Work | None = (INCIDENT, index)
        # an active incident's page shows how long it has lasted: always rendered
        if not incident.active and content is not None:
            reuse.manifest[rel] = incident_key(reuse.fixed, templates, content)
            if reuse.previous.has(rel, reuse.manifest[rel]):
                work = None
        if early is not None and ids is not None and early.has(rel, content, ids[incident.id]):
            early.used.add(rel)  # written already (and there is no site before to reuse)
        else:
            plan.append((rel, work))
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
    page: Page,
    renderer: Renderer,
    months: dict[str, list[PublicIncident]],
    plan: Plan,
    meanwhile: Iterable[SiteFile] = (),
) -> Iterator[SiteFile]:
    """Each page of ``plan``: REUSED, or its text (UTF-8), rendered on every core and streamed back
    in order while this process writes them (a page written by each worker instead, into
    one folder at once, was measured slower: the file system serializes the creations).
    A path the plan gives twice is done once, where it comes last (for any file of the
    site, the last one given wins). ``meanwhile``: the other files of the site, which this
    process makes while the workers start on the pages (given before them)."""
    global _JOB
    last = {rel: position for position, (rel, _) in enumerate(plan)}
    kept = [(rel, work) for position, (rel, work) in enumerate(plan) if last[rel] == position]
    todo = _by_month(page, months, [work for _, work in kept if work is not None])
    for rel, work in kept:
        if work is None:
            yield rel, REUSED
    if not todo:
        yield from meanwhile
        return
    names = list(months)
    # a month's page shows a line of each of its incidents: four lines, about one page
    weight = sum(len(months[names[n]]) // 4 + 1 if kind == MONTH else 1 for kind, n in todo)
    # once, before forking (else each worker compiles its own)
    renderer.load("site/history_month.html", "site/incident.html")
    _JOB = _Job(page, renderer, months, names)
    try:
        with bulk():  # rendering makes no cycles: the collector would only walk the views
            yield from iter_chunks(_render, todo, weight=weight, meanwhile=meanwhile)
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


def _render(work: Sequence[Work]) -> list[SiteFile]:
    """Render these pages: what a worker does."""
    assert _JOB is not None
    job = _JOB
    out: list[SiteFile] = []
    for kind, index in work:
        if kind == MONTH:
            month = job.names[index]
            newer, older = _neighbours(job.names, index)
            context = month_context(job.page, month, job.months[month], newer, older)
            page = job.renderer.render_bytes("site/history_month.html", context)
        else:
            context = incident_page_context(job.page.incidents[index], job.page)
            page = job.renderer.render_bytes("site/incident.html", context)
        out.append((_path(job.page, job.names, (kind, index)), page))
    return out


INCIDENT_TEMPLATE = "site/incident.html"


class EarlyPages:
    """The pages of incidents rendered where their records are checked, and written into
    the folder the site is being built in, as the checks come back (a build into an empty
    --out): most of a cold build's pages, made on every core while the records are read
    rather than after, and written while the workers go on.

    An incident's page shows nothing but its public view, the settings and the templates
    (which is also what lets a rebuild reuse it: see ``incident_plan``), so it can be made
    before the rest of the site. Whether its record is published is known only once every
    record is checked: the site uses a page written here only for an incident whose id no
    other has and whose content key is the one the page was made of (``has``); the other
    pages written here are removed once that is known (``remove_unused``), before any
    other page of an incident is written. Two records whose ids differ at most in case
    (one file name on some systems) leave no page here."""

    def __init__(self, staging: Path, settings: Settings, renderer: Renderer) -> None:
        self.staging = staging
        # the settings are all of the site's page that an incident's page shows
        self.page = Page(settings, datetime(1970, 1, 1, tzinfo=UTC), [], [], [], "none", "")
        self.renderer = renderer
        self.written: dict[str, str] = {}  # each page written: the content key it shows
        self.used: set[str] = set()  # the pages the site has
        self.views = _Views(self)
        self._folders: set[str] = set()
        self._names: dict[str, str | None] = {}  # page by its name in lower case

    def keep(self, key: str, rel: str, data: bytes) -> None:
        """Write the page of an incident that a worker rendered (``key``: its content); for
        a second record with the same id (in any case), remove the first one's instead."""
        name = rel.casefold()
        if name in self._names:
            first = self._names[name]
            if first is not None:
                os.unlink(f"{self.staging}/{first}")  # noqa: PTH108
                del self.written[first]
                self._names[name] = None
            return
        write_text(str(self.staging), rel, data, self._folders)
        self.written[rel] = key
        self._names[name] = rel

    def remove_unused(self) -> None:
        """Remove the pages written here that the site does not have (the incidents that
        are not published, or whose id another has)."""
        for rel in self.written.keys() - self.used:
            os.unlink(f"{self.staging}/{rel}")  # noqa: PTH108
            del self.written[rel]

    def has(self, rel: str, key: str | None, incidents: int) -> bool:
        """Whether the page ``rel`` was written of the content ``key``, for an id that
        ``incidents`` published incidents have."""
        return incidents == 1 and key is not None and self.written.get(rel) == key

    @contextmanager
    def rendering(self) -> Iterator[EarlyPages]:
        """This object for the workers forked while it lasts (``early_view``); the folder
        removed at the end, unless it has taken the place of --out."""
        global _EARLY
        _EARLY = self
        try:
            yield self
        finally:
            _EARLY = None
            shutil.rmtree(self.staging, ignore_errors=True)


_EARLY: EarlyPages | None = None


class _EarlyView:
    """``inputs.parsed_view`` of an incident, and its page (path and UTF-8) rendered from the
    view: what the worker that checks the record does (store/checks.py ``derive``). The
    pages of a chunk are rendered together once its records are checked (``finish``):
    parsing and checking one record, then rendering one page, in turns, ran slower than
    each for a chunk at a time. No page where a template fails: it fails again, with its
    message, where it is rendered as ever."""

    def __call__(
        self, rel: str, blob: str, data: Any, pm_rel: str | None, pm_blob: str, pm_data: Any
    ) -> tuple[str, list[Any], Any]:
        return parsed_view_made(rel, blob, data, pm_rel, pm_blob, pm_data)

    @staticmethod
    def finish(made: list[tuple[str, list[Any], Any]]) -> list[tuple[str, list[Any], Any]]:
        return [(key, entry, _early_page(view)) for key, entry, view in made]


def _early_page(view: PublicIncident | None) -> tuple[str, bytes] | None:
    early = _EARLY
    if early is None or view is None:
        return None
    words_of(early.page).forget()  # lines are kept by id(): this view goes after its page
    try:
        context = incident_page_context(view, early.page)
        page = early.renderer.render_bytes(INCIDENT_TEMPLATE, context)
    except IncidentsError:
        return None
    return f"incidents/{view.id}.html", page


early_view = _EarlyView()


class _Views(MutableMapping[str, Any]):
    """The views check_all derives, by record path, as inputs.public_inputs reads them; the
    page a worker rendered with one is written as it comes (``EarlyPages.keep``), not held."""

    def __init__(self, early: EarlyPages) -> None:
        self._early = early
        self._views: dict[str, Any] = {}

    def __setitem__(self, rel: str, made: Any) -> None:
        key, entry, page = made
        self._views[rel] = (key, entry)
        if page is not None:  # (by its content key, as incident_plan asks)
            self._early.keep(content_key(entry[1]), *page)

    def __getitem__(self, rel: str) -> Any:
        return self._views[rel]

    def __delitem__(self, rel: str) -> None:
        del self._views[rel]

    def __iter__(self) -> Iterator[str]:
        return iter(self._views)

    def __len__(self) -> int:
        return len(self._views)
