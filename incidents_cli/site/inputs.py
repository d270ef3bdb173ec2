"""What the site is built from: the public view of every incident, computed only for
the records that changed since the last build (cached by blob id), and the maintenance windows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from incidents_cli.site.public import (
    Maintenance,
    PublicIncident,
    incident_fields_from_data,
    incident_to_data,
    maintenance_windows,
    public_incident,
)
from incidents_cli.store.cache_files import read_cache_bytes, read_cache_mapping
from incidents_cli.store.git import blob_id
from incidents_cli.store.parallel import bulk, map_chunks

if TYPE_CHECKING:
    from incidents_cli.core.records import RecordFile
    from incidents_cli.store.cache import Snapshot


@dataclass
class PublicInputs:
    """What the site is built from: the public view of every incident with the key it is
    cached by (file name and the blob ids of its record and postmortem) and the key of its
    content (``content_key``: what its pages' keys are made of) by incident id, the
    maintenance windows, and the files that could not be read."""

    incidents: list[PublicIncident]
    keys: dict[str, str]
    maintenances: list[Maintenance]
    unreadable: list[str]
    content: dict[str, str] = field(default_factory=dict)


def content_key(packed: str) -> str:
    """The key of a view's content: a digest of its JSON text, which is all a page shows of
    the incident (every view the site renders is decoded from that text). Made of the
    public view only, so a change that leaves it as it was (an internal note) changes no
    key: the manifest in --out tells nobody when an incident's internal data changed (blob
    ids would), and nothing is rendered again for it."""
    return hashlib.sha256(packed.encode("utf-8")).hexdigest()


def _content_id(root: Path, rel: str, blobs: dict[str, str]) -> tuple[str, bytes | None]:
    """The blob id git gives a file's content, and the bytes if they had to be read for it:
    git's index knows it for a tracked, unchanged file; any other file is hashed here."""
    if (root / rel).is_symlink():
        return "symlink", None  # read_record refuses it
    if rel in blobs:
        return blobs[rel], None
    try:
        raw = (root / rel).read_bytes()
    except OSError:
        return "unreadable", None
    return blob_id(raw), raw


# The views are kept in two parts: one file of every view's head ([id, started, resolved,
# latest, touched] or None), unreadable files, month and content key, by key; and the views
# as JSON text in one file per month the incident started. A rebuild reads the heads and the
# few months whose views it shows in full (the last 90 days, what it renders), not every view.
PUBLIC_CACHE = "public-f6"


class _Cached(PublicIncident):
    """A public incident from the cache: what ordering and grouping need (id, started,
    resolved, latest, touched) is at hand; the rest is decoded from its JSON text when first used. A
    rebuild touches the full view of only the few hundred incidents it renders or shows.
    (This relies on PublicIncident's fields having no class-level defaults: a test says so.)
    """

    def __getattr__(self, name: str) -> Any:
        packed = self.__dict__.pop("_packed", None)
        if packed is None:
            raise AttributeError(name)
        if isinstance(packed, tuple):  # where the cache keeps it: read on first use
            fields = _fields(_stored_view(*packed))
            if fields is None:  # damaged in the cache: made again from its files
                fields = _fields(_made_view(*packed[3:]))
            if fields is None:
                raise RuntimeError(f"{packed[4]}: its view cannot be made again")
        else:
            fields = incident_fields_from_data(view_data(packed))
        self.__dict__.update(fields)  # frozen: fill __dict__ directly
        self.__dict__.pop("_bars", None)
        return self.__dict__[name] if name in self.__dict__ else super().__getattribute__(name)

    # What the 90-day bars read of an incident, from its bar record where it has one
    # (bar_record: kept in the rebuild's state), so that they decode no view.

    def worst_status(self, component: str) -> str:
        bars = self.__dict__.get("_bars")
        if bars is None:
            return super().worst_status(component)
        return str(bars[1].get(component) or bars[2])

    def status_changes(self) -> list[tuple[tuple[str, ...], datetime]]:
        bars = self.__dict__.get("_bars")
        if bars is None:
            return super().status_changes()
        return [(tuple(names), datetime.fromisoformat(at)) for names, at in bars[3]]


_Stored = tuple[Path, str, str, str, str, str | None]
"""Where a cached view's JSON text is: the cache folder, its month and key, and (to make
it again if the cache has lost it) the repository, the record and its postmortem."""

_MONTHS: dict[tuple[Path, str], dict[str, Any]] = {}
"""The views of each month read so far (in this process), by cache folder and month."""


def _month_path(folder: Path, month: str) -> Path:
    from incidents_cli.store.resources import tool_key

    return folder / f"{PUBLIC_CACHE}-v{tool_key()}-{month}.json"


def _month_views(folder: Path, month: str) -> dict[str, Any]:
    views = _MONTHS.get((folder, month))
    if views is None:
        views = _read_views(_month_path(folder, month))
        _MONTHS[(folder, month)] = views
    return views


def _read_views(path: Path) -> dict[str, Any]:
    """A month's file of the view cache: its views' JSON texts by key (read_cache_mapping,
    decoded by orjson where it is installed: a rebuild reads a few of these files, each of
    hundreds of views, to show a few dozen). A value that is not a string is a miss to the
    callers, so what orjson reads otherwise than json.loads (an integer outside 64 bits,
    made a float) is a miss either way; what it refuses, json.loads reads."""
    try:
        import orjson
    except ImportError:
        return read_cache_mapping(path)
    try:
        views = orjson.loads(read_cache_bytes(path))
    except OSError:
        return {}
    except orjson.JSONDecodeError:
        return read_cache_mapping(path)  # (NaN, a lone surrogate; or not JSON: a miss)
    return views if isinstance(views, dict) else {}


def view_data(packed: str) -> Any:
    """A view's JSON text decoded, as json.loads decodes it: by orjson where it is
    installed and its numbers (the updates' and the latest one's) come out as integers
    (orjson makes one outside 64 bits a float), else by json.loads."""
    try:
        import orjson

        data = orjson.loads(packed)
        numbers = [data["latest"][1], *(update[0] for update in data["updates"])]
        if all(type(number) is int for number in numbers):
            return data
    except (ImportError, ValueError, KeyError, TypeError, IndexError):
        pass  # (orjson.JSONDecodeError is a ValueError)
    return json.loads(packed)


def _stored_view(
    folder: Path, month: str, key: str, root: str, rel: str, pm_rel: str | None
) -> str:
    """A cached view's JSON text; made again from the files (which git vouches are the
    ones its key names) where the cache has lost it."""
    packed = _month_views(folder, month).get(key)
    if isinstance(packed, str) and packed:
        return packed
    return _made_view(root, rel, pm_rel)


def _made_view(root: str, rel: str, pm_rel: str | None) -> str:
    """A view's JSON text made again from the files."""
    (_, (head, packed, _)) = _view_entries([(root, rel, pm_rel, {})])[0]
    if head is None:
        raise RuntimeError(f"{rel}: the view cache has a view of a record that has none")
    return str(packed)


def _fields(packed: str) -> dict[str, Any] | None:
    """The fields of a view from its JSON text; None if the text is damaged (a cache file
    is only ever a miss, never a crash)."""
    try:
        return incident_fields_from_data(view_data(packed))
    except (ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError):
        return None


def _cached(head: list[Any], packed: str | _Stored) -> PublicIncident:
    incident = object.__new__(_Cached)
    started, resolved = datetime.fromisoformat(head[1]), head[2]
    incident.__dict__.update(
        id=head[0],
        started=started,
        resolved=datetime.fromisoformat(resolved) if resolved is not None else None,
        latest=(datetime.fromisoformat(head[3][0]), head[3][1]),
        touched=frozenset(head[4]),
        _packed=packed,
    )
    return incident


def _entry(entry: Any, stored: _Stored) -> tuple[list[Any], PublicIncident | None] | None:
    """A head entry of our shape and its view, or None (a miss): its head must decode;
    the rest of the view is read and decoded when first used (see ``_stored_view``)."""
    if not (isinstance(entry, list) and len(entry) == 4 and isinstance(entry[2], str)):
        return None
    head, unreadable, month, content = entry
    if not isinstance(content, str):
        return None
    if not isinstance(unreadable, list) or not all(isinstance(u, str) for u in unreadable):
        return None
    if head is None:
        return entry, None
    try:
        return entry, _cached(head, (*stored[:1], month, *stored[2:]))
    except (TypeError, ValueError, IndexError, KeyError):
        return None


def view_head(view: PublicIncident) -> list[Any]:
    """What the heads file keeps of a view: [id, started, resolved, latest, touched]."""
    return _head(view)


def view_from(head: list[Any], packed: str, bars: list[Any] | None = None) -> PublicIncident:
    """A view from its head and its JSON text (decoded when first used), with its bar
    record (bar_record) if given: the 90-day bars then decode nothing."""
    incident = _cached(head, packed)
    if bars is not None:
        incident.__dict__.update(title=bars[0], _bars=bars)
    return incident


def bar_record(view: PublicIncident) -> list[Any]:
    """What the 90-day bars read of a view besides its head: its title, the worst status
    each update gave each component it names (where not the severity's), the severity's
    status, and when it changed which components' status (``status_changes``)."""
    worst = {c: view.worst_status(c) for c in sorted(view.touched)}
    fallback = view.severity_status
    return [
        view.title,
        {c: status for c, status in worst.items() if status != fallback},
        fallback,
        [[list(names), at.isoformat()] for names, at in view.status_changes()],
    ]


def kept_view(folder: Path, month: str, key: str) -> str | None:
    """The JSON text the view cache keeps for ``key`` in ``month`` (its start's month as
    the heads file gives it), or None."""
    packed = _month_views(folder, month).get(key)
    return packed if isinstance(packed, str) and packed else None


def keep_views(folder: Path, made: dict[str, tuple[str, str]]) -> None:
    """Add views made since the last full build (by key: month and JSON text) to their
    months' files, so the rebuild after this one finds them (the next full build keeps
    only those of its heads)."""
    from incidents_cli.store.yamlio import write_atomic

    months: dict[str, dict[str, str]] = {}
    for key, (month, packed) in made.items():
        months.setdefault(month, {})[key] = packed
    try:
        for month, views in months.items():
            kept = dict(_month_views(folder, month))
            kept.update(views)
            _MONTHS[(folder, month)] = kept
            write_atomic(
                _month_path(folder, month), json.dumps(kept, separators=(",", ":")), sync=False
            )
    except OSError:
        pass  # a cache that cannot be written is only slower, never wrong


def view_entry(rel: str, data: Any, pm_rel: str | None, pm_data: Any) -> list[Any]:
    """The cache entry of one incident's view: [head, view as JSON, unreadable files]."""
    return _view_entry(rel, data, pm_rel, pm_data)


def _head(view: PublicIncident) -> list[Any]:
    resolved = view.resolved.isoformat() if view.resolved is not None else None
    latest = [view.latest[0].isoformat(), view.latest[1]]
    return [view.id, view.started.isoformat(), resolved, latest, sorted(view.touched)]


def public_inputs(
    root: Path,
    timezone: str = "UTC",
    exclude: frozenset[str] = frozenset(),
    records: Sequence[RecordFile] | None = None,
    derived: Mapping[str, Any] | None = None,
) -> PublicInputs:
    """The public view of every incident, computed only for records that changed;
    ``exclude``: records that do not validate, never published (a postmortem there is
    taken as absent).

    The view of an incident depends on its record and on postmortems/<ID>.md (validation
    holds the postmortem's `incident` to its file name), so it is keyed by the blob ids of
    both files: from git's index where git vouches for the file, else hashed from its bytes
    (so a cold build gives the same keys). Views are cached by key in .git/incidents-cache,
    and a rebuild parses only what changed since. ``records``, ``derived`` (``parsed_view``'s):
    what this command read already."""
    from incidents_cli.store import cache as record_cache

    snap = record_cache.snapshot(root)
    cache = _load_heads(snap.folder) if snap is not None else {}
    found, misses = _look_up(root, exclude, snap, cache)
    # What `validate` parsed is in the record cache; decoding all of it pays only when many
    # views are missing (a first build, not a rebuild after one change).
    if records is not None and misses:  # read by this command already (validated first)
        misses = _from_records(root, records, misses, found, derived or {})
    if snap is not None and len(misses) * 10 >= len(found) > 0:
        misses = _from_record_cache(snap, misses, found)
    with bulk():
        made = map_chunks(_view_entries, [item for _, item in misses])
    for (index, _), fresh in zip(misses, made, strict=True):
        found[index] = fresh
    inputs = PublicInputs([], {}, [], [])
    heads, texts = _gather(found, inputs)
    if snap is not None and (heads.keys() != cache.keys() or texts):
        _save_views(snap.folder, heads, texts)
    _add_maintenance(root, snap, exclude, timezone, inputs)
    return inputs


def _gather(
    found: list[tuple[Any, ...] | None], inputs: PublicInputs
) -> tuple[dict[str, list[Any]], dict[str, str]]:
    """Each view into ``inputs``; the head entry of every view, and the JSON text of each
    view made now, by key (what the cache keeps)."""
    heads: dict[str, list[Any]] = {}
    texts: dict[str, str] = {}
    for result in found:
        assert result is not None
        key, entry = result[0], result[1]
        if len(result) == 3:  # from the cache: (key, head entry, view)
            view, heads[key] = result[2], entry
        else:  # made now: (key, [head, view as JSON, unreadable])
            head, packed, unreadable = entry
            view = _cached(head, packed) if head is not None else None
            content = content_key(packed) if head is not None else ""
            heads[key] = [head, unreadable, head[1][:7] if head is not None else "", content]
            if head is not None:
                texts[key] = packed
        inputs.unreadable.extend(heads[key][1])
        if view is not None:
            inputs.incidents.append(view)
            inputs.keys[view.id] = key
            inputs.content[view.id] = heads[key][3]
    return heads, texts


def _heads_path(folder: Path) -> Path:
    from incidents_cli.store.resources import tool_key

    return folder / f"{PUBLIC_CACHE}-v{tool_key()}-heads.json"


def _load_heads(folder: Path) -> dict[str, Any]:
    """The head entry of every view the last build kept, by key (data only, as the other
    caches: a damaged or foreign file is an empty cache)."""
    return read_cache_mapping(_heads_path(folder))


def _save_views(folder: Path, heads: dict[str, list[Any]], fresh: dict[str, str]) -> None:
    """Keep the heads of this build's views, and the JSON text of those made now in their
    months' files (which keep only views of these heads); files of other formats and
    versions, and months no view is in any more, go."""
    import os

    from incidents_cli.store.yamlio import write_atomic

    months: dict[str, dict[str, str]] = {}
    for key, packed in fresh.items():
        months.setdefault(heads[key][2], {})[key] = packed
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for month, made in months.items():
            views = {k: v for k, v in _month_views(folder, month).items() if k in heads}
            views.update(made)
            _MONTHS[(folder, month)] = views
            text = json.dumps(views, separators=(",", ":"))
            write_atomic(_month_path(folder, month), text, sync=False)
        write_atomic(_heads_path(folder), json.dumps(heads, separators=(",", ":")), sync=False)
        keep = {_heads_path(folder).name} | {
            _month_path(folder, month).name
            for month in {entry[2] for entry in heads.values() if entry[0]}
        }
        for name in os.listdir(folder):  # noqa: PTH208  names, not paths
            if name.startswith("public-") and name.endswith(".json") and name not in keep:
                (folder / name).unlink(missing_ok=True)
    except OSError:
        pass  # a cache that cannot be written is only slower, never wrong


_Miss = tuple[int, tuple[str, str, str | None, dict[str, str]]]
"""A view to make: its place in the list, and (root, record, postmortem, known blob ids)."""


def _look_up(
    root: Path, exclude: frozenset[str], snap: Snapshot | None, cache: dict[str, Any]
) -> tuple[list[tuple[Any, ...] | None], list[_Miss]]:
    """Each incident's cached view where its key is known without reading the files (None
    in its place otherwise), and the views still to make."""
    from incidents_cli.core.records import INCIDENTS_DIR, POSTMORTEMS_DIR
    from incidents_cli.store.layout import name_not_utf8
    from incidents_cli.store.yamlio import file_names

    blobs = snap.blobs if snap is not None else {}
    folder = snap.folder if snap is not None else root
    with_postmortem = set(file_names(root / POSTMORTEMS_DIR, (".md",)))
    found: list[tuple[Any, ...] | None] = []
    misses: list[_Miss] = []
    for name in file_names(root / INCIDENTS_DIR, (".yaml", ".yml")):
        rel = f"{INCIDENTS_DIR}/{name}"
        if rel in exclude or (not name.isascii() and name_not_utf8(name) is not None):
            continue  # (a name not in UTF-8 is a finding under its name escaped: excluded)
        stem = name.rsplit(".", 1)[0]
        pm_rel = f"{POSTMORTEMS_DIR}/{stem}.md" if f"{stem}.md" in with_postmortem else None
        if pm_rel in exclude:
            pm_rel = None
        known = {r: blobs[r] for r in (rel, pm_rel) if r is not None and r in blobs}
        if len(known) == (2 if pm_rel else 1):  # the key is known without reading the files
            key = f"{name}:{known[rel]}:{known[pm_rel] if pm_rel else '-'}"
            hit = _entry(cache.get(key), (folder, "", key, str(root), rel, pm_rel))
            if hit is not None:
                found.append((key, *hit))
                continue
        misses.append((len(found), (str(root), rel, pm_rel, known)))
        found.append(None)
    return found, misses


def _add_maintenance(
    root: Path, snap: Snapshot | None, exclude: frozenset[str], timezone: str, inputs: PublicInputs
) -> None:
    """The maintenance windows of every usable maintenance record."""
    from incidents_cli.store import cache as record_cache

    for record in record_cache.read_all(root, kinds=("maintenance",), snap=snap):
        if record.rel in exclude:
            continue
        if not record_cache.usable(record) or not isinstance(record.data, dict):
            inputs.unreadable.append(record.rel)
            continue
        inputs.maintenances.extend(maintenance_windows(record.data, timezone))


_READ: dict[str, RecordFile] | None = None
"""The records this command read already, by path, for the workers that make their views
(forked: they have them already, nothing is sent to them but paths)."""


def _from_records(
    root: Path,
    records: Sequence[RecordFile],
    misses: list[tuple[int, tuple[str, str, str | None, dict[str, str]]]],
    found: list[tuple[str, Any] | None],
    derived: Mapping[str, Any],
) -> list[tuple[int, tuple[str, str, str | None, dict[str, str]]]]:
    """Fill ``found`` with the views of the incidents this command has read already (site
    build validates first), made on every core: each file is parsed once. The misses that
    are left."""
    global _READ
    read = {record.rel: record for record in records}
    mine, left = [], []
    for index, item in misses:
        _, rel, pm_rel, known = item
        made = derived.get(rel)
        if made is not None and _made_of(made[0], rel, pm_rel, known):
            found[index] = made
        elif rel in read and (pm_rel is None or pm_rel in read):
            mine.append((index, item))
        else:
            left.append((index, item))
    _READ = read
    try:
        with bulk():
            made = map_chunks(_views_of_read, [item for _, item in mine])
    finally:
        _READ = None
    for (index, _), entry in zip(mine, made, strict=True):
        found[index] = entry
    return left


def _views_of_read(
    items: Sequence[tuple[str, str, str | None, dict[str, str]]],
) -> list[tuple[str, list[Any]]]:
    """The key and cache entry of each incident's view, from the records read already: what
    a worker does."""
    from incidents_cli.store.cache import usable

    assert _READ is not None
    out: list[tuple[str, list[Any]]] = []
    for root_text, rel, pm_rel, known in items:
        root = Path(root_text)
        record = _READ[rel]
        postmortem = _READ[pm_rel] if pm_rel else None
        record_id, _ = _content_id(root, rel, known)
        pm_id, _ = _content_id(root, pm_rel, known) if pm_rel else ("-", None)
        data = record.data if usable(record) else None
        pm_data = postmortem.data if postmortem is not None and usable(postmortem) else None
        key = f"{rel.rsplit('/', 1)[-1]}:{record_id}:{pm_id}"
        out.append((key, _view_entry(rel, data, pm_rel, pm_data)))
    return out


def _from_record_cache(
    snap: Any,
    misses: list[tuple[int, tuple[str, str, str | None, dict[str, str]]]],
    found: list[tuple[str, Any] | None],
) -> list[tuple[int, tuple[str, str, str | None, dict[str, str]]]]:
    """Fill ``found`` with the views of the incidents whose files are in the record cache
    (and passed their schema there); the misses that are left. CI runs `validate` and then
    `site build` on a fresh clone: the second reads the records the first parsed, instead of
    parsing them again."""
    from incidents_cli.store import cache as record_cache

    incidents = record_cache.cached_data(snap, "incident")
    if not incidents:
        return misses
    postmortems = record_cache.cached_data(snap, "postmortem")
    left = []
    with bulk():
        for index, item in misses:
            _, rel, pm_rel, known = item
            data = incidents.get(known.get(rel, ""))
            pm_data = postmortems.get(known.get(pm_rel, "")) if pm_rel else None
            if data is None or (pm_rel is not None and pm_data is None):
                left.append((index, item))
                continue
            key = f"{rel.rsplit('/', 1)[-1]}:{known[rel]}:{known[pm_rel] if pm_rel else '-'}"
            found[index] = (key, _view_entry(rel, data, pm_rel, pm_data))
    return left


def _key(rel: str, record_id: str, pm_id: str) -> str:
    return f"{rel.rsplit('/', 1)[-1]}:{record_id}:{pm_id}"


def parsed_view(
    rel: str, blob: str, data: Any, pm_rel: str | None, pm_blob: str, pm_data: Any
) -> tuple[str, list[Any]]:
    """The key and cache entry of the view of an incident, from the path, blob id and data
    (that follows its schema) of its record and its postmortem (None, "-", None: it has
    none): made where `site build`'s check parsed them (store/checks.py check_all's
    ``derive``)."""
    key, entry, _ = parsed_view_made(rel, blob, data, pm_rel, pm_blob, pm_data)
    return key, entry


def parsed_view_made(
    rel: str, blob: str, data: Any, pm_rel: str | None, pm_blob: str, pm_data: Any
) -> tuple[str, list[Any], PublicIncident | None]:
    """``parsed_view``, and the view itself (None if the incident is not public), for a
    page made of it where it is made (site/pages.py ``EarlyPages``)."""
    view, entry = _made_view_entry(rel, data, pm_rel, pm_data)
    return _key(rel, blob, pm_blob), entry, view


def _made_of(key: str, rel: str, pm_rel: str | None, known: dict[str, str]) -> bool:
    """Whether a view made where its files were parsed is the one wanted: made with the
    postmortem the build uses (none, if it has none or leaves it out as not valid), from the
    content git vouches for (a file git does not vouch for was hashed where it was read)."""
    _, record_id, pm_id = key.rsplit(":", 2)
    if known.get(rel, record_id) != record_id:
        return False
    if pm_rel is None:
        return pm_id == "-"
    return pm_id != "-" and known.get(pm_rel, pm_id) == pm_id


def _view_entries(
    items: Sequence[tuple[str, str, str | None, dict[str, str]]],
) -> list[tuple[str, list[Any]]]:
    """The key and cache entry of each incident (with its postmortem), parsed from its files:
    what a worker does (see store/parallel.py). ``known``: the blob ids git vouches for."""
    from incidents_cli.store.cache import usable
    from incidents_cli.store.layout import read_record

    out: list[tuple[str, list[Any]]] = []
    for root_text, rel, pm_rel, known in items:
        root = Path(root_text)
        record_id, raw = _content_id(root, rel, known)
        pm_id, pm_raw = _content_id(root, pm_rel, known) if pm_rel else ("-", None)
        key = f"{rel.rsplit('/', 1)[-1]}:{record_id}:{pm_id}"
        record = read_record(root, rel, "incident", raw)  # each file is read once
        postmortem = read_record(root, pm_rel, "postmortem", pm_raw) if pm_rel else None
        # a record that does not parse or follow its schema is never published
        data = record.data if usable(record) else None
        pm_data = postmortem.data if postmortem is not None and usable(postmortem) else None
        out.append((key, _view_entry(rel, data, pm_rel, pm_data)))
    return out


def _view_entry(rel: str, data: Any, pm_rel: str | None, pm_data: Any) -> list[Any]:
    """The cache entry of one incident's public view: [head, view as JSON, unreadable files]
    (``data``, ``pm_data``: None for a record that cannot be used)."""
    return _made_view_entry(rel, data, pm_rel, pm_data)[1]


def _made_view_entry(
    rel: str, data: Any, pm_rel: str | None, pm_data: Any
) -> tuple[PublicIncident | None, list[Any]]:
    """The public view of one incident, and its cache entry (``_view_entry``)."""
    view, unreadable = None, []
    if pm_rel is not None and not isinstance(pm_data, dict):
        unreadable.append(pm_rel)
    if not isinstance(data, dict):
        unreadable.insert(0, rel)
    else:
        view = public_incident(data, pm_data if isinstance(pm_data, dict) else None)
    return view, [
        _head(view) if view else None,
        view_json(incident_to_data(view)) if view else "",
        unreadable,
    ]


def view_json(data: dict[str, Any]) -> str:
    """A view's data as compact JSON text, which ``json.loads`` reads back as the same data:
    orjson's where it is installed (a fifth of the time: 2,000 views are made in a cold
    build), else Python's, which also writes what orjson refuses (an integer over 64 bits,
    a lone surrogate). A view holds no floats (every field is text, a count or a list of
    them: the schemas say so), the one kind of value the two would write differently."""
    try:
        import orjson
    except ImportError:  # pragma: no cover - a platform without its wheel
        return json.dumps(data, separators=(",", ":"))
    try:
        return orjson.dumps(data).decode("utf-8")
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(data, separators=(",", ":"))
