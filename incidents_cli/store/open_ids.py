"""The ids of the open incidents, kept for shell completion, which must answer in well under
200 ms at 10,000 incidents: less than starting Python, importing click and asking git.

A small file in `.git/incidents-cache/` holds the ids with the modification time of the
incidents folder when they were read. Every write of an incident replaces its file (an atomic
rename), and git's checkouts and pulls create files anew, and either changes the folder's
time, so a matching time means the list is current. Otherwise the caller reads the summaries
(which run git) and stores the list again. No git call on the fast path: the git folder is
found by walking up from the repository, as git does.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from incidents_cli.core.records import INCIDENTS_DIR
from incidents_cli.store.cache_files import read_cache_text

_NAME = "open-ids.json"


def _git_dir(root: Path) -> Path | None:
    if os.environ.get("INCIDENTS_NO_CACHE", "") not in ("", "0"):  # every cache off
        return None
    for folder in (root, *root.parents):
        dot_git = folder / ".git"
        if dot_git.is_dir():
            return dot_git
        if dot_git.is_file():  # a worktree or submodule: "gitdir: PATH"
            text = dot_git.read_text(encoding="utf-8", errors="replace").strip()
            if text.startswith("gitdir:"):
                target = Path(text[len("gitdir:") :].strip())
                return target if target.is_absolute() else folder / target
            return None
    return None


def _stamp(root: Path) -> int | None:
    try:
        return (root / INCIDENTS_DIR).stat().st_mtime_ns
    except OSError:
        return None


def read(root: Path) -> list[str] | None:
    """The stored ids if the incidents folder has not changed since, else None."""
    git_dir = _git_dir(root)
    stamp = _stamp(root)
    if git_dir is None or stamp is None:
        return None
    try:
        data = json.loads(read_cache_text(git_dir / "incidents-cache" / _NAME))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("stamp") != stamp or data.get("root") != str(root):
        return None
    ids = data.get("ids")
    return [i for i in ids if isinstance(i, str)] if isinstance(ids, list) else None


def write(root: Path, ids: list[str], stamp: int | None) -> None:
    """Keep ``ids`` as read when the folder had ``stamp`` (taken before reading them)."""
    git_dir = _git_dir(root)
    if git_dir is None or stamp is None:
        return
    folder = git_dir / "incidents-cache"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f"{_NAME}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps({"root": str(root), "stamp": stamp, "ids": ids}), "utf-8")
        tmp.replace(folder / _NAME)
    except OSError:
        pass  # a cache that cannot be written is only slower, never wrong


def stamp(root: Path) -> int | None:
    return _stamp(root)
