"""A cache of parsed records keyed by git blob id, so reading 10,000 records is fast.

Git already knows which files are unchanged and what their content hash is: a tracked file
whose work-tree copy matches the index is identified by its blob id, and a blob id never
changes meaning. Parsed data (and whether the record passed its schema) is kept in
`.git/incidents-cache/`, never in the work tree. Incidents are cached without line numbers;
they are recomputed from the file only if something asks for a place (a finding).
A file with uncommitted changes, or outside git, is always parsed afresh.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from incidents_cli.core.document import Document
from incidents_cli.core.records import RecordFile
from incidents_cli.store import yamlio
from incidents_cli.store.cache_files import enabled as enabled  # (a rebuild needs no more)
from incidents_cli.store.cache_files import read_cache_mapping
from incidents_cli.store.git import run_git
from incidents_cli.store.layout import name_not_utf8, read_record, record_paths
from incidents_cli.store.layout import usable as usable  # it lived here; ack needs no cache
from incidents_cli.store.parallel import bulk, map_chunks
from incidents_cli.store.resources import tool_key

CACHE_FORMAT = 4  # 4: "valid" also means real times in range and no control characters
WITH_PLACES = ("postmortem", "runbook", "maintenance", "settings", "oncall")
"""The kinds whose cache entries keep the place of every field (the others are read again
for a place, which only a finding needs)."""


class LazyDocument(Document):
    """A cached document whose places are made only when first needed: from the cached
    list of places if there is one, else by reading the file again."""

    def __init__(
        self, root: Path, rel: str, data: Any, kind: str, places: list[Any] | None = None
    ) -> None:
        super().__init__(rel, data)
        self._root = root
        self._kind = kind
        self._raw_places = places
        self._loaded = False

    def locate(self, where: Sequence[str | int]) -> tuple[int, int]:
        if not self._loaded:
            self._loaded = True
            if self._raw_places is not None:
                self.places = {tuple(k): (line, col) for k, line, col in self._raw_places}
                self._raw_places = None
            else:
                text = yamlio.read_text(self._root / self.path, self.path)
                if self._kind in ("postmortem", "runbook"):
                    doc, _, _ = yamlio.parse_front_matter(text, self.path)
                else:
                    doc = yamlio.parse(text, self.path)
                self.places = doc.places
                self.line_offset = doc.line_offset
        return super().locate(where)


@dataclass(frozen=True)
class Snapshot:
    """What git vouches for, read once per command: the cache folder, and the blob id of
    every tracked regular file whose work-tree copy is unchanged (a file that became a
    symlink is a change to git too)."""

    folder: Path
    blobs: dict[str, str]


_HELD: dict[Path, list[Snapshot | None]] = {}


@contextmanager
def one_snapshot(root: Path) -> Iterator[None]:
    """Within it, every snapshot of ``root`` is the first one taken: for a command that
    reads the repository in several steps and writes nothing to it in between (`site
    build`), so git is asked once."""
    key = root.resolve()
    _HELD[key] = []
    try:
        yield
    finally:
        _HELD.pop(key, None)


def snapshot(root: Path) -> Snapshot | None:
    """The repository's snapshot, or None outside git or with the cache turned off."""
    held = _HELD.get(root.resolve()) if _HELD else None
    if held is None:
        return _snapshot(root)
    if not held:
        held.append(_snapshot(root))
    return held[0]


def _snapshot(root: Path) -> Snapshot | None:
    if not enabled():
        return None
    top = run_git(root, "rev-parse", "--git-dir", check=False)
    if top.returncode != 0:
        return None
    git_dir = Path(top.stdout.strip())
    if not git_dir.is_absolute():
        git_dir = root / git_dir
    # -v: the tag of each entry; "H" alone is a file git compares with the work tree (a
    # skip-worktree "S" or an assume-unchanged lowercase entry may hold other bytes than
    # its blob, and `git diff` would not say so)
    staged = run_git(root, "ls-files", "-s", "-v", "-z", check=False)
    if staged.returncode != 0:
        return None
    blobs: dict[str, str] = {}
    for entry in staged.stdout.split("\0"):
        if "\t" in entry:
            meta, rel = entry.split("\t", 1)
            tag, mode, blob, _ = meta.split(" ", 3)
            # a regular file, vouched for; a name not in UTF-8 is never a cache's key
            if (
                tag == "H"
                and mode in ("100644", "100755")
                and (rel.isascii() or name_not_utf8(rel) is None)
            ):
                blobs[rel] = blob
    dirty = run_git(root, "diff", "--name-only", "-z", "--relative", check=False)
    for rel in dirty.stdout.split("\0"):
        blobs.pop(rel, None)
    return Snapshot(git_dir / "incidents-cache", blobs)


SHARDS = 16


def _shard(key: str) -> int:
    import zlib

    return zlib.crc32(key.encode("utf-8")) % SHARDS


def _shard_path(snap: Snapshot, name: str, shard: int) -> Path:
    return snap.folder / f"{name}-v{tool_key()}-{shard:02d}.json"


_LOADED: dict[tuple[Path, str], tuple[int, list[set[str]]]] = {}
"""The id of what ``load_shards`` last gave for a cache, and the keys each shard file held:
saving it again then rewrites the shards that changed without placing every key anew (and
a wrong guess would cost only misses: entries are keyed by their content)."""


def load_shards(snap: Snapshot, name: str) -> dict[str, Any]:
    """Values derived from content, by content key, kept as JSON (data only: loading a
    cache never runs code, so a cache restored in CI cannot do harm beyond a wrong page,
    and keys are blob ids of the content they describe).

    Kept in shards, so that a change rewrites one sixteenth of the cache, not all of it.
    """
    values: dict[str, Any] = {}
    held: list[set[str]] = []
    for shard in range(SHARDS):
        mapping = read_cache_mapping(_shard_path(snap, name, shard))
        values.update(mapping)
        held.append(set(mapping))
    _LOADED[(snap.folder, name)] = (id(values), held)
    return values


def save_shards(snap: Snapshot, name: str, values: dict[str, Any], before: dict[str, Any]) -> None:
    """Keep ``values`` (content-keyed, so equal keys mean equal values): only the shards
    whose keys differ from ``before`` are written."""
    shards = _changed_shards(snap, name, values, before)
    try:
        snap.folder.mkdir(parents=True, exist_ok=True)
        current = {_shard_path(snap, name, n).name for n in range(SHARDS)}
        family = name.split("-", 1)[0]  # "public-f3": earlier formats and versions go
        for stale in os.listdir(snap.folder):  # noqa: PTH208  names, not paths
            old = stale.startswith(f"{family}-") and stale.endswith(".json")
            if (old or stale.endswith(".pickle")) and stale not in current:
                (snap.folder / stale).unlink(missing_ok=True)
        for number, shard in shards.items():
            path = _shard_path(snap, name, number)
            yamlio.write_atomic(path, json.dumps(shard, separators=(",", ":")), sync=False)
    except OSError:
        pass  # a cache that cannot be written is only slower, never wrong


def _changed_shards(
    snap: Snapshot, name: str, values: dict[str, Any], before: dict[str, Any]
) -> dict[int, dict[str, Any]]:
    """The shards to write anew, by number: those where ``values`` and ``before`` differ."""
    loaded, held = _LOADED.pop((snap.folder, name), (None, []))
    if loaded != id(before) or sum(map(len, held)) != len(before):
        shards: list[dict[str, Any]] = [{} for _ in range(SHARDS)]
        for key, value in values.items():
            shards[_shard(key)][key] = value
        old: list[set[str]] = [set() for _ in range(SHARDS)]
        for key in before:
            old[_shard(key)].add(key)
        return {n: shard for n, shard in enumerate(shards) if shard.keys() != old[n]}
    # Each key of ``before`` is in the shard file it was read from: only the keys added or
    # gone need placing.
    changed = values.keys() ^ before.keys()
    placed: dict[int, list[str]] = {}
    for key in changed:
        placed.setdefault(_shard(key), []).append(key)
    out: dict[int, dict[str, Any]] = {}
    for number, keys in placed.items():
        shard = {key: values[key] for key in held[number] if key in values}
        shard.update({key: values[key] for key in keys if key in values})
        out[number] = shard
    return out


def _cache_file(folder: Path, kind: str) -> Path:
    return folder / f"records-{kind}-f{CACHE_FORMAT}-v{tool_key()}.json"


MAX_PACKS = 64
"""More packs of one kind than this, and they are dropped (a later read fills the cache)."""


def _load_kind(folder: Path, kind: str) -> dict[str, Any]:
    """The cached records of one kind: its file, and the packs `validate` wrote beside it
    (see ``write_pack``), which a read that saves the kind's file merges into it."""
    entries = read_cache_mapping(_cache_file(folder, kind))
    base = _cache_file(folder, kind)
    for pack in sorted(folder.glob(f"{base.stem}-p*.json")):
        entries.update(read_cache_mapping(pack))
    return entries


def write_pack(folder: Path, kind: str, entries: dict[str, Any]) -> None:
    """Keep these records (entries by blob id) as a pack beside the kind's cache file:
    what a `validate` worker parsed, written where it was parsed, for the commands that read
    records next (`site build` in CI), without sending the records to the command's process
    and without reading the whole cache to add them."""
    import zlib

    if not entries:
        return
    base = _cache_file(folder, kind)
    tag = zlib.crc32("\n".join(sorted(entries)).encode("utf-8"))
    path = folder / f"{base.stem}-p{tag:08x}.json"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        yamlio.write_atomic(path, json.dumps(entries, separators=(",", ":")), sync=False)
    except OSError:
        pass  # a cache that cannot be written is only slower, never wrong


def prune_packs(folder: Path) -> None:
    """Before packs are written: the record caches of other formats and versions go, and
    so do the packs of a kind that has too many (each big `validate` adds some)."""
    from incidents_cli.core.records import KINDS

    try:
        for kind in KINDS:
            base = _cache_file(folder, kind)
            packs = list(folder.glob(f"{base.stem}-p*.json"))
            for old in folder.glob(f"records-{kind}-*.json"):
                stale = not old.name.startswith(base.stem)
                if stale or (len(packs) > MAX_PACKS and old != base):
                    old.unlink(missing_ok=True)
    except OSError:
        pass


def cache_entry(record: RecordFile, valid: bool) -> dict[str, Any]:
    """The cache entry of a record that parsed without problems (``valid``: it follows its
    schema)."""
    record.known_valid = valid
    return _entry(record)


def read_all(
    root: Path,
    use_cache: bool = True,
    kinds: Sequence[str] | None = None,
    snap: Snapshot | None = None,
) -> list[RecordFile]:
    """Every record of the repository (or of these kinds), from the cache where git vouches
    for the content. Each kind has a cache file of its own, so reading postmortems does not
    load every incident."""
    with bulk():
        return _read_all(root, use_cache, kinds, snap)


def _read_all(
    root: Path, use_cache: bool, kinds: Sequence[str] | None, snap: Snapshot | None
) -> list[RecordFile]:
    paths = record_paths(root, kinds)
    state = (snap or snapshot(root)) if use_cache else None
    if state is None:
        return [record for record, _ in parse_records(root, paths)]
    folder, blobs = state.folder, state.blobs
    caches: dict[str, dict[str, Any]] = {}
    kept: dict[str, dict[str, Any]] = {}
    records: list[RecordFile | None] = []
    misses: list[tuple[int, str, str, str | None]] = []
    for rel, kind in paths:
        if kind not in caches:
            caches[kind] = _load_kind(folder, kind)
            kept[kind] = {}
        blob = blobs.get(rel)
        entry = caches[kind].get(blob) if blob else None
        symlink = (root / rel).is_symlink()  # read_record refuses it, with its reason
        cached = _from_entry(root, rel, kind, entry) if entry is not None and not symlink else None
        if cached is not None:
            assert blob is not None
            kept[kind][blob] = entry
            records.append(cached)
            continue
        misses.append((len(records), rel, kind, blob))
        records.append(None)
    parsed = parse_records(root, [(rel, kind) for _, rel, kind, _ in misses])
    for (index, _, kind, blob), (record, entry) in zip(misses, parsed, strict=True):
        records[index] = record
        if blob is not None and entry is not None:
            kept[kind][blob] = entry
    for kind, entries in kept.items():
        if entries.keys() != caches[kind].keys():
            _save(folder, _cache_file(folder, kind), entries)
    return [record for record in records if record is not None]


def parse_records(
    root: Path, paths: Sequence[tuple[str, str]]
) -> list[tuple[RecordFile, dict[str, Any] | None]]:
    """Each file parsed and checked against its schema, with its cache entry (None for a
    file with a problem), in order: on every core for many files (see store/parallel.py).

    Workers send back cache entries, which hold no line numbers for incidents: as for a
    record read from the cache, they are read again only for a record that has a finding.
    A file with a problem is read again here, so its error is made exactly as in one process.
    """
    entries = map_chunks(_entries, [(str(root), rel, kind) for rel, kind in paths])
    out: list[tuple[RecordFile, dict[str, Any] | None]] = []
    for (rel, kind), entry in zip(paths, entries, strict=True):
        record = _from_entry(root, rel, kind, entry) if entry is not None else None
        if record is None:
            out.append((read_record(root, rel, kind), None))
        else:
            out.append((record, entry))
    return out


def _entries(items: Sequence[tuple[str, str, str]]) -> list[dict[str, Any] | None]:
    """The cache entry of each file (None where it has a problem): what a worker does."""
    from incidents_cli.store.schemas import schema_findings

    out: list[dict[str, Any] | None] = []
    for root, rel, kind in items:
        record = read_record(Path(root), rel, kind, places=kind in WITH_PLACES)
        ok = record.doc is not None and not record.doc.problems
        out.append(cache_entry(record, not schema_findings(record)) if ok else None)
    return out


def cached_data(snap: Snapshot, kind: str) -> dict[str, Any]:
    """The parsed data of every record of this kind in the cache that passed its schema, by
    blob id (what another command, `validate` say, has already parsed)."""
    entries = _load_kind(snap.folder, kind)
    return {
        blob: entry["data"]
        for blob, entry in entries.items()
        if isinstance(entry, dict) and "data" in entry and entry.get("valid") is True
    }


def read_usable(
    root: Path, kinds: Sequence[str] | None = None, snap: Snapshot | None = None
) -> tuple[list[RecordFile], list[str]]:
    """The usable records (see ``usable``) of these kinds, and the paths of the others."""
    usable_records: list[RecordFile] = []
    left_out: list[RecordFile] = []
    for record in read_all(root, kinds=kinds, snap=snap):
        (usable_records if usable(record) else left_out).append(record)
    return usable_records, [r.rel for r in left_out]


def _entry(record: RecordFile) -> dict[str, Any]:
    """The cache entry of a record (``known_valid``: whether it follows its schema)."""
    assert record.doc is not None
    entry: dict[str, Any] = {"data": record.doc.data, "valid": record.known_valid}
    if record.kind in ("postmortem", "runbook"):
        entry["body"] = record.body
        entry["body_line"] = record.body_line
    if record.kind in WITH_PLACES:
        entry["places"] = [[list(k), v[0], v[1]] for k, v in record.doc.places.items()]
        entry["offset"] = record.doc.line_offset
    return entry


_ENTRY_TYPES = {"body": str, "body_line": int, "offset": int, "places": list, "valid": bool}


def _from_entry(root: Path, rel: str, kind: str, entry: Any) -> RecordFile | None:
    """The record a cache entry holds, or None (a miss) if the entry is not of our shape."""
    if not isinstance(entry, dict) or "data" not in entry:
        return None
    if any(not isinstance(entry.get(k, t()), t) for k, t in _ENTRY_TYPES.items()):
        return None
    doc = LazyDocument(root, rel, entry["data"], kind, entry.get("places"))
    doc.line_offset = entry.get("offset", 0)
    record = RecordFile(
        kind, rel, doc, body=entry.get("body", ""), body_line=entry.get("body_line", 0)
    )
    record.known_valid = bool(entry.get("valid"))
    return record


def _save(folder: Path, path: Path, entries: dict[str, Any]) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        kind = path.name.split("-")[1]
        for old in [*folder.glob(f"records-{kind}-*.json"), *folder.glob("records-f*.json")]:
            if old != path:
                old.unlink(missing_ok=True)
        yamlio.write_atomic(path, json.dumps(entries, separators=(",", ":")), sync=False)
    except OSError:
        pass  # a cache that cannot be written is only slower, never wrong


SUMMARY_FIELDS = (
    "id",
    "title",
    "severity",
    "phase",
    "source",
    "components",
    "detected_at",
    "acknowledged_at",
    "resolved_at",
    "closed_at",
    "public",
    "runbooks",
    "alert",
)


def summary_records(root: Path, snap: Snapshot | None = None) -> list[RecordFile]:
    """Incidents as records holding only their summary fields (places read on demand)."""
    summaries, _ = incident_summaries(root, snap)
    out = []
    for summary in summaries:
        rel = str(summary["_path"])
        data = {k: v for k, v in summary.items() if k != "_path"}
        out.append(RecordFile("incident", rel, LazyDocument(root, rel, data, "incident")))
    return out


def incident_summaries(
    root: Path, snap: Snapshot | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """The fields `list` needs of every incident, and the files that could not be read.

    A small cache of its own (keyed by blob id like the records), so listing 10,000
    incidents does not load every timeline.
    """

    state = snap or snapshot(root)
    folder, blobs = (state.folder, state.blobs) if state is not None else (None, {})
    path = folder / f"summaries-f{CACHE_FORMAT}-v{tool_key()}.json" if folder else None
    cache = read_cache_mapping(path) if path is not None else {}
    kept: dict[str, Any] = {}
    out: list[dict[str, Any]] = []
    unreadable: list[str] = []
    for rel, kind in record_paths(root, ("incident",)):
        blob = blobs.get(rel)
        if blob and blob in cache and _is_summary(cache[blob]) and not (root / rel).is_symlink():
            kept[blob] = cache[blob]
            if cache[blob] is None:
                unreadable.append(rel)
            else:
                out.append(cache[blob])
            continue
        record = read_record(root, rel, kind, places=False)
        summary = _summary(record)
        if summary is None:
            unreadable.append(record.rel)  # (a name that is not UTF-8: escaped)
        else:
            out.append(summary)
        if blob:
            kept[blob] = summary
    if path is not None and folder is not None and kept.keys() != cache.keys():
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for old in folder.glob("summaries-*.json"):
                if old != path:
                    old.unlink(missing_ok=True)
            yamlio.write_atomic(path, json.dumps(kept, separators=(",", ":")), sync=False)
        except OSError:
            pass
    return out, unreadable


def _is_summary(entry: Any) -> bool:
    return entry is None or (isinstance(entry, dict) and isinstance(entry.get("_path"), str))


def _summary(record: RecordFile) -> dict[str, Any] | None:
    from incidents_cli.core.overview import usable as usable_data

    data = record.data
    if not usable(record) or not isinstance(data, dict) or not usable_data(data):
        return None
    summary = {k: data[k] for k in SUMMARY_FIELDS if k in data}
    roles = data.get("roles")
    if isinstance(roles, dict) and roles.get("commander"):
        summary["roles"] = {"commander": roles["commander"]}
    summary["_path"] = record.rel
    return summary


def read_incident_data(
    root: Path, unreadable: list[str] | None = None
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """The data of every readable incident, postmortem front matter by incident id, and
    maintenance record (the whole records, internal fields included); ``unreadable`` collects
    the paths of the others."""

    incidents: list[dict[str, Any]] = []
    postmortems: dict[str, dict[str, Any]] = {}
    maintenance: list[dict[str, Any]] = []
    for record in read_all(root, kinds=("incident", "postmortem", "maintenance")):
        if not usable(record) or not isinstance(record.data, dict):
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
