"""A rebuild after a few committed changes, without work for every incident.

A full build (build.py) reads every incident's key and plans every page, which is work in
proportion to the repository even when one record changed. So after each build what the
pages that show many incidents are made of (each month's incidents and their keys, the
incidents the front page, the API and the feeds show, the findings) is kept here with the
commit it was built from and a digest of the manifest it wrote. The next build asks git
which files changed since that commit and, where it can vouch for the rest, updates that
state, renders the pages that show a changed incident or "now", and patches the manifest:
no work for the incidents that did not change.

Anything it cannot vouch for is left to the full build: no state, or one of another build
of the tool or for another --out, a manifest that is not the one the state describes (a
damaged file, another build in between), a commit that is not an ancestor of HEAD, anything
uncommitted, untracked, ignored or marked skip-worktree under the records or templates, a
change to the settings, templates, maintenance, runbooks or on-call file, an incident added,
removed, resolved or reopened, a record that does not validate before or after, facts that
the rules across records read changed, a page in --out that is not the regular file the
last build wrote, "now" earlier than the last build's. The state is data only: a JSON file
and text parts (each record's facts, each month's incidents) that it names by digest, all
named by ``tool_key()`` and read as every cache is (store/cache_files.py); one that is not
of its shape is a full build, never a crash.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from incidents_cli.core.findings import Finding
from incidents_cli.core.records import (
    INCIDENTS_DIR,
    MAINTENANCE_DIR,
    ONCALL_FILE,
    POSTMORTEMS_DIR,
    RUNBOOKS_DIR,
    SETTINGS_FILE,
)
from incidents_cli.site.files import MARKER, files_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from incidents_cli.core.settings import Settings
    from incidents_cli.site.build import BuildResult
    from incidents_cli.site.inputs import PublicInputs
    from incidents_cli.site.model import Page
    from incidents_cli.site.public import Maintenance, PublicIncident
    from incidents_cli.site.render import Renderer
    from incidents_cli.store.git import Counted, Revision

T = TypeVar("T")

STATE_FORMAT = 5
SITE_INPUTS = (
    SETTINGS_FILE,
    ONCALL_FILE,
    INCIDENTS_DIR,
    POSTMORTEMS_DIR,
    RUNBOOKS_DIR,
    MAINTENANCE_DIR,
    "templates",
)
"""Every file a build reads (besides the tool's own, which ``tool_key`` names)."""
FEW = 20
"""More changed files than this, and the full build runs."""
FEEDS = ("site/history.atom", "site/history.rss")


def _path(folder: Path, part: str = "") -> Path:
    """The state's file, or one of its text parts (the facts, a month's incidents)."""
    from incidents_cli.store.resources import tool_key

    name = f"site-s{STATE_FORMAT}-v{tool_key()}"
    return folder / (f"{name}-{part}.txt" if part else f"{name}.json")


def _digest(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


def _folder(root: Path) -> Path | None:
    """The cache folder, where ``root`` is the top of a plain git work tree (else None)."""
    if os.environ.get("GIT_DIR") or os.environ.get("GIT_WORK_TREE"):
        return None
    try:
        if not stat.S_ISDIR(os.lstat(root / ".git").st_mode):
            return None
    except OSError:
        return None
    return root / ".git" / "incidents-cache"


def forget(root: Path) -> None:
    """Remove the state (a build that cannot leave one must not leave an old one)."""
    folder = _folder(root)
    if folder is None or not folder.is_dir():
        return
    for name in os.listdir(folder):  # noqa: PTH208  names, not paths
        if name.startswith("site-s") and name.endswith((".json", ".txt")):
            (folder / name).unlink(missing_ok=True)


# ---- what a full build keeps -------------------------------------------------------------


def _line(view: PublicIncident, key: str) -> str:
    """A line of an incident the page shows: id, keys, the view's month in the cache, its
    head, and what the 90-day bars read of it (bar_record: no view is decoded for them)."""
    from incidents_cli.site.inputs import bar_record, view_head

    head = view_head(view)
    return f"{view.id}\t{key}\t{head[1][:7]}\t{_compact(head)}\t{_compact(bar_record(view))}"


def _compact(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))


def _short(view: PublicIncident, key: str) -> str:
    """A month's line of an incident: id, keys, the view's month in the cache (its start's,
    as the heads file has it) and whether it is open."""
    started = view.started
    return f"{view.id}\t{key}\t{started.year:04d}-{started.month:02d}\t{int(view.active)}"


def _window(window: Maintenance) -> list[Any]:
    return [
        window.id,
        window.title,
        window.start.isoformat(),
        window.end.isoformat(),
        list(window.components),
        window.message,
        window.series,
        window.cancelled,
        window.recurrence,
        [[n, at.isoformat(), message] for n, at, message in window.updates],
    ]


def _unwindow(item: list[Any]) -> Maintenance:
    from incidents_cli.site.public import Maintenance

    return Maintenance(
        id=item[0],
        title=item[1],
        start=datetime.fromisoformat(item[2]),
        end=datetime.fromisoformat(item[3]),
        components=tuple(item[4]),
        message=item[5],
        series=item[6],
        cancelled=item[7],
        recurrence=item[8],
        updates=tuple((n, datetime.fromisoformat(at), message) for n, at, message in item[9]),
    )


def _shown(page: Page) -> list[PublicIncident]:
    """The incidents a rebuild needs in full besides the months it renders: the newest (all
    since the first day of the bars, at least the API's 50), the open and recently resolved
    ones, the oldest (when the records begin), in the page's order."""
    from incidents_cli.site.api import RECENT_INCIDENTS
    from incidents_cli.site.model import bars_begin, zone_of

    first = bars_begin(page.now, zone_of(page.settings))
    last = len(page.incidents) - 1
    return [
        incident
        for number, incident in enumerate(page.incidents)
        if number < RECENT_INCIDENTS
        or number == last
        or incident.started >= first
        or (incident.resolved or page.now) >= first
    ]


def before_build(root: Path, out: Path) -> str | None:
    """HEAD, where a full build about to run into ``out`` is to leave a state for the next
    rebuild: caches on, and a site in ``out`` already (a first build into an empty folder,
    as CI's, keeps none: the next build is a full one again, and keeps it)."""
    from incidents_cli.store.cache_files import enabled
    from incidents_cli.store.git import run_git

    if _folder(root) is None or not enabled() or not (out / MARKER).is_file():
        return None
    asked = run_git(root, "rev-parse", "--verify", "-q", "HEAD", check=False)
    return asked.stdout.strip() or None if asked.returncode == 0 else None


def after_build(
    root: Path,
    out: Path,
    head: str | None,
    built: list[Any],
    found: tuple[list[Finding], list[Finding]],
    facts: dict[str, str | None],
    counts: dict[str, int] | None = None,
) -> None:
    """Keep the state of the build just made, if HEAD is still ``head`` (nothing was
    committed while it ran) and git vouches that the work tree holds its records and
    templates; else leave none. ``counts``: the commit counts of maintenance records at
    ``head`` (the calendar's SEQUENCE), kept where the clone is not shallow, so that the
    next rebuild asks git only about the commits since."""
    from incidents_cli.store.cache_files import enabled
    from incidents_cli.store.git import ask_changes, ask_shallow

    if not enabled():
        return  # INCIDENTS_NO_CACHE: no cache is read or written
    if head is not None and facts and built:
        shallow = ask_shallow(root)
        changes = ask_changes(root, None, SITE_INPUTS)()
        if shallow() is not False:
            counts = None
        if changes is not None and changes.head == head:
            remember(root, out, built, head, found, facts, counts)
            return
    forget(root)


def remember(
    root: Path,
    out: Path,
    built: list[Any],
    head: str,
    found: tuple[list[Finding], list[Finding]],
    facts: dict[str, str | None],
    counts: dict[str, int] | None = None,
) -> None:
    """Keep what the build into ``out`` just made (``built``: build_site's page, renderer
    and inputs; ``found``: the findings and those that left a record out) for the next
    rebuild, built from commit ``head``; ``counts``: see after_build."""
    from incidents_cli.store.yamlio import write_atomic

    folder = _folder(root)
    if folder is None:
        return
    try:
        state, texts = _state(out, built, found, facts)
        state["commit"] = head
        state["counts"], state["counted"] = counts or {}, counts is not None
        folder.mkdir(parents=True, exist_ok=True)
        forget(root)
        for part, text in texts.items():  # the parts first: the state names their digests
            write_atomic(_path(folder, part), text, sync=False)
        write_atomic(_path(folder), _encoded(state), sync=False)
    except Exception as failed:
        forget(root)
        if not _missed(failed):
            raise
    from incidents_cli.site.files import empty_trash, trash_in

    empty_trash(trash_in(folder))  # what the rebuilds before this build replaced


def _keys(inputs: PublicInputs) -> dict[str, str]:
    """Each incident's keys in the state's lines: the view cache's (its files' blob ids)
    and, after the last colon, its content's (of its public view: what the keys of its
    pages in the manifest are made of)."""
    return {ident: f"{key}:{inputs.content[ident]}" for ident, key in inputs.keys.items()}


def _state(
    out: Path,
    built: list[Any],
    found: tuple[list[Finding], list[Finding]],
    facts: dict[str, str | None],
) -> tuple[dict[str, Any], dict[str, str]]:
    """The state, and its text parts by name."""
    from incidents_cli.site.build import _fixed_key

    page, renderer, inputs, kept = built
    keys = _keys(inputs)
    months, chosen = kept["months"], kept["chosen"]  # as render_site made them
    totals = _totals(page)
    shown = {i.id for i in _shown(page)}
    feeding = {i.id for candidates in chosen.values() for i in candidates} - shown
    later = [i.started for i in inputs.incidents if i.started > page.now]
    files = files_of(str(out))
    if files is None:  # not a regular file there: no state
        raise _Stale
    texts = _texts(months, keys, facts)
    state = {
        "format": STATE_FORMAT,
        "commit": "",
        "now": page.now.isoformat(),
        "later": min(later).isoformat() if later else "",
        "out": str(out),
        "manifest": _digest((out / MARKER).read_bytes()),
        "fixed": _fixed_key(page),
        "templates": _fingerprints(renderer),
        "findings": [list(f) for f in found[0]],
        "left_out": [list(f) for f in found[1]],
        "unreadable": list(inputs.unreadable),
        "facts": _digest(texts["facts"]),
        "months": [[month, _digest(texts[f"m-{month}"])] for month in months],
        "index": "\n" + "".join(f"{i.id}\t{m}\n" for m, members in months.items() for i in members),
        "open": [month for month, members in months.items() if any(i.active for i in members)],
        "shown": [_line(i, keys[i.id]) for i in page.incidents if i.id in shown],
        "feeding": [_line(i, keys[i.id]) for i in page.incidents if i.id in feeding],
        "feeds": [
            [view, totals.get(view, 0), [i.id for i in chosen.get(view, [])]]
            for view in ("", *(c.id for c in page.components))
        ],
        "windows": [_window(w) for w in inputs.maintenances],
        "files": [len(files), _digest("\n".join(sorted(files)))],
        "count": len(page.incidents),
        "counts": {},
        "counted": False,
        **_vouched(out, kept),
    }
    return state, texts


OWN_MOST = 200
"""A full build that wrote more files than this vouches for them by when they were moved
into place, not by their digests (those of all would make the state and the next check
heavy)."""


def _vouched(out: Path, kept: dict[str, Any]) -> dict[str, Any]:
    """What a full build vouches for: where it updated the site in place (update.py) and
    wrote few files, the files changed after the time it began, by their bytes (a file
    edited while it ran is checked again by the next build); where it wrote many in place,
    everything up to now if no file changed after it began but by its own moves (else
    nothing); else (a new folder) everything up to its manifest's change time."""
    own, started, moved = kept.get("own"), kept.get("started"), kept.get("moved")
    if own is not None and started is not None and "" not in own and MARKER in own:
        return {"vouched": started, "own": dict(own)}
    if own is not None and started is not None and moved:
        return {"vouched": _moved_only(out, started, moved), "own": {}}
    return {"vouched": os.lstat(out / MARKER).st_ctime_ns, "own": {}}


def _moved_only(out: Path, started: int, moved: dict[str, tuple[int, int]]) -> int:
    """The time a build that moved many files into --out vouches for: now (the file
    system's), if every file changed after ``started`` (when the build began to look at
    --out) is one it moved, with the inode and change time it had right after that move
    (``moved``): nobody's edit came after the build began. Else 0: nothing is vouched for
    by time, and the next build is a full one. A stat of each file: a walk of --out. (An
    edit made in the instant between a file's move and the stat after it is taken for the
    move: microseconds per file, where a build used to trust all its run's edits.)"""
    now = _fs_now(out)
    found: set[str] = set()
    newer: list[str] = []
    try:
        if not _unchanged(str(out), started, found, newer):
            return 0
        for rel in newer:
            changed = (out / rel).lstat()
            if moved.get(rel) != (changed.st_ino, changed.st_ctime_ns):
                return 0
    except (OSError, ValueError):
        return 0
    return now


def _totals(page: Page) -> dict[str, int]:
    """How many incidents each feed chooses from, by component ("" for the site's)."""
    totals: dict[str, int] = {"": len(page.incidents)}
    for incident in page.incidents:
        for component in incident.touched:
            totals[component] = totals.get(component, 0) + 1
    return totals


def _texts(
    months: dict[str, list[PublicIncident]], keys: dict[str, str], facts: dict[str, str | None]
) -> dict[str, str]:
    """The state's text parts: each record's facts, each month's incidents."""
    texts = {"facts": "\n" + "".join(f"{rel}\t{d or '-'}\n" for rel, d in facts.items())}
    for month, members in months.items():
        texts[f"m-{month}"] = "\n" + "".join(_short(i, keys[i.id]) + "\n" for i in members)
    return texts


def _fingerprints(renderer: Renderer) -> list[str]:
    from incidents_cli.site.pages import INCIDENT_TEMPLATES, MONTH_TEMPLATES

    return [
        renderer.fingerprint(*MONTH_TEMPLATES),
        renderer.fingerprint(*INCIDENT_TEMPLATES),
        *(renderer.fingerprint(name) for name in FEEDS),
    ]


# ---- the rebuild ---------------------------------------------------------------------------


@dataclass
class Rebuilt:
    """What a rebuild from the state gives: as a full build's result and findings."""

    result: BuildResult
    left_out: list[Finding]
    findings: list[Finding]


class _Stale(Exception):
    """Something the state cannot vouch for: the full build runs instead."""


_DAMAGED = (_Stale, OSError, TypeError, ValueError, KeyError, IndexError, AttributeError)
"""What a state that is not of our shape raises somewhere: a miss, never a crash. Only
_Stale (what the checks of the state say: it is missing, damaged, another build's, or
--out or git says other than it) and OSError are sure to be that; the others would be a
bug of the rebuild's as well, so under tests (``bugs_raise``) they fail loudly instead of
turning into lost speed."""


def _missed(failed: BaseException) -> bool:
    """Whether ``failed``, raised while a rebuild or the keeping of a state ran, is a
    miss (the full build runs, or no state is kept), not a bug to raise."""
    from incidents_cli.core.errors import bugs_raise

    if isinstance(failed, (_Stale, OSError)):  # OSError: the file system's say, not ours
        return True
    return isinstance(failed, _DAMAGED) and not bugs_raise()


def rebuild(root: Path, out: Path, base_url: str | None, as_of: datetime | None) -> Rebuilt | None:
    """The site in ``out`` brought up to date from the state the last build kept, or None
    (nothing written) where the full build must run."""
    from incidents_cli.store.cache_files import enabled

    folder = _folder(root)
    if folder is None or not enabled():
        return None
    started: list[_Rebuild] = []
    try:
        return _rebuilt(started, root, out, folder, base_url, as_of)
    finally:
        for work in started:
            work.emptied()  # (before a full build forks its workers)


def _rebuilt(
    started: list[_Rebuild],
    root: Path,
    out: Path,
    folder: Path,
    base_url: str | None,
    as_of: datetime | None,
) -> Rebuilt | None:
    work: _Rebuild | None = None
    try:
        work = _Rebuild(root, out.resolve(), folder, base_url, as_of)
        started.append(work)
        page = work.prepare()
    except BaseException as failed:
        if work is not None and work.counts is not None:
            work.counts()  # git's answer waited for, unused
        if work is not None and work.checking is not None:
            work.checking.passed()  # (its process is waited for either way)
        if _missed(failed):
            return None
        raise
    from incidents_cli.site.files import Unsafe

    try:
        work.write()
    except Unsafe:
        return None  # a folder of --out became a symlink: the full build makes a new folder
    return work.finish(page)


_SHAPES: dict[str, type] = {
    "format": int,
    "commit": str,
    "now": str,
    "later": str,
    "out": str,
    "manifest": str,
    "fixed": str,
    "templates": list,
    "findings": list,
    "left_out": list,
    "unreadable": list,
    "facts": str,
    "months": list,
    "index": str,
    "open": list,
    "shown": list,
    "feeding": list,
    "feeds": list,
    "windows": list,
    "files": list,
    "count": int,
    "vouched": int,
    "own": dict,
    "counts": dict,
    "counted": bool,
}
"""The state's fields and their types."""


def _encoded(state: dict[str, Any]) -> bytes | str:
    """The state as JSON: by orjson where it is installed (the state is hundreds of KB,
    written by every build; orjson writes it several times faster), else, or where orjson
    refuses a value (a lone surrogate, an integer outside 64 bits), by json.dumps."""
    try:
        import orjson

        return orjson.dumps(state)
    except (ImportError, TypeError):  # (orjson.JSONEncodeError is a TypeError)
        return json.dumps(state, separators=(",", ":"))


def _decoded(data: bytes) -> Any:
    """The state's JSON decoded: by orjson where it is installed, else, or where orjson
    refuses it (NaN, a lone surrogate), by json.loads. (A value orjson reads otherwise, an
    integer outside 64 bits, fails the state's checks: a full build, never a wrong page.)"""
    try:
        import orjson

        return orjson.loads(data)
    except (ImportError, ValueError):  # (orjson.JSONDecodeError is a ValueError)
        return json.loads(data.decode("utf-8"))


def _load(folder: Path) -> dict[str, Any]:
    from incidents_cli.store.cache_files import read_cache_bytes

    try:
        state = _decoded(read_cache_bytes(_path(folder)))
    except (OSError, ValueError, RecursionError):
        raise _Stale from None
    if type(state) is not dict or any(type(state.get(k)) is not t for k, t in _SHAPES.items()):
        raise _Stale
    if state["format"] != STATE_FORMAT or len(state["templates"]) != 2 + len(FEEDS):
        raise _Stale
    # what becomes an argument to git or part of a file name is of its shape, or a miss
    if not re.fullmatch("[0-9a-f]{40}(?:[0-9a-f]{24})?", state["commit"]):
        raise _Stale
    if not all(type(m) is list and len(m) == 2 and _MONTH.fullmatch(m[0]) for m in state["months"]):
        raise _Stale
    if not all(_finding(item) for item in (*state["findings"], *state["left_out"])):
        raise _Stale  # (read after the site is written: checked before anything is)
    if not all(type(rel) is str for rel in state["unreadable"]):
        raise _Stale
    if not all(type(d) is str for d in state["own"].values()):
        raise _Stale
    if not all(type(n) is int for n in state["counts"].values()):
        raise _Stale
    files = state["files"]
    if len(files) != 2 or type(files[0]) is not int or type(files[1]) is not str:
        raise _Stale
    return state


def _full_view(packed: str) -> PublicIncident:
    """A view from its JSON text, decoded at once."""
    from incidents_cli.site.inputs import view_data
    from incidents_cli.site.public import PublicIncident, incident_fields_from_data

    return PublicIncident(**incident_fields_from_data(view_data(packed)))


def newest_of(head: list[Any]) -> tuple[datetime, int]:
    """When a head's newest update was posted, and its number (what a feed orders by)."""
    return datetime.fromisoformat(head[3][0]), head[3][1]


def _finding(item: Any) -> bool:
    """Whether ``item`` is a finding as [path, line, column, field, message, level]."""
    types = (str, int, int, str, str, str)
    return type(item) is list and len(item) == 6 and all(map(isinstance, item, types))


_MONTH = re.compile("[0-9]{4}-[0-9]{2}")


def _split(line: str) -> tuple[str, str, str, list[Any]]:
    """A line of the state: id, keys, the view's month in the cache, its head (and its bar
    record: _bars)."""
    ident, key, month, head, _ = line.split("\t", 4)
    decoded = _head_of(head)
    if type(decoded) is not list or len(decoded) != 5:
        raise _Stale
    return ident, key, month, decoded


def _head_of(text: str) -> Any:
    """A head's JSON decoded, as json.loads decodes it: by orjson where it is installed
    and the head's number comes out an integer (orjson makes one outside 64 bits a
    float; a rebuild reads some 500 heads), else by json.loads."""
    try:
        import orjson

        decoded = orjson.loads(text)
        latest = decoded[3] if type(decoded) is list and len(decoded) == 5 else None
        if type(latest) is list and len(latest) == 2 and type(latest[1]) is int:
            return decoded
    except (ImportError, ValueError):  # (orjson.JSONDecodeError is a ValueError)
        pass
    return json.loads(text)


def _bars(line: str) -> list[Any]:
    """The bar record of a line of the state."""
    text = line.rpartition("\t")[2]
    try:
        import orjson  # (faster where it is installed: a rebuild reads some 370 of these)

        bars = orjson.loads(text)
    except ImportError:
        bars = json.loads(text)
    if type(bars) is not list or len(bars) != 4 or type(bars[1]) is not dict:
        raise _Stale
    return bars


def _cached_as(key: str) -> str:
    """The key a line's view is cached by (its files' blob ids)."""
    return key.rpartition(":")[0]


def _content_of(key: str) -> str:
    """The content key of a line's view (inputs.content_key)."""
    return key.rpartition(":")[2]


class _Rebuild:
    """One rebuild from the state; each step raises _Stale where it cannot vouch."""

    def __init__(
        self, root: Path, out: Path, folder: Path, base_url: str | None, as_of: datetime | None
    ) -> None:
        self.root, self.out, self.folder = root, out, folder
        self.base_url, self.as_of = base_url, as_of
        self.checking: _OutCheck | None = None
        self.state = _load(folder)
        self.written: dict[str, str | bytes] = {}
        self.made: dict[str, tuple[str, str]] = {}  # views made now: key -> (month, JSON)
        self.lines: dict[str, str] = {}  # the changed incidents' new lines, by id
        self.old: dict[str, tuple[int, list[Any]]] = {}  # their month's place, old head
        self.views: dict[str, PublicIncident] = {}
        self.keys: dict[str, str] = {}
        self.rekeyed: dict[int, tuple[int, str]] = {}  # in the manifest: start, end, key
        self.texts: dict[str, str] = {}  # the state's text parts read so far
        self.split_lines: dict[str, tuple[str, str, str, list[Any]]] = {}  # lines split so far
        self.short: dict[str, str] = {}  # the changed incidents' new month lines
        self.changed_texts: dict[str, str] = {}  # and those to write again
        self.head = ""
        self.counts: Callable[[], list[Revision]] | None = None  # the whole history's
        self.counted: Counted | None = None
        self.own: dict[str, str] = {}  # the files written, by digest
        self.emptied: Callable[[], None] = lambda: None  # waits for the trash's thread
        self.trash = ""  # the trash folder this rebuild made (_move)

    def prepare(self) -> Page:
        """Everything up to writing: what changed, the page, the files that change."""
        from incidents_cli.core.timeutil import parse_time
        from incidents_cli.store.git import ask_changes, ask_revisions

        state = self.state
        if state["out"] != str(self.out):
            raise _Stale
        self.manifest = _manifest(self.out, state["manifest"])
        self.checking = _OutCheck(self.out, state)  # while the rest is done
        # git is asked from a thread: each git started waits for a core to exec it (and
        # the first answer is waited for), which this thread does not wait for meanwhile
        answer = _meanwhile(
            lambda: ask_changes(self.root, state["commit"], SITE_INPUTS, MAINTENANCE_DIR)
        )
        self.emptied = _emptying(self.folder)  # earlier rebuilds' trash, freed meanwhile
        try:
            settings, renderer = self._tools()  # while git answers
        finally:
            changes = answer()  # (its processes are waited for either way)
        if changes is None or len(changes.files) > FEW or changes.counted is None:
            raise _Stale
        self.head, self.counted = changes.head, changes.counted
        if not self._adds_up():  # the calendar's counts of the whole history, meanwhile
            self.counts = ask_revisions(self.root, MAINTENANCE_DIR, self.head)
        now = self.as_of or parse_time(changes.time)
        if now < datetime.fromisoformat(state["now"]):
            raise _Stale
        if state["later"] and now >= datetime.fromisoformat(state["later"]):
            raise _Stale  # an incident that started after the last build's "now" shows now
        self._changed(changes.files)
        page = self._page(now, settings)
        self._render(page, renderer)
        assert self.checking is not None
        if not self.checking.passed():
            raise _Stale  # a page in --out is not the one the last build wrote
        return page

    # -- what changed --

    def _flagged(self) -> set[str]:
        """The files with a finding, left out or unreadable at the last build."""
        state = self.state
        flags = {str(item[0]) for item in state["findings"]}
        flags |= {str(item[0]) for item in state["left_out"]}
        return flags | {str(rel) for rel in state["unreadable"]}

    def _changed(self, files: dict[str, tuple[str, str, str]]) -> None:
        """The incidents whose record or postmortem changed, each checked as `validate`
        checks it and its view made."""
        flagged = self._flagged()
        ids: set[str] = set()
        for rel, (letter, mode, _) in files.items():
            folder, _, name = rel.rpartition("/")
            if letter != "M" or mode not in ("100644", "100755"):
                raise _Stale  # added, removed, a symlink: the full build decides
            if folder not in (INCIDENTS_DIR, POSTMORTEMS_DIR) or rel in flagged:
                raise _Stale  # settings, templates, maintenance, runbooks, on-call; findings
            ids.add(name.rsplit(".", 1)[0])
        for ident in sorted(ids):
            self._made(ident, files, flagged)

    def _split(self, line: str) -> tuple[str, str, str, list[Any]]:
        """``_split``, once for each line (a feed's incidents are sorted by their heads;
        the heads are only read)."""
        split = self.split_lines.get(line)
        if split is None:
            split = self.split_lines[line] = _split(line)
        return split

    def _text(self, part: str) -> str:
        """A text part of the state, if its digest is the one the state names."""
        from incidents_cli.store.cache_files import read_cache_text

        if part not in self.texts:
            named = dict(self.state["months"]) if part.startswith("m-") else {}
            expected = named.get(part[2:]) if part.startswith("m-") else self.state["facts"]
            text = read_cache_text(_path(self.folder, part))
            if _digest(text) != expected:
                raise _Stale
            self.texts[part] = text
        return self.texts[part]

    def _old(self, ident: str) -> tuple[int, str]:
        """Where the incident is in the state's months: the month's place, its line."""
        index = self.state["index"]
        at = index.find(f"\n{ident}\t")
        if at < 0:
            raise _Stale  # not on the site before (private, invalid, new): the full build
        month = index[at + len(ident) + 2 : index.index("\n", at + 1)]
        if not _MONTH.fullmatch(month):
            raise _Stale
        text = self._text(f"m-{month}")
        at = text.find(f"\n{ident}\t")
        if at < 0:
            raise _Stale
        names = [name for name, _ in self.state["months"]]
        return names.index(month), text[at + 1 : text.index("\n", at + 1)]

    def _old_head(self, ident: str, key: str, month: str) -> list[Any]:
        """The head of an incident's view as the last build had it."""
        from incidents_cli.site.inputs import kept_view, view_head

        for line in (*self.state["shown"], *self.state["feeding"]):
            if line.startswith(f"{ident}\t"):
                return self._split(line)[3]
        packed = kept_view(self.folder, month, _cached_as(key))
        if packed is None:
            raise _Stale
        return view_head(_full_view(packed))

    def _made(self, ident: str, files: dict[str, tuple[str, str, str]], flagged: set[str]) -> None:
        """An incident checked and its view made from the files HEAD holds."""
        from incidents_cli.site.inputs import bar_record, content_key, view_entry

        place, line = self._old(ident)
        old_id, old_key, old_month, _ = line.split("\t")
        old = self._old_head(ident, old_key, old_month)
        name, _, pm_blob, _ = old_key.split(":")
        if name not in (f"{ident}.yaml", f"{ident}.yml"):
            raise _Stale
        rel = f"{INCIDENTS_DIR}/{name}"
        pm_rel = f"{POSTMORTEMS_DIR}/{name.rsplit('.', 1)[0]}.md" if pm_blob != "-" else None
        if old_id != ident or rel in flagged or (pm_rel is not None and pm_rel in flagged):
            raise _Stale
        if any(f.startswith(f"{POSTMORTEMS_DIR}/") and f != pm_rel for f in files if ident in f):
            raise _Stale  # a postmortem of its that the site did not use
        data, blob = self._checked(rel, "incident", files)
        pm_data, pm_id = self._checked(pm_rel, "postmortem", files) if pm_rel else (None, "-")
        head, packed, unreadable = view_entry(rel, data, pm_rel, pm_data)
        if head is None or unreadable or head[0] != ident or head[1] != old[1]:
            raise _Stale  # not public now, or it moved: the full build
        if (head[2] is None) != (old[2] is None):
            raise _Stale  # resolved or reopened: its page enters or leaves the manifest
        cached_as = f"{name}:{blob}:{pm_id}"
        self.made[cached_as] = (head[1][:7], packed)
        key = f"{cached_as}:{content_key(packed)}"
        bars = _compact(bar_record(_full_view(packed)))
        self.lines[ident] = f"{ident}\t{key}\t{head[1][:7]}\t{_compact(head)}\t{bars}"
        self.short[ident] = f"{ident}\t{key}\t{head[1][:7]}\t{int(head[2] is None)}"
        self.old[ident] = (place, old)

    def _checked(
        self, rel: str, kind: str, files: dict[str, tuple[str, str, str]]
    ) -> tuple[Any, str]:
        """A record read from the work tree and checked on its own: its data and blob id;
        _Stale if it has any finding or its facts for the rules across records changed."""
        from incidents_cli.core.errors import InputFileError
        from incidents_cli.store.checks import check_record, facts_key
        from incidents_cli.store.git import blob_id
        from incidents_cli.store.layout import read_record
        from incidents_cli.store.yamlio import read_bytes

        try:  # as every record is read: no link followed, no file over the size limit
            raw = read_bytes(self.root / rel, rel)
        except InputFileError:
            raise _Stale from None  # the full build reports it
        blob = blob_id(raw)
        if rel in files and files[rel][2] != blob:
            raise _Stale  # the work tree holds other bytes than HEAD's (a filter)
        # without places (by yaml-rs where its scan allows: PyYAML is then never imported);
        # only a finding needs them, and any finding is a full build
        record = read_record(self.root, rel, kind, raw, places=False)
        checked = check_record(record)
        if checked.findings or checked.facts is None:
            raise _Stale
        facts = self._text("facts")
        at = facts.find(f"\n{rel}\t")
        if at < 0 or facts[at + len(rel) + 2 : facts.index("\n", at + 1)] != facts_key(
            checked.facts
        ):
            raise _Stale
        return record.data, blob

    # -- the page --

    def _tools(self) -> tuple[Settings, Renderer]:
        """The settings and the templates (the same templates as the last build's), and
        the code that renders the pages: imported while git answers."""
        import incidents_cli.site.build  # noqa: F401  (it imports every module of the site)
        from incidents_cli.site.render import Renderer
        from incidents_cli.store.layout import load_settings

        settings = load_settings(self.root, self.root / ".git")
        if self.base_url is not None:
            settings = settings._replace(base_url=self.base_url)
        renderer = Renderer(self.root, settings.language)
        if _fingerprints(renderer) != self.state["templates"]:
            raise _Stale
        return settings, renderer

    def _page(self, now: datetime, settings: Settings) -> Page:
        from incidents_cli.site.build import _fixed_key
        from incidents_cli.site.model import build_page

        windows = [_unwindow(item) for item in self.state["windows"]]
        self.shown = {}
        for line in self.state["shown"]:
            ident = line.split("\t", 1)[0]
            self.shown[ident] = self.lines.get(ident, line)
        # (a changed incident a feed may take next; older than those shown, it changes
        # nothing else of the page)
        self.shown.update(self.lines)
        self.feeding = {line.split("\t", 1)[0]: line for line in self.state["feeding"]}
        page = build_page(
            settings, [self._view(line) for line in self.shown.values()], windows, now
        )
        if _fixed_key(page) != self.state["fixed"]:
            raise _Stale
        return page

    def _view(self, line: str) -> PublicIncident:
        """The view a line names: from the view cache (decoded when first used), or made now."""
        from incidents_cli.site.inputs import kept_view, view_from

        ident, key, month, head = self._split(line)
        if ident in self.views:
            return self.views[ident]
        cached_as = _cached_as(key)
        made = self.made.get(cached_as)
        packed = made[1] if made is not None else kept_view(self.folder, month, cached_as)
        if packed is None:
            raise _Stale  # the view cache lost it: the full build makes it again
        view = view_from(head, packed, _bars(line))
        self.views[ident] = view
        self.keys[ident] = _content_of(key)
        return view

    # -- the pages that change --

    def _render(self, page: Page, renderer: Renderer) -> None:
        from incidents_cli.site.api import api_documents
        from incidents_cli.site.build import _json
        from incidents_cli.site.calendar import maintenance_calendar
        from incidents_cli.site.contexts import (
            badge_contexts,
            favicon_context,
            index_context,
            tag_authority,
        )

        out = self.written
        out["index.html"] = renderer.render("site/index.html", index_context(page))
        self._months(page, renderer)
        for incident in page.active:
            self._incident(page, renderer, incident)
        for line in self.lines.values():
            if not self._view(line).active:
                self._incident(page, renderer, self._view(line))
        self._feeds(page, renderer)
        out["maintenance.ics"] = maintenance_calendar(
            page, tag_authority(page.settings), self._sequences()
        )
        for path, document in api_documents(page).items():
            out[f"api/v2/{path}"] = _json(document)
        for rel, badge in badge_contexts(page):
            out[rel] = renderer.render("site/badge.svg", badge)
        out["favicon.svg"] = renderer.render("site/favicon.svg", favicon_context(page))

    def _adds_up(self) -> bool:
        """Whether the commit counts at HEAD are the state's plus those of the commits
        since: counted in a full clone then and now, no merge in between (history
        simplification could then hide commits the state's counts include)."""
        counted = self.counted
        return (
            bool(self.state["counted"])
            and counted is not None
            and not (counted.shallow or counted.merges)
        )

    def _sequences(self) -> dict[str, int]:
        """The calendar's SEQUENCE numbers, and the counts they come from kept for the
        next rebuild (where they can be added to)."""
        from incidents_cli.site.build import sequences_of
        from incidents_cli.site.calendar import revision_counts

        assert self.counted is not None
        if self.counts is None:
            counts = dict(self.state["counts"])
            for path, count in revision_counts(self.root, self.counted.since).items():
                counts[path] = counts.get(path, 0) + count
        else:
            counts = revision_counts(self.root, self.counts())
        self.state["counts"], self.state["counted"] = counts, not self.counted.shallow
        return sequences_of(counts)

    def _incident(self, page: Page, renderer: Renderer, incident: PublicIncident) -> None:
        """An incident's page: an open one always (it shows how long it has lasted), a
        resolved one where its key changed."""
        from incidents_cli.site.contexts import incident_page_context
        from incidents_cli.site.pages import incident_key

        rel = f"incidents/{incident.id}.html"
        if not incident.active:
            fixed, templates = self.state["fixed"], self.state["templates"][1]
            if not self._rekey(rel, incident_key(fixed, templates, self.keys[incident.id])):
                return
        context = incident_page_context(incident, page)
        self.written[rel] = renderer.render_bytes("site/incident.html", context)

    def _rekey(self, rel: str, key: str, *, from_end: bool = False) -> bool:
        """Put ``key`` in the manifest for ``rel``; whether it differs from the one there.
        ``from_end``: looked for from the end of the manifest, where the feeds are (render_site
        lists them after every page; each path is there once, so only the time differs)."""
        marker = f'\n{json.dumps(rel)}: "'
        at = self.manifest.rfind(marker) if from_end else self.manifest.find(marker)
        if at < 0:
            raise _Stale
        start = at + len(marker)
        end = self.manifest.index('"', start)
        if self.manifest[start:end] == key:
            return False
        self.rekeyed[start] = (end, key)
        return True

    def _new_manifest(self) -> str:
        """The manifest with the keys ``_rekey`` changed."""
        parts, done = [], 0
        for start, (end, key) in sorted(self.rekeyed.items()):
            parts += [self.manifest[done:start], key]
            done = end
        parts.append(self.manifest[done:])
        return "".join(parts)

    def _months(self, page: Page, renderer: Renderer) -> None:
        """The pages of the months that show a changed incident or one still open."""
        from incidents_cli.site.contexts import month_context, month_file
        from incidents_cli.site.pages import month_key

        names = [month for month, _ in self.state["months"]]
        places = {place for place, _ in self.old.values()}
        places |= {names.index(month) for month in self.state["open"]}
        for place in sorted(places):
            month = names[place]
            text = self._text(f"m-{month}")
            lines = [
                self.short.get(line.split("\t", 1)[0], line) for line in text[1:-1].split("\n")
            ]
            if any(line.split("\t", 1)[0] in self.short for line in lines):
                self.changed_texts[f"m-{month}"] = "\n" + "".join(line + "\n" for line in lines)
            heads = [line.split("\t") for line in lines]
            active = any(head[3] == "1" for head in heads)
            newer = names[place - 1] if place > 0 else ""
            older = names[place + 1] if place + 1 < len(names) else ""
            content = [_content_of(head[1]) for head in heads]
            fixed, templates = self.state["fixed"], self.state["templates"][0]
            when = page.now if active else None
            key = month_key(fixed, templates, month, newer, older, when, content)
            rel = month_file(month)
            if not self._rekey(rel, key):
                continue
            incidents = [self._month_view(head) for head in heads]
            context = month_context(page, month, incidents, newer, older)
            self.written[rel] = renderer.render_bytes("site/history_month.html", context)

    def _month_view(self, fields: list[str]) -> PublicIncident:
        """An incident of a month's page, in full."""
        from incidents_cli.site.inputs import kept_view

        ident, key, month, _ = fields
        if ident in self.lines or ident in self.views:
            return self._view(self._line(ident))
        packed = kept_view(self.folder, month, _cached_as(key))
        if packed is None:
            raise _Stale  # the view cache lost it: the full build makes it again
        return _full_view(packed)

    def _feeds(self, page: Page, renderer: Renderer) -> None:
        """Each feed whose incidents or maintenance windows changed."""
        from incidents_cli.site.build import _feed_key
        from incidents_cli.site.contexts import feed_context, feed_file
        from incidents_cli.site.pages import Previous, Reuse, page_key

        reuse = Reuse(self.keys, Previous(None), self.state["fixed"])
        views = {c.id: c for c in page.components}
        for item in self.state["feeds"]:
            component, total, ids = item
            view = views.get(component) if component else None
            if component and view is None:
                raise _Stale
            item[2], item[1] = self._candidates(component, total, ids)
            key = _feed_key(page, reuse, view, item[2])
            if key is None:
                raise _Stale
            feed: dict[str, Any] | None = None
            fingerprints = self.state["templates"][2:]
            for kind, template, fingerprint in zip(
                ("atom", "rss"), FEEDS, fingerprints, strict=True
            ):
                rel = f"history.{kind}" if view is None else feed_file(view.id, kind)
                if not self._rekey(rel, page_key(key, fingerprint), from_end=True):
                    continue
                if feed is None:
                    candidates = [self._view(self._line(i)) for i in item[2]]
                    feed = feed_context(page, view, candidates)
                self.written[rel] = renderer.render(template, feed)

    def _line(self, ident: str) -> str:
        """The state's line of an incident the page or a feed shows (as changed)."""
        return self.lines.get(ident) or self.shown.get(ident) or self.feeding[ident]

    def _candidates(self, component: str, total: int, ids: list[str]) -> tuple[list[str], int]:
        """A feed's incidents (contexts.feed_incidents) after the changes, and how many
        incidents it can choose from: exact where a changed incident only moves up among
        them, joins them, or leaves a feed that held every one it could choose. (Chosen
        by their heads: a view is decoded only for a feed that is rendered.)"""
        from incidents_cli.site.contexts import FEED_ENTRIES

        def newest(ident: str) -> tuple[datetime, str, int]:
            ident, key, _, head = self._split(self._line(ident))
            self.keys[ident] = _content_of(key)  # what the feed's key is made of
            return datetime.fromisoformat(head[3][0]), ident, head[3][1]

        every = total <= len(ids)  # the feed holds every incident it can choose from
        chosen = [ident for ident in ids if ident not in self.lines]
        for ident, line in self.lines.items():
            head = self._split(line)[3]
            old = self.old[ident][1]
            takes = component == "" or component in head[4]
            took = component == "" or component in old[4]
            total += int(takes) - int(took)
            moved_down = newest_of(old) > newest_of(head)
            if ident in ids and not every and (not takes or moved_down):
                raise _Stale  # it left or moved down: the one below it is not known
            if ident not in ids and took and every:
                raise _Stale  # (a feed holding every one holds it)
            if takes:
                chosen.append(ident)
        chosen.sort(key=newest, reverse=True)
        return chosen[:FEED_ENTRIES], total

    # -- writing --

    def write(self) -> None:
        """The rendered files into --out. Each is written first into a staging folder of
        this build's own beside --out, so a failure or Ctrl-C while writing leaves the old
        site whole and two builds at once never share a file; only then is each renamed
        into place (a reader sees each file old or new), the manifest last. A file whose
        bytes are those in --out already (a badge, say) is left alone."""
        import shutil

        from incidents_cli.site.files import refuse_outside, staging_folder, write_text
        from incidents_cli.store.lock import signals_held

        out = str(self.out)
        self.manifest = self._new_manifest()
        # Signals wait until every file is in place and the staging folder is gone: a
        # site half old, half new (or a folder left beside --out) is never left behind.
        with signals_held() as held:
            staging = str(staging_folder(self.out))
            try:
                staged = {staging}  # staged flat, by number: no folder to make and remove
                moves: list[tuple[str, str]] = []
                for rel, content in [*self.written.items(), (MARKER, self.manifest)]:
                    data = content.encode("utf-8") if isinstance(content, str) else content
                    refuse_outside(rel)
                    if rel != MARKER and _same(f"{out}/{rel}", data):
                        continue
                    name = str(len(moves))
                    write_text(staging, name, data, staged)
                    moves.append((name, rel))
                    self.own[rel] = _digest(data)  # (the manifest's too: a megabyte at 10k)
                self._move(staging, moves)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        if held.signal is not None:
            _die_of(held.signal)

    def _move(self, staging: str, moves: list[tuple[str, str]]) -> None:
        """The staged files renamed into place. The files they replace are kept (hard
        links) in the staging folder, which becomes a trash folder under the git folder
        (never the work tree): the next build frees their blocks while it renders. On
        another file system, they are freed here as ever."""
        from incidents_cli.site.files import Folders, same_device, to_trash

        trash = same_device(self.out, self.folder)
        kept = 0
        with Folders(str(self.out)) as into, Folders(staging) as source:
            for name, rel in moves:
                if trash and into.keep_old(rel, source, f"old-{name}"):
                    kept += 1
                into.move_from(source, rel, name)  # never through a symlink
        if kept:
            self.trash = to_trash(staging, self.folder)

    def finish(self, page: Page) -> Rebuilt:
        """The state for the next rebuild, and the result."""
        from incidents_cli.site.build import BuildResult
        from incidents_cli.site.inputs import keep_views
        from incidents_cli.store.yamlio import write_atomic

        state = self.state
        if self.made:
            keep_views(self.folder, self.made)
        state["commit"] = self.head
        state["now"] = page.now.isoformat()
        assert self.checking is not None
        state["vouched"] = self.checking.started  # what changed after the check began
        state["own"] = self.own  # checked by their bytes
        state["manifest"] = self.own[MARKER]
        state["shown"] = list(self.shown.values())
        fed = {ident for item in state["feeds"] for ident in item[2]} - self.shown.keys()
        state["feeding"] = [self._line(ident) for ident in sorted(fed)]
        digests = dict(state["months"])
        for number, part in enumerate([*self.changed_texts, ""]):  # replaced below: to the
            _aside(_path(self.folder, part), self.trash, f"state-{number}")  # trash too
        try:
            for part, text in self.changed_texts.items():  # first: the state names them
                write_atomic(_path(self.folder, part), text, sync=False)
                digests[part[2:]] = _digest(text)
            state["months"] = [[month, digests[month]] for month, _ in state["months"]]
            write_atomic(_path(self.folder), _encoded(state), sync=False)
        except OSError:
            forget(self.root)
        findings = [Finding(*item) for item in state["findings"]]
        left_out = [Finding(*item) for item in state["left_out"]]
        files = state["files"][0]
        result = BuildResult(self.out, files, state["count"], page.indicator, state["unreadable"])
        return Rebuilt(result, left_out, findings)


def _meanwhile(ask: Callable[[], Callable[[], T]]) -> Callable[[], T]:
    """``ask()()``, with ``ask()`` (which starts processes and waits for some of them)
    run in a thread from now; the function returned waits for it, then answers (raising
    what it raised). Started after the check's fork: a process is never forked while this
    thread runs."""
    import threading

    asked: list[Callable[[], T]] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            asked.append(ask())
        except BaseException as exc:  # (raised where it is answered)
            failed.append(exc)

    thread = threading.Thread(target=run, name="incidents-ask-git", daemon=True)
    thread.start()

    def answer() -> T:
        thread.join()
        if failed:
            raise failed[0]
        return asked[0]()

    return answer


def _aside(path: Path, trash: str, name: str) -> None:
    """A hard link of ``path`` (a file of the state about to be replaced) in ``trash`` (if
    this rebuild made one), so that replacing it frees no blocks now (see ``_move``)."""
    if trash:
        with contextlib.suppress(OSError):  # none there yet, or no hard links: as ever
            os.link(path, f"{trash}/{name}", follow_symlinks=False)


def _emptying(folder: Path) -> Callable[[], None]:
    """The trash folders in ``folder`` now (earlier rebuilds'), removed in a thread from
    now: freeing the blocks of the files they replaced waits for the disk (tens of ms where
    it is mounted with ``discard``), not for this process, which renders meanwhile. The
    function returned waits for it. Started after the check's fork, as the thread that
    asks git is."""
    import threading

    from incidents_cli.site.files import empty_trash, trash_in

    found = trash_in(folder)
    if not found:
        return lambda: None
    thread = threading.Thread(
        target=empty_trash, args=(found,), name="incidents-empty-trash", daemon=True
    )
    thread.start()
    return thread.join


def _same(path: str, data: bytes) -> bool:
    """Whether the file at ``path`` (checked to be a regular file) holds ``data``."""
    try:
        if os.lstat(path).st_size != len(data):
            return False
        with open(path, "rb") as handle:  # noqa: PTH123
            return handle.read() == data
    except OSError:
        return False


def _manifest(out: Path, digest: str) -> str:
    """The manifest in --out, if it is the one the state describes."""
    from incidents_cli.store.cache_files import read_cache_bytes

    data = read_cache_bytes(out / MARKER)  # a regular file: never followed, bounded
    if _digest(data) != digest:
        raise _Stale
    return data.decode("utf-8")


def _die_of(signum: int) -> None:
    """End as ``signum`` (held while the site was written) ends a process by default."""
    import signal

    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
    raise KeyboardInterrupt  # (where the signal is not fatal after all)


def _fs_now(out: Path) -> int:
    """The change time a file changed now beside ``out`` gets, less one (a change made
    from now on is after it): a file's, made and removed for it. (The file system's own
    clock: it may differ from the process's, by a second where the files are on the host
    of a sandbox.) 0 where none can be made: then no file is vouched for by time."""
    import tempfile

    from incidents_cli.site.files import CLOCK

    try:  # named with this process's id: if it is killed here, the next build removes it
        made, probe = tempfile.mkstemp(prefix=f".{out.name}.{CLOCK}-{os.getpid()}-", dir=out.parent)
    except OSError:
        return 0
    try:
        return os.fstat(made).st_ctime_ns - 1
    finally:
        os.close(made)
        with contextlib.suppress(OSError):
            os.unlink(probe)  # noqa: PTH108


def vouched_time(root: Path, out: Path) -> int | None:
    """The time the state of the last build into ``out`` vouches for its files (a file
    changed after it is not trusted), or None without one."""
    folder = _folder(root)
    if folder is None:
        return None
    try:
        state = _load(folder)
    except _Stale:
        return None
    return state["vouched"] if state["out"] == str(out) else None


class _OutCheck:
    """Whether every file of the site in --out is the regular file the last build left
    there, unchanged since (its inode's change time is not after the time the last build's
    check began, or for a file it wrote, its bytes are those it wrote), and no other file
    is there: the files the state names (their number, and a digest of their sorted
    paths). A stat for each file: in a process forked for it where there is a second
    core, while this one does the rest of the rebuild (in a thread, each stat would wait
    for the interpreter's lock); else here, when ``passed`` is first asked. ``started``:
    the time this check vouches for (taken before it begins)."""

    def __init__(self, out: Path, state: dict[str, Any]) -> None:
        from incidents_cli.store.parallel import workers

        self.out = out
        self.started = _fs_now(out)
        files = state["files"]
        self.count: int = files[0]
        self.digest: str = files[1]
        self.vouched: int = state["vouched"]
        self.own: dict[str, str] = state["own"]
        self.pid, self.pipe = 0, -1
        self.answer: bool | None = None
        if not hasattr(os, "fork") or workers() <= 1:
            return
        read, write = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read)
            os.close(write)
            return  # done here instead
        if pid == 0:  # the forked process: its answer, then gone without any clean-up
            try:
                os.close(read)
                os.write(write, b"1" if self._check() else b"0")
            finally:
                os._exit(0)
        os.close(write)
        self.pid, self.pipe = pid, read

    def _check(self) -> bool:
        found: set[str] = set()
        newer: list[str] = []
        try:
            if not _unchanged(str(self.out), self.vouched, found, newer):
                return False
            if len(found) != self.count or any(not self._same(rel) for rel in newer):
                return False
            return _digest("\n".join(sorted(found))) == self.digest
        except (OSError, ValueError):  # (a name not in UTF-8: a UnicodeError)
            return False

    def _same(self, rel: str) -> bool:
        """Whether ``rel``, changed after the last check began, is as the build wrote it."""
        expected = self.own.get(rel)
        if expected is None:
            return False
        opened = os.open(f"{self.out}/{rel}", os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(opened, "rb") as handle:
            return _digest(handle.read()) == expected

    def passed(self) -> bool:
        """The answer (the forked process is waited for, once)."""
        if self.answer is None and not self.pid:
            self.answer = False  # (asked again after a failure: no)
            self.answer = self._check()
        elif self.answer is None:
            pid, self.pid, self.answer = self.pid, 0, False
            try:
                with os.fdopen(self.pipe, "rb") as said:
                    self.answer = said.read() == b"1"
            finally:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, 0)
        return self.answer


def _unchanged(out: str, built: int, found: set[str], newer: list[str]) -> bool:
    """Add every file under ``out`` to ``found``, and those changed after ``built`` (an
    inode change time) to ``newer``; False if one is not a regular file, or a folder is
    nested deeper than a site's (files.walk)."""
    from incidents_cli.site.files import NotASite, walk

    try:
        for rel, entry in walk(out):
            if entry.stat(follow_symlinks=False).st_ctime_ns > built:
                newer.append(rel)
            found.add(rel)
    except NotASite:
        return False
    return True
