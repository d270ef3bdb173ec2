"""Updating a site already built in --out: only the pages that changed are written.

A rebuild after one commit renders a few pages and reuses thousands. Building a new folder
for the set would link every reused page into it and then delete the old folder, which on
a slow file system costs more than the rendering. Instead the rendered pages are written to
a staging folder first, so a build that fails (a template error, say) leaves the old site
whole; only once every page is rendered are they moved into place, one rename each (a
reader sees each file old or new, never half written), then the files the site no longer
has are removed, and the manifest of page keys is moved last.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from incidents_cli.core.errors import RefusedError
from incidents_cli.site.files import (
    Folders,
    Reused,
    SiteFile,
    Unsafe,
    files_of,
    refuse_outside,
    staging_folder,
    write_text,
)


def update_site(
    out: Path,
    files: Iterable[SiteFile],
    own: dict[str, str] | None = None,
    moved: dict[str, tuple[int, int]] | None = None,
) -> int | None:
    """Bring the site in ``out`` to ``files`` ((relative path, text or a marker), in order;
    for a path given twice, the last wins); the number of files. None, with ``files``
    untouched, where ``out`` holds a symlink or anything else but files and folders:
    nothing is ever written through one (the caller builds a new folder instead).
    ``own``: given, the digest of each file written is put in it (the first few); where
    there are too many, ``moved`` gets each one's inode and change time as it was moved
    into place (state.py ``_vouched``)."""
    present = files_of(str(out))
    if present is None:
        return None

    from incidents_cli.store.lock import signals_held

    staging = staging_folder(out)
    try:
        final = _stage(str(staging), files, {} if own is None else own)
        into = str(out)
        # Signals wait until every file is in place (a site half old, half new is never
        # left); each is moved through descriptors of its folders, never a symlink.
        with signals_held() as held, Folders(into) as place, Folders(str(staging)) as source:
            track = moved is not None and own is not None and "" in own
            for rel, written in final.items():
                if written:
                    place.move_from(source, rel)
                    if track:
                        assert moved is not None
                        moved[rel] = place.changed(rel)
            gone = present - final.keys()
            for rel in gone:
                folder, _, name = rel.rpartition("/")
                os.unlink(name, dir_fd=place.fd(folder))
            _remove_emptied(place, gone)
    except Unsafe:
        raise RefusedError(
            f"--out {out}: a folder in it became a symlink while the site was built; "
            "nothing is written through one: remove it, then build again"
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if held.signal is not None:
        from incidents_cli.site.state import _die_of

        _die_of(held.signal)
    return len(final)


def _remove_emptied(base: Folders, gone: Iterable[str]) -> None:
    """The folders under ``base`` that held ``gone`` and hold nothing now (all of an
    incidents/ folder's pages removed, say): a cold build does not make them."""
    folders: set[str] = set()
    for rel in gone:
        while "/" in rel:
            rel = rel.rpartition("/")[0]
            folders.add(rel)
    for folder in sorted(folders, key=lambda f: f.count("/"), reverse=True):  # deepest first
        with contextlib.suppress(OSError):  # not empty: kept
            above, _, name = folder.rpartition("/")
            os.rmdir(name, dir_fd=base.fd(above))


def _stage(base: str, files: Iterable[SiteFile], own: dict[str, str]) -> dict[str, bool]:
    """Write the new files under ``base``; every path of the site, in order, and whether it
    was written (else it is reused from the site in place). Into ``own``, the digests of
    the files written, or "" where there are more than state.OWN_MOST of them."""
    from incidents_cli.site.state import OWN_MOST

    made: set[str] = set()
    final: dict[str, bool] = {}
    for rel, content in files:
        refuse_outside(rel)
        if isinstance(content, Reused):
            if final.get(rel):
                os.unlink(f"{base}/{rel}")  # noqa: PTH108
            final.pop(rel, None)
            final[rel] = False
            own.pop(rel, None)
            continue
        write_text(base, rel, content, made)
        final.pop(rel, None)  # moved last if it comes last (the manifest)
        final[rel] = True
        _own(own, rel, content, OWN_MOST)
    return final


def _own(own: dict[str, str], rel: str, content: str | bytes, most: int) -> None:
    """The digest of ``content`` kept for ``rel``, unless ``own`` holds ``most`` already
    (then "" is put in it: too many to keep)."""
    import hashlib

    if "" in own:
        return
    if len(own) >= most:
        own[""] = ""
        return
    data = content.encode("utf-8") if isinstance(content, str) else content
    own[rel] = hashlib.sha256(data).hexdigest()
