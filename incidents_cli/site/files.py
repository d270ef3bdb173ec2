"""The files of a site as they are handed to the writer, and the one way each is written.

A file comes as its text (a str, or bytes already in UTF-8), or as the marker ``REUSED``
(unchanged since the site already in --out: linked or left in place, not rewritten). Every
path is checked to stay inside the site before anything is written to it. Paths are plain
strings ("/" works on every OS): 10,000 Path objects cost more than the writes.
"""

from __future__ import annotations

import os
from pathlib import Path

from incidents_cli.core.errors import RefusedError

MARKER = ".incidents-site"
"""The manifest of a site built by this tool: the key each reusable page was rendered for."""


class Reused:
    """A file taken unchanged from the site already in --out (linked, not rewritten)."""


REUSED = Reused()


SiteFile = tuple[str, "str | bytes | Reused"]
"""A file of the site: its path, and its text (or its text in UTF-8) or REUSED."""


def refuse_outside(rel: str) -> None:
    """A path of the site must stay inside it: relative, no `..`, no empty parts."""
    parts = rel.split("/")
    if rel.startswith("/") or "\\" in rel or any(p in ("", ".", "..") for p in parts):
        raise RefusedError(f"refusing to write {rel!r}: it would not be inside --out")


def write_text(base: str, rel: str, text: str | bytes, made: set[str]) -> str:
    """Write ``text`` to ``base/rel`` (its folder made unless ``made`` has it); the path."""
    refuse_outside(rel)
    target = f"{base}/{rel}"
    folder = target.rpartition("/")[0]
    if folder not in made:
        os.makedirs(folder, exist_ok=True)  # noqa: PTH103
        made.add(folder)
    # os.write rather than a text file object: 10,000 of them cost more than the writes
    data = memoryview(text.encode("utf-8") if isinstance(text, str) else text)
    descriptor = os.open(target, _FLAGS, 0o666)
    try:
        while data:
            data = data[os.write(descriptor, data) :]
    finally:
        os.close(descriptor)
    return target


_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)  # not inherited


def staging_folder(out: Path) -> Path:
    """A new folder beside ``out`` (resolved) to build a site in, before it takes the place
    of ``out``; named as no one else names a folder (one called .out.old is not ours)."""
    import tempfile

    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    except OSError as exc:  # no such folder, not a folder, no right to write there
        raise RefusedError(f"--out {out}: cannot write beside it: {exc.strerror}") from None
    umask = os.umask(0o022)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; a site is for a web server
    return staging


def files_of(folder: str, prefix: str = "") -> set[str] | None:
    """Every file under ``folder`` (relative paths, after ``prefix``); None if one is not a
    regular file or a folder (a symlink, say): nothing is ever written through one."""
    found: set[str] = set()
    with os.scandir(folder) as entries:
        for entry in entries:
            rel = f"{prefix}{entry.name}"
            if entry.is_dir(follow_symlinks=False):
                below = files_of(entry.path, f"{rel}/")
                if below is None:
                    return None
                found |= below
            elif entry.is_file(follow_symlinks=False):
                found.add(rel)
            else:
                return None
    return found
