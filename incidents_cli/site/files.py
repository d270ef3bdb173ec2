"""The files of a site as they are handed to the writer, and the one way each is written.

A file comes as its text (a str, or bytes already in UTF-8), or as the marker ``REUSED``
(unchanged since the site already in --out: linked or left in place, not rewritten). Every
path is checked to stay inside the site before anything is written to it. Paths are plain
strings ("/" works on every OS): 10,000 Path objects cost more than the writes.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
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


STAGING = "building"
"""The staging folders of builds into --out are named ``.NAME.building-PID-*`` beside it."""
CLOCK = "clock"
"""``.NAME.clock-PID-*`` beside --out: a file made only to read the file system's clock
(state.py ``_fs_now``), removed at once; one left by a killed build is removed by the next."""


def staging_folder(out: Path) -> Path:
    """A new folder beside ``out`` (resolved) to build a site in, before it takes the place
    of ``out``; named as no one else names a folder (one called .out.old is not ours), with
    this process's id, so that a later build can remove it if this one is killed."""
    import tempfile

    remove_stale_staging(out)
    try:
        staging = Path(
            tempfile.mkdtemp(prefix=f".{out.name}.{STAGING}-{os.getpid()}-", dir=out.parent)
        )
    except OSError as exc:  # no such folder, not a folder, no right to write there
        raise RefusedError(f"--out {out}: cannot write beside it: {exc.strerror}") from None
    umask = os.umask(0o022)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; a site is for a web server
    return staging


TRASH = "trash"
"""``trash-PID-*`` in the cache folder (under the git folder, never in the work tree): a
rebuild's staging folder once its files are in place, holding the files they replaced (hard
links), so that freeing their blocks (slow on a disk mounted with ``discard``) is left to
the next build, in a thread while it renders (state.py ``_emptying``)."""


def to_trash(staging: str, folder: Path) -> str:
    """``staging`` renamed into ``folder`` as a trash folder, where it can be (else, on
    another file system or without the right to write there, it is removed as ever, and
    "" is returned)."""
    name = TRASH + os.path.basename(staging).rpartition(STAGING)[2]  # noqa: PTH119  ("-PID-...")
    try:
        os.rename(staging, folder / name)  # noqa: PTH104
    except OSError:
        return ""
    return str(folder / name)


def same_device(out: Path, folder: Path) -> bool:
    """Whether the folder beside ``out`` and ``folder`` are on one file system (a trash
    folder there can take hard links of the files of ``out``)."""
    try:
        return out.parent.stat().st_dev == folder.stat().st_dev
    except OSError:
        return False


def trash_in(folder: Path) -> list[Path]:
    """The trash folders in ``folder`` now (each is named so only once its build has
    written its files, so none is still in use): real folders, never a symlink."""
    try:
        names = sorted(n for n in os.listdir(folder) if n.startswith(f"{TRASH}-"))  # noqa: PTH208
    except OSError:
        return []
    return [folder / n for n in names if not (folder / n).is_symlink() and (folder / n).is_dir()]


def empty_trash(found: list[Path]) -> None:
    """Remove these trash folders (``trash_in``), with what they hold."""
    import shutil

    for path in found:
        shutil.rmtree(path, ignore_errors=True)  # (never follows a symlink in it)


def remove_stale_staging(out: Path) -> None:
    """Remove the staging folders beside ``out`` of builds into it whose process is gone
    (killed while they wrote: SIGKILL, a power cut), and their clock probes (``CLOCK``).
    Only ours: a real folder (not a symlink) named ``.NAME.building-PID-*``, a regular
    file named ``.NAME.clock-PID-*``, and only where no process has that id."""
    import shutil

    staging, probe = f".{out.name}.{STAGING}-", f".{out.name}.{CLOCK}-"
    try:
        names = [n for n in os.listdir(out.parent) if n.startswith((staging, probe))]  # noqa: PTH208
    except OSError:
        return
    for name in names:
        folder = name.startswith(staging)
        pid = name[len(staging if folder else probe) :].partition("-")[0]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        path = out.parent / name
        if path.is_symlink():
            continue
        if folder and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif not folder and path.is_file():
            path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's: alive
    return True


DEEPEST = 200
"""Folders in --out nested deeper than this are not a site's (its own go two deep)."""


class NotASite(Exception):
    """A file under --out that is not a regular file or a folder (a symlink, say), or a
    folder nested over DEEPEST deep (``deep``): not what a site built by incidents holds."""

    def __init__(self, deep: bool) -> None:
        super().__init__("too deep" if deep else "not a regular file")
        self.deep = deep


def walk(folder: str) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """Every regular file under ``folder``, as (its relative path, its entry); NotASite for
    anything else. Walked without recursion, so no depth can crash it."""
    todo = [""]
    while todo:
        prefix = todo.pop()
        if prefix.count("/") > DEEPEST:
            raise NotASite(deep=True)
        with os.scandir(f"{folder}/{prefix}" if prefix else folder) as entries:
            for entry in entries:
                rel = f"{prefix}{entry.name}"
                if entry.is_dir(follow_symlinks=False):
                    todo.append(f"{rel}/")
                elif entry.is_file(follow_symlinks=False):
                    yield rel, entry
                else:
                    raise NotASite(deep=False)


def files_of(folder: str) -> set[str] | None:
    """Every file under ``folder`` (relative paths); None if one is not a regular file or a
    folder (a symlink, say): nothing is ever written through one. A folder nested over
    DEEPEST deep is refused."""
    try:
        return {rel for rel, _ in walk(folder)}
    except NotASite as found:
        if not found.deep:
            return None
        raise RefusedError(
            f"--out {folder}: it holds folders nested over {DEEPEST} deep, not a site "
            "built by incidents; remove them, then build again"
        ) from None


_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class Unsafe(OSError):
    """A folder of --out is a symlink (or not a folder) where a file is to be moved."""


class Folders:
    """The folders of a site, each opened relative to its parent's descriptor without ever
    following a symlink (O_NOFOLLOW on every part of the path, not only the last), so a
    folder swapped for a symlink while a build runs is never written through."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.fds: dict[str, int] = {}
        self.fds[""] = self._open(base, None)

    def _open(self, name: str, parent: int | None) -> int:
        try:
            return os.open(name, _FOLDER_FLAGS, dir_fd=parent)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise Unsafe(exc.errno, f"{self.base}: a folder in it is not a folder") from None
            raise

    def fd(self, folder: str, *, make: bool = False) -> int:
        """The descriptor of ``folder`` (relative; made if ``make`` and missing)."""
        known = self.fds.get(folder)
        if known is not None:
            return known
        parent, _, name = folder.rpartition("/")
        above = self.fd(parent, make=make)
        try:
            opened = self._open(name, above)
        except FileNotFoundError:
            if not make:
                raise
            with contextlib.suppress(FileExistsError):
                os.mkdir(name, 0o777, dir_fd=above)
            opened = self._open(name, above)
        self.fds[folder] = opened
        return opened

    def move_from(self, staging: Folders, rel: str, staged: str | None = None) -> None:
        """Rename ``rel`` from ``staging`` into place here, never through a symlink;
        ``staged``: its name at the top of ``staging`` (else it is at ``rel`` there)."""
        folder, _, name = rel.rpartition("/")
        source = staging.fd(folder) if staged is None else staging.fd("")
        os.replace(
            name if staged is None else staged,
            name,
            src_dir_fd=source,
            dst_dir_fd=self.fd(folder, make=True),
        )

    def keep_old(self, rel: str, into: Folders, name: str) -> bool:
        """Hard-link the file at ``rel`` here as ``name`` at the top of ``into`` (never
        following a symlink), so that replacing it frees no blocks; whether there was one."""
        folder, _, base = rel.rpartition("/")
        try:
            above = self.fd(folder)
            os.link(base, name, src_dir_fd=above, dst_dir_fd=into.fd(""), follow_symlinks=False)
        except Unsafe:
            raise
        except OSError:  # a new file (or folder); no hard links here: freed as before
            return False
        return True

    def changed(self, rel: str) -> tuple[int, int]:
        """The inode and change time of ``rel`` here (never a symlink followed)."""
        folder, _, name = rel.rpartition("/")
        found = os.stat(name, dir_fd=self.fd(folder), follow_symlinks=False)
        return found.st_ino, found.st_ctime_ns

    def close(self) -> None:
        for opened in self.fds.values():
            os.close(opened)
        self.fds.clear()

    def __enter__(self) -> Folders:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
