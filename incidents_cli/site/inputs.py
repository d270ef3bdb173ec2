"""What the site is built from: the public view of every incident, computed only for
the records that changed since the last build (cached by blob id), and the maintenance windows.
"""

from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from incidents_cli.site.public import (
    Maintenance,
    PublicIncident,
    maintenance_window,
    public_incident,
)


@dataclass
class PublicInputs:
    """What the site is built from: the public view of every incident with the key of its
    content (file name and the blob ids of its record and postmortem) by incident id, the
    maintenance windows, and the files that could not be read."""

    incidents: list[PublicIncident]
    keys: dict[str, str]
    maintenances: list[Maintenance]
    unreadable: list[str]


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


def public_inputs(root: Path, exclude: frozenset[str] = frozenset()) -> PublicInputs:
    """The public view of every incident, computed only for records that changed;
    ``exclude``: records that do not validate, never published (a postmortem there is
    taken as absent).

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
        if rel in exclude:
            continue
        stem = name.rsplit(".", 1)[0]
        pm_rel = f"{POSTMORTEMS_DIR}/{stem}.md" if f"{stem}.md" in with_postmortem else None
        if pm_rel in exclude:
            pm_rel = None
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
            if postmortem is not None and (
                not record_cache.usable(postmortem) or not isinstance(postmortem.data, dict)
            ):
                unreadable.append(postmortem.rel)
                postmortem = None
            if not record_cache.usable(record) or not isinstance(record.data, dict):
                unreadable.insert(0, rel)
            else:
                pm_data = (
                    postmortem.data if postmortem and isinstance(postmortem.data, dict) else None
                )
                view = public_incident(record.data, pm_data)
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
        if record.rel in exclude:
            continue
        if not record_cache.usable(record) or not isinstance(record.data, dict):
            inputs.unreadable.append(record.rel)
            continue
        window = maintenance_window(record.data)
        if window is not None:
            inputs.maintenances.append(window)
    return inputs
