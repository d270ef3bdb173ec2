"""What the command line's value types look up in the repository: the team's time zone and
id prefix (to read a typed time or id), and the ids, components, people and runbook slugs
that shell completion offers. Each look-up reads, and imports, as little as it can (shell
completion must answer fast): an id that names a file costs one stat, the open ids come from
one small file while the incidents folder is unchanged."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from incidents_cli.core.records import INCIDENTS_DIR, RUNBOOKS_DIR, incident_rel
from incidents_cli.store import open_ids

if TYPE_CHECKING:
    from incidents_cli.core.settings import Settings


def settings(root: Path | None) -> Settings:
    """The repository's settings (the defaults outside a repository)."""
    from incidents_cli.core.settings import Settings
    from incidents_cli.store.layout import load_settings

    return Settings() if root is None else load_settings(root)


def _names(folder: Path, suffixes: tuple[str, ...]) -> list[str]:
    try:
        with os.scandir(folder) as entries:
            return sorted(e.name for e in entries if e.name.endswith(suffixes))
    except OSError:
        return []


__all__ = ["incident_rel"]


def incident_exists(root: Path, incident_id: str) -> bool:
    return "/" not in incident_id and (root / INCIDENTS_DIR / f"{incident_id}.yaml").is_file()


def set_aside(root: Path, incident_id: str) -> bool:
    """Whether a transition killed while it wrote the record left it moved aside (see
    store/yamlio.py, replace_if_unchanged): the next transition, under the lock, puts it
    back, so its id is not unknown."""
    from incidents_cli.store.yamlio import ASIDE_SUFFIX

    name = f"{incident_id}.yaml"
    return "/" not in incident_id and any((root / INCIDENTS_DIR).glob(f".{name}.*{ASIDE_SUFFIX}"))


def incident_ids(root: Path) -> set[str]:
    """Every incident's id, from the file names."""
    return {n.rsplit(".", 1)[0] for n in _names(root / INCIDENTS_DIR, (".yaml", ".yml"))}


def open_incident_ids(root: Path) -> list[str]:
    """The ids of incidents that are not closed: from the small list kept for completion
    while the incidents folder is unchanged, else from the summary cache."""
    kept = open_ids.read(root)
    if kept is not None:
        return kept
    from incidents_cli.store.cache import incident_summaries

    before = open_ids.stamp(root)  # taken first: a change while reading makes it stale
    summaries, _ = incident_summaries(root)
    ids = (s.get("id") for s in summaries if s.get("phase") != "closed")
    found = sorted(i for i in ids if isinstance(i, str))
    open_ids.write(root, found, before)
    return found


def runbook_slugs(root: Path) -> list[str]:
    return [n[: -len(".md")] for n in _names(root / RUNBOOKS_DIR, (".md",))]
