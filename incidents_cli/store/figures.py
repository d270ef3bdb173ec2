"""What `incidents stats` reads of each record, on every core, kept by git blob id.

`stats` needs a few fields of each incident and of each postmortem's front matter, never a
timeline or a body. Each record is read where it is parsed, in a worker (see
store/parallel.py), and comes back as exactly those fields (its figures), or as nothing if
it is not usable (it does not parse or follow its schema: `stats` leaves it out and
names its file). So the command holds small dicts, not records, and little crosses between
processes. The figures are kept by blob id in `.git/incidents-cache` (JSON only; shards, as
in store/cache.py), under a name that changes with the CLI's version and with the schemas
and parsers that decide usability; a damaged or foreign entry is a miss.

A file git does not vouch for (uncommitted, untracked, outside git) is always read afresh.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from incidents_cli.core.records import RecordFile
from incidents_cli.store.cache import LazyDocument, load_shards, save_shards, snapshot, usable
from incidents_cli.store.layout import name_not_utf8, read_record, record_paths
from incidents_cli.store.parallel import bulk, iter_chunks

FIGURES_FORMAT = 3

INCIDENT_FIELDS = (
    "id",
    "severity",
    "source",
    "components",
    "detected_at",
    "acknowledged_at",
    "resolved_at",
    "runbooks",
)
"""The fields of an incident `core.stats` reads (and ``postmortems.due_date``), and
`runbooks`, which `runbook stale` reads with the id."""

FRONT_FIELDS = ("status", "due", "published_at")
"""The fields of a postmortem's front matter they read, besides `incident` and the action
items (of which they read only ``ITEM_FIELDS``, and only of the items that are mappings)."""

LISTED = ("components", "runbooks")
"""The incident fields that are lists of strings; every other figure is a string."""

ITEM_FIELDS = ("status", "due")


StatsInput = tuple[list[dict[str, Any]], dict[str, dict[str, Any]], list[str]]


def stats_input(root: Path) -> StatsInput:
    """The figures of every usable incident, in file order, and of every usable postmortem
    by incident id (the last one of an id wins, as in ``cache.read_incident_data``): what
    ``core.stats.compute`` and ``core.runbooks.stale`` read, and nothing else; and the
    files left out because they are not usable."""
    with bulk():
        return _stats_input(root)


def _stats_input(root: Path) -> StatsInput:
    names: dict[str, str] = {}  # each severity, source and component once
    results = _kept_by_blob(
        root,
        _cache_name(),
        ("incident", "postmortem"),
        lambda kind, blob: f"{kind[0]}{blob}",  # i or p, and the blob id
        _fits,
        _figures_of,
    )
    incidents: list[dict[str, Any]] = []
    postmortems: dict[str, dict[str, Any]] = {}
    unreadable: list[str] = []
    for rel, kind, figures in results:
        if figures is None:
            unreadable.append(name_not_utf8(rel) or rel)  # (a name not in UTF-8: escaped)
            continue
        if kind == "incident":
            incidents.append(_shared(figures, names))
        else:
            incident, front = figures
            stem = rel.rsplit("/", 1)[-1].rsplit(".", 1)[0]
            postmortems[stem if incident is None else incident] = front
    return incidents, postmortems, unreadable


def _shared(figures: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """The figures with their repeated names (severity, source, components) held once."""
    for key in ("severity", "source"):
        value = figures.get(key)
        if type(value) is str:
            figures[key] = names.setdefault(value, value)
    components = figures.get("components")
    if type(components) is list:
        figures["components"] = [
            names.setdefault(c, c) if type(c) is str else c for c in components
        ]
    return figures


def _figures_of(items: Sequence[tuple[str, str, str]]) -> list[Any]:
    """What a worker does: each file read, and its figures (None if it is not usable)."""
    out: list[Any] = []
    for root, rel, kind in items:
        record = read_record(Path(root), rel, kind, places=False)
        data = record.data if usable(record) else None
        out.append(figures(kind, data) if isinstance(data, dict) else None)
    return out


def figures(kind: str, data: dict[str, Any]) -> Any:
    """A usable record's figures: for an incident, its ``INCIDENT_FIELDS`` that it has;
    for a postmortem, [its `incident` as a string (None without one: the file's stem
    stands for it), its ``FRONT_FIELDS`` and action items as ``core.stats`` reads them]."""
    if kind == "incident":
        return {key: data[key] for key in INCIDENT_FIELDS if key in data}
    front = {key: data[key] for key in FRONT_FIELDS if key in data}
    if "action_items" in data:
        items = data["action_items"]
        if items:
            front["action_items"] = [
                {key: item[key] for key in ITEM_FIELDS if key in item}
                for item in items
                if isinstance(item, dict)
            ]
    return [str(data["incident"]) if "incident" in data else None, front]


def _fits(kind: str, entry: Any) -> bool:
    """Whether a cache entry is of the shape ``figures`` makes for this kind, with values
    of the types the schemas allow (else a miss: the record is read again)."""
    if entry is None:
        return True
    if kind == "incident":
        return _strings(entry, INCIDENT_FIELDS, LISTED)
    if type(entry) is not list or len(entry) != 2:
        return False
    incident, front = entry
    if not (incident is None or type(incident) is str):
        return False
    if not _strings(front, FRONT_FIELDS, ("action_items",)):
        return False
    items = front.get("action_items", [])
    return type(items) is list and all(_strings(item, ITEM_FIELDS) for item in items)


def _strings(entry: Any, fields: tuple[str, ...], listed: tuple[str, ...] = ()) -> bool:
    """A mapping of some of ``fields`` to strings (and of ``listed`` to lists: of strings,
    but for the action items, whose entries the caller checks)."""
    if type(entry) is not dict:
        return False
    for key, value in entry.items():
        if key in listed:
            if type(value) is not list:
                return False
            if key in LISTED and any(type(v) is not str for v in value):
                return False
        elif key not in fields or type(value) is not str:
            return False
    return True


def _kept_by_blob(
    root: Path,
    name: str,
    kinds: tuple[str, ...],
    key_of: Callable[[str, str], str],
    fits: Callable[[str, Any], bool],
    work: Callable[[Sequence[tuple[str, str, str]]], list[Any]],
) -> list[tuple[str, str, Any]]:
    """Every record of ``kinds``, in file order, as (path, kind, value): the value kept in
    the cache ``name`` under ``key_of(kind, blob id)`` where git vouches for the file and
    ``fits`` accepts it, else what ``work`` makes of it in the workers (kept in turn)."""
    snap = snapshot(root)
    blobs = snap.blobs if snap is not None else {}
    saved = load_shards(snap, name) if snap is not None else {}
    kept: dict[str, Any] = {}
    results: list[tuple[str, str, Any]] = []
    misses: list[tuple[int, str | None]] = []
    items: list[tuple[str, str, str]] = []
    for rel, kind in record_paths(root, kinds):
        blob = blobs.get(rel)
        key = key_of(kind, blob) if blob is not None else None
        # (the snapshot holds no symlink, which read_record refuses)
        if key is not None and key in saved and fits(kind, saved[key]):
            kept[key] = saved[key]
            results.append((rel, kind, saved[key]))
            continue
        misses.append((len(results), key))
        items.append((str(root), rel, kind))
        results.append((rel, kind, None))
    for (index, key), found in zip(misses, iter_chunks(work, items), strict=True):
        rel, kind, _ = results[index]
        results[index] = (rel, kind, found)
        if key is not None:
            kept[key] = found
    if snap is not None and kept.keys() != saved.keys():
        save_shards(snap, name, kept, saved)
    return results


def _cache_name() -> str:
    """The cache's name: its format (the files' names add the tool's version and a digest
    of its code and schemas, store/resources.py tool_key: a change of either is a miss for
    every record, also in a development install whose version stays the same)."""
    return f"figures-f{FIGURES_FORMAT}"


UNUSABLE = False
"""What the workers send back, and the caches keep, for an incident that is not usable (it
does not parse or follow its schema): its phase cannot be trusted, so the caller names it
(None is a usable incident in another phase)."""


def detected_incidents(root: Path) -> tuple[list[RecordFile], list[str]]:
    """The usable incidents whose phase is `detected` (the only ones that can need an
    escalation), in file order, with their data (places read again if one is asked for):
    read in the workers, which send back nothing of the others; kept by blob id. And the
    incident files that are not usable, whatever their phase."""
    return incidents_in(root, ("detected",))


def incidents_in(root: Path, phases: tuple[str, ...]) -> tuple[list[RecordFile], list[str]]:
    """The usable incidents in one of ``phases`` (`detected` for escalations, the open ones
    for `comms`), as ``detected_incidents`` reads them: these are few, the others many. And
    the incident files that are not usable."""
    with bulk():
        return _incidents_in(root, tuple(sorted(phases)))


def _incidents_in(root: Path, phases: tuple[str, ...]) -> tuple[list[RecordFile], list[str]]:
    # one cache per set of phases ("detected" keeps its old name)
    which = "detected" if phases == ("detected",) else "phases-" + "-".join(phases)
    results = _kept_by_blob(
        root,
        f"{which}-{_cache_name().split('-', 1)[1]}",
        ("incident",),
        lambda kind, blob: blob,
        lambda kind, entry: _in_phases_fits(entry, phases),
        functools.partial(_in_phases_of, phases),
    )
    out = []
    unreadable = []
    for rel, _, data in results:
        if data is UNUSABLE:
            unreadable.append(name_not_utf8(rel) or rel)  # (a name not in UTF-8: escaped)
        elif data is not None:
            record = RecordFile("incident", rel, LazyDocument(root, rel, data, "incident"))
            record.known_valid = True
            out.append(record)
    return out, unreadable


def _in_phases_of(phases: tuple[str, ...], items: Sequence[tuple[str, str, str]]) -> list[Any]:
    """What a worker does: each incident read, and its data if it is usable and in one of
    ``phases`` (None if it is usable and in another, ``UNUSABLE`` if it is not usable)."""
    out: list[Any] = []
    for root, rel, kind in items:
        record = read_record(Path(root), rel, kind, places=False)
        data = record.data if usable(record) else None
        if not isinstance(data, dict):
            out.append(UNUSABLE)
            continue
        out.append(data if data.get("phase") in phases else None)
    return out


def _in_phases_fits(entry: Any, phases: tuple[str, ...]) -> bool:
    """A cached entry: nothing, ``UNUSABLE``, or an incident in one of ``phases`` that
    follows its schema (checked again here, so a damaged or foreign entry is a miss; there are
    few of them)."""
    if entry is None or entry is UNUSABLE:
        return True
    from incidents_cli.store.schemas import is_valid

    return type(entry) is dict and entry.get("phase") in phases and is_valid("incident", entry)
