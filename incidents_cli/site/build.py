"""`incidents site build`: the static status site, written atomically and deterministically.

Takes the public views (inputs.py), computes the page (model.py) and the template contexts
(contexts.py), renders the templates (render.py; the pages of months and incidents on every
core, pages.py) and writes every file (files.py) into a fresh folder that then replaces the
old one, or only the files that changed (update.py). "Now" is the commit time of HEAD
unless --as-of says otherwise, so one commit gives one site. Every path written is checked
to stay inside the output folder, and the build removes only folders it made itself.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from incidents_cli.core.errors import IncidentsError, RefusedError
from incidents_cli.core.records import RecordFile
from incidents_cli.core.settings import Settings
from incidents_cli.core.timeutil import format_time
from incidents_cli.site.api import api_documents
from incidents_cli.site.calendar import maintenance_calendar
from incidents_cli.site.contexts import (
    badge_contexts,
    favicon_context,
    feed_context,
    feed_file,
    feed_incidents,
    history_context,
    index_context,
    months_of,
    tag_authority,
)
from incidents_cli.site.files import (
    MARKER,
    REUSED,
    Folders,
    Reused,
    SiteFile,
    Unsafe,
    refuse_outside,
    staging_folder,
    write_text,
)
from incidents_cli.site.i18n import catalogue_key
from incidents_cli.site.inputs import public_inputs
from incidents_cli.site.model import ComponentView, Page, build_page
from incidents_cli.site.pages import (
    INCIDENT_TEMPLATE,
    EarlyPages,
    Previous,
    Reuse,
    incident_plan,
    month_plan,
    page_key,
    render_pages,
)
from incidents_cli.site.render import Renderer
from incidents_cli.store.layout import load_settings

__all__ = ["MARKER", "REUSED", "BuildResult", "Reused", "build_site", "write_tree"]


@dataclass
class BuildResult:
    out: Path
    files: int
    incidents: int
    indicator: str
    unreadable: list[str]


def _json(data: Any) -> bytes:
    """An API document as UTF-8: JSON indented by two spaces, as ``json.dumps(data,
    indent=2, ensure_ascii=False)`` writes it."""
    # <, > and & as \u escapes: the same data, and safe even if someone inlines the JSON
    # into an HTML page. (In UTF-8 these bytes are never part of another character.)
    text = _dumps_fast(data)
    return (
        text.replace(b"<", b"\\u003c").replace(b">", b"\\u003e").replace(b"&", b"\\u0026") + b"\n"
    )


def _dumps_fast(data: Any) -> bytes:
    """``_dumps``'s bytes, made by orjson where it is installed (Python's own encoder is
    pure Python as soon as it indents; tests/test_site_api_json.py holds the two to the
    same bytes). What orjson refuses (an integer over 64 bits, a lone surrogate) goes to
    ``_dumps``, which writes it or raises as before. Floats it writes otherwise (2e-7 for
    2e-07): the API has none (times are text, counts integers; tested)."""
    try:
        import orjson
    except ImportError:  # pragma: no cover - a platform without its wheel
        return _dumps(data)
    try:
        return orjson.dumps(data, option=orjson.OPT_INDENT_2)
    except TypeError:  # orjson.JSONEncodeError
        return _dumps(data)


def _dumps(data: Any) -> bytes:
    return json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8")


def _fixed_key(page: Page) -> str:
    """What every reusable page depends on besides its incidents: the tool (its version and
    code: a page made by other code is rendered again) and the settings the pages show."""
    from incidents_cli.store.resources import tool_key

    return page_key(
        tool_key(),
        page.settings.title,
        page.settings.timezone,
        page.settings.base_url,
        page.settings.logo,
        page.settings.language,
        catalogue_key(page.settings.language),
        repr(page.settings.subscribe),
        repr([(c.id, c.name) for c in page.settings.components]),
    )


def render_site(
    page: Page,
    renderer: Renderer,
    keys: dict[str, str] | None = None,
    previous: Previous | None = None,
    sequences: dict[str, int] | None = None,
    kept: dict[str, Any] | None = None,
    early: EarlyPages | None = None,
) -> Iterator[SiteFile]:
    """Every file of the site as (relative path, text), one at a time so that no more than
    one page is held in memory: a pure function of the page.

    ``keys`` gives the content key of each incident (of its public view: inputs.py
    ``content_key``); a page whose key
    (that, the templates, the settings it shows and the tool's version) equals the one the
    page in ``previous`` was rendered for is reused instead of rendered again: the pages of
    resolved incidents, and the history pages of months whose incidents did not change.
    ``sequences`` gives each maintenance record's SEQUENCE for the calendar (calendar.py).
    The manifest of keys comes last. ``kept``: given, the months and the feeds'
    incidents are put in it (for state.py). The pages ``early`` wrote already are left out.
    """
    reuse = Reuse(keys or {}, previous or Previous(None), _fixed_key(page))
    yield "style.css", renderer.source("site/style.css")
    months = months_of(page)
    kept = {} if kept is None else kept
    kept["months"] = months
    plan = month_plan(page, renderer, months, reuse) + incident_plan(page, renderer, reuse, early)
    if early is not None:
        early.remove_unused()  # before any other page of an incident is written
    # the other files are made here while the workers start on the pages of months and
    # incidents (render_pages), and the feeds' keys go into the manifest after theirs
    others = _others(page, renderer, reuse, sequences or {}, kept)
    yield from render_pages(page, renderer, months, plan, meanwhile=others)
    yield (
        MARKER,
        json.dumps({"built_by": "incidents site build", "pages": reuse.manifest}, indent=0) + "\n",
    )


def _others(
    page: Page,
    renderer: Renderer,
    reuse: Reuse,
    sequences: dict[str, int],
    kept: dict[str, Any],
) -> Iterator[SiteFile]:
    """The files of the site besides the style and the pages of months and incidents."""
    months = kept["months"]
    yield "index.html", renderer.render("site/index.html", index_context(page))
    yield "history.html", renderer.render("site/history.html", history_context(page, months))
    yield from _feeds(page, renderer, reuse, kept)
    yield "maintenance.ics", maintenance_calendar(page, tag_authority(page.settings), sequences)
    for path, document in api_documents(page).items():
        yield f"api/v2/{path}", _json(document)
    for rel, badge in badge_contexts(page):
        yield rel, renderer.render("site/badge.svg", badge)
    yield "favicon.svg", renderer.render("site/favicon.svg", favicon_context(page))


def _feeds(
    page: Page, renderer: Renderer, reuse: Reuse, kept: dict[str, Any]
) -> Iterator[SiteFile]:
    """The site's Atom and RSS feeds, and one of each per component; a feed whose key (its
    incidents' content keys, its maintenance windows, the templates, what every page shows)
    is the one the feed built before has is reused."""
    chosen = kept["chosen"] = feed_incidents(page)
    for view in (None, *page.components):
        candidates = chosen.get(view.id if view else "", [])
        key = _feed_key(page, reuse, view, [incident.id for incident in candidates])
        feed: dict[str, Any] | None = None
        for kind in ("atom", "rss"):
            rel = f"history.{kind}" if view is None else feed_file(view.id, kind)
            template = f"site/history.{kind}"
            if key is not None:
                reuse.manifest[rel] = page_key(key, renderer.fingerprint(template))
                if reuse.previous.has(rel, reuse.manifest[rel]):
                    yield rel, REUSED
                    continue
            feed = feed or feed_context(page, view, candidates)
            yield rel, renderer.render(template, feed)


def _feed_key(
    page: Page, reuse: Reuse, view: ComponentView | None, candidates: Sequence[str]
) -> str | None:
    """What a feed shows depends on (see contexts.feed_context; ``candidates``: the ids of
    its incidents), or None where an incident's content key is unknown."""
    keys = [reuse.keys.get(ident, "") for ident in candidates]
    if not all(keys):
        return None
    shown = page.maintenances if view is not None else []
    windows = [repr(window) for window in shown if view and view.id in window.components]
    now = "" if keys or windows else format_time(page.now)  # an empty feed's update time
    return page_key(reuse.fixed, "feed", view.id if view else "", now, *keys, "\x01", *windows)


def write_tree(
    out: Path,
    files: Iterable[SiteFile],
    early: EarlyPages | None = None,
    own: dict[str, str] | None = None,
    moved: dict[str, tuple[int, int]] | None = None,
) -> int:
    """Write the site to a new folder as its files come, then swap it in place of the old
    one; the number of files. Reused files are hard links to the old copies (a copy where
    the file system has none). If anything fails, the old site is left as it was.
    ``early``: the new folder, made for an empty --out, with pages written into it already
    (those ``files`` leaves out)."""
    out = out.resolve()
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).exists())):
        raise RefusedError(
            f"--out {out} exists and is not a site built by incidents; "
            "choose another folder, or empty it first"
        )
    if early is None and (out / MARKER).is_file():  # a site built before: what changed
        from incidents_cli.site.update import update_site

        updated = update_site(out, files, own, moved)
        if updated is not None:
            return updated
    if own is not None:
        own[""] = ""  # a new folder: every file is new, none vouched for by its bytes

    staging = early.staging if early is not None else staging_folder(out)
    try:
        count = _write_files(str(staging), str(out), files, early)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if not out.exists():
        staging.rename(out)
        return count
    _swap(out, staging)
    return count


def _swap(out: Path, staging: Path) -> None:
    """The new site in ``staging`` put in place of the one in ``out`` (removed)."""
    import tempfile

    from incidents_cli.store.lock import signals_held

    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    old.rmdir()  # the name is ours now; the old site moves there
    with signals_held() as held:  # never stopped with no site in --out
        try:
            out.rename(old)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        staging.rename(out)
    shutil.rmtree(old)
    if held.signal is not None:
        from incidents_cli.site.state import _die_of

        _die_of(held.signal)


def _write_files(
    base: str, before: str, files: Iterable[SiteFile], early: EarlyPages | None = None
) -> int:
    """Write each file under the folder ``base`` (a reused one as a link to its copy under
    ``before``, whose folders are opened without following a symlink); the number of
    files, those ``early`` wrote included."""
    made: set[str] = set()
    written: set[str] = set()
    old: list[Folders] = []
    try:
        for rel, content in files:
            refuse_outside(rel)
            target = f"{base}/{rel}"
            if rel in written:  # two records with one id: the last wins, and is never
                os.unlink(target)  # noqa: PTH108  written through a link into the old site
            written.add(rel)
            if isinstance(content, Reused):
                folder = target.rpartition("/")[0]
                if folder not in made:
                    os.makedirs(folder, exist_ok=True)  # noqa: PTH103
                    made.add(folder)
                if not old:
                    old.append(Folders(before))
                _link(old[0], rel, target)
            else:
                write_text(base, rel, content, made)
    finally:
        for folders in old:
            folders.close()
    if early is not None:
        written |= early.used
    return len(written)


def _link(old: Folders, rel: str, target: str) -> None:
    """``target`` made a hard link to (else a copy of) ``rel`` of the old site."""
    folder, _, name = rel.rpartition("/")
    try:
        source = old.fd(folder)
    except Unsafe:
        raise RefusedError(
            f"--out {old.base}: a folder in it became a symlink while the site was built; "
            "nothing is read through one: remove it, then build again"
        ) from None
    try:
        os.link(name, target, src_dir_fd=source, follow_symlinks=False)
    except OSError:
        opened = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=source)
        with os.fdopen(opened, "rb") as copied, open(target, "wb") as copy:  # noqa: PTH123
            shutil.copyfileobj(copied, copy)


def build_site(
    root: Path,
    out: Path,
    *,
    as_of: datetime | None = None,
    base_url: str | None = None,
    exclude: Iterable[str] = (),
    records: Sequence[RecordFile] | None = None,
    derived: Mapping[str, Any] | None = None,
    built: list[Any] | None = None,
    early: EarlyPages | None = None,
    asked: AskedGit | None = None,
) -> BuildResult:
    """Build the site into ``out``; ``exclude``: records that must not be published.
    ``built``: given, the page, the renderer and the inputs are put in it (for the state
    a rebuild starts from, state.py). ``early``: the pages written already as their
    records were checked (with the settings and templates they were rendered with).
    ``asked``: what ``ask_git`` asked of git before (else it is asked now)."""

    from incidents_cli.core.timeutil import now_utc, parse_time
    from incidents_cli.store.cache import enabled

    settings = early.page.settings if early is not None else site_settings(root, base_url)
    head_time, counts = (asked or ask_git(root))()
    if as_of is None:
        as_of = parse_time(head_time) if head_time else now_utc()
    sequences = sequences_of(counts)
    inputs = public_inputs(root, settings.timezone, frozenset(exclude), records, derived)
    page = build_page(settings, inputs.incidents, inputs.maintenances, as_of)
    kept: dict[str, Any] = {"own": {}, "moved": {}}
    previous = _previous(root, out, kept) if enabled() else Previous(None)  # else: render all
    renderer = early.renderer if early is not None else Renderer(root, settings.language)
    files = render_site(page, renderer, inputs.content, previous, sequences, kept, early)
    count = write_tree(out, files, early, kept["own"], kept["moved"])
    if built is not None:
        built.extend((page, renderer, inputs, kept))
    return BuildResult(out.resolve(), count, len(page.incidents), page.indicator, inputs.unreadable)


def _previous(root: Path, out: Path, kept: dict[str, Any]) -> Previous:
    """The site in ``out``, its pages trusted up to the time the last build vouched for;
    the time this build begins to look at them kept (state.py ``_vouched``)."""
    from incidents_cli.site.state import _fs_now, vouched_time

    resolved = out.resolve()
    if not (resolved / MARKER).is_file():
        return Previous(out)
    kept["started"] = _fs_now(resolved)
    return Previous(out, vouched_time(root, resolved))


@contextmanager
def early_pages(root: Path, out: Path, base_url: str | None) -> Iterator[EarlyPages | None]:
    """The pages of incidents made as their records are checked (pages.py ``EarlyPages``),
    for a build into an empty --out (or none yet); None where there is a site in --out
    already (only what changed is written then), or where the settings, the templates or
    --out have a problem (the build says which, as ever)."""
    out = out.resolve()
    early = None
    try:
        if not out.exists() or (out.is_dir() and not any(out.iterdir())):
            settings = site_settings(root, base_url)
            renderer = Renderer(root, settings.language)
            renderer.load(INCIDENT_TEMPLATE)  # once, before the workers are forked
            early = EarlyPages(staging_folder(out), settings, renderer)
    except (IncidentsError, OSError):
        early = None
    if early is None:
        yield None
        return
    with early.rendering():
        yield early


def site_settings(root: Path, base_url: str | None) -> Settings:
    """The settings the site is built with (``base_url``: --base-url, if given)."""
    settings = load_settings(root)
    return settings if base_url is None else settings._replace(base_url=base_url)


class AskedGit:
    """What a build asks of git, asked when this is made and answered when it is called
    (the same answer each time): the commit time of HEAD (None outside git, or before the
    first commit), and how many commits changed each maintenance record. Where the
    repository's top is and HEAD's time are asked at once; the counts, asked only in a git
    work tree, once ``advance`` (or the call) has its answer. A cold build asks before it loads its
    templates and checks the records, and git answers meanwhile: no wait for git before
    the work starts."""

    def __init__(self, root: Path) -> None:
        from incidents_cli.store.git import Repo, ask_head_time

        self._root = root
        self._where = Repo.ask_at(root)
        self._time = ask_head_time(root)
        self._counts: Callable[[], dict[str, int]] | None = None
        self._outside = False
        self._answer: tuple[str | None, dict[str, int]] | None = None

    def advance(self, head: str | None = None) -> None:
        """The counts asked, once git has said where the repository is: of ``head`` (a
        commit: a state kept with the counts names it, state.py), else of HEAD."""
        if self._counts is not None:
            return
        from incidents_cli.core.records import MAINTENANCE_DIR
        from incidents_cli.site.calendar import revision_counts
        from incidents_cli.store.git import ask_revisions

        try:
            top = self._where().top
        except IncidentsError:  # not in a git work tree
            self._outside = True
            self._counts = dict
            return
        # asked in the incident repository's folder, as state.py asks: the folder named
        # is its own maintenance folder, also where it is a folder of a bigger repository
        revisions = ask_revisions(self._root, MAINTENANCE_DIR, head)
        self._counts = lambda: revision_counts(top, revisions())

    def __call__(self) -> tuple[str | None, dict[str, int]]:
        if self._answer is None:
            self.advance()
            assert self._counts is not None
            head_time, counts = self._time(), self._counts()
            self._answer = (None, {}) if self._outside else (head_time, counts)
        return self._answer


def ask_git(root: Path) -> AskedGit:
    """What a build asks of git (``AskedGit``), asked now."""
    return AskedGit(root)


def sequences_of(counts: dict[str, int]) -> dict[str, int]:
    """Each maintenance record's SEQUENCE for the calendar, from the number of commits that
    changed its public view (calendar.py): that less one (a record's first version is 0).
    The counts of every file of a record (its id, the file's stem) are added up: a file
    renamed (MNT-0002.yaml to .yml: counted as the old one removed and a new one made)
    carries its count on, so a SEQUENCE calendars hold never goes down (it goes up, as
    for any record removed and made again)."""
    sequences: dict[str, int] = {}
    for path, count in counts.items():
        if path.endswith((".yaml", ".yml")):
            stem = Path(path).stem
            sequences[stem] = sequences.get(stem, -1) + count
    return sequences
