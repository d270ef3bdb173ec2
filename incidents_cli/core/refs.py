"""Stable references: N1, N2, ... for timeline entries and U1, U2, ... for public updates.

A reference is stored in the entry, not computed from its position: entries are kept in time
order, so a back-filled note would shift every position after it. A record written before
references existed gets them in list order, after the highest one present; `show` computes
exactly the references the next transition will store, so what a person reads stays true.
"""

from __future__ import annotations

import re
from typing import Any

from incidents_cli.core.errors import RefusedError

PREFIX = {"timeline": "N", "updates": "U"}
LIST_OF_PREFIX = {prefix: key for key, prefix in PREFIX.items()}
_REF = re.compile(r"^([NU])([1-9][0-9]*)$")


def number(ref: Any) -> int | None:
    """The number of a reference (``U3`` gives 3), or None for anything else."""
    match = _REF.match(ref) if isinstance(ref, str) else None
    return int(match.group(2)) if match else None


def _entries(record: dict[str, Any], key: str) -> list[Any]:
    entries = record.get(key)
    return entries if isinstance(entries, list) else []


def next_ref(record: dict[str, Any], key: str) -> str:
    """The reference a new entry of ``key`` (timeline or updates) gets: never one used before."""
    prefix = PREFIX[key]
    used = [
        n
        for e in _entries(record, key)
        if isinstance(e, dict) and str(e.get("ref", "")).startswith(prefix)
        for n in [number(e.get("ref"))]
        if n is not None
    ]
    return f"{prefix}{max(used, default=0) + 1}"


def ensure_refs(record: dict[str, Any]) -> None:
    """Give every entry without a reference the next one, in list order (in place)."""
    for key in PREFIX:
        for entry in _entries(record, key):
            if isinstance(entry, dict) and "ref" not in entry:
                entry["ref"] = next_ref(record, key)
                # the reference goes first, where a person reading the file looks
                items = list(entry.items())
                entry.clear()
                entry.update([items[-1], *items[:-1]])


def find(record: dict[str, Any], ref: str) -> tuple[str, dict[str, Any]]:
    """The list (timeline or updates) and the entry that ``ref`` names, or a refusal."""
    match = _REF.match(ref.strip().upper())
    if match is None:
        raise RefusedError(
            f"{ref!r} is not a reference: write N<number> for a timeline entry or U<number> "
            f"for a public update, as `incidents show {record.get('id')}` lists them"
        )
    key = LIST_OF_PREFIX[match.group(1)]
    wanted = match.group(0)
    for entry in _entries(record, key):
        if isinstance(entry, dict) and entry.get("ref") == wanted:
            return key, entry
    raise RefusedError(
        f"{record.get('id')} has no {wanted} (see `incidents show {record.get('id')}`)"
    )
