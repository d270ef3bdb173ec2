"""One transition at a time per work tree: a lock file under the git directory.

A transition takes the lock before it reads its record and holds it until its commit (and
push) is done, so two commands on one clone never start from the same record and never race
for git's index. It is an advisory lock (``flock``): the kernel drops it when its holder
ends, even by SIGKILL, so a dead command never blocks the next one. The file also carries a
journal of the files a transition is about to write, which lets the next holder undo the
half-done work of a holder that was killed between writing and committing.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import math
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any, NamedTuple

from incidents_cli.core.errors import RefusedError

LOCK_FILE = "incidents.lock"
WAIT_SECONDS = 60.0  # a transition takes well under a second; a push may take a few
WAIT_ENV = "INCIDENTS_LOCK_WAIT"
_POLL = 0.05


def wait_from_env() -> float:
    """How long to wait for the lock: ``INCIDENTS_LOCK_WAIT`` seconds (unset or empty: the
    default); anything but a finite number of 0 or more is refused, naming the variable."""
    text = os.environ.get(WAIT_ENV, "").strip()
    if not text:
        return WAIT_SECONDS
    try:
        wait = float(text)
    except ValueError:
        wait = math.nan
    if not math.isfinite(wait) or wait < 0:
        raise RefusedError(
            f"{WAIT_ENV}={text!r}: not a number of seconds to wait for the lock "
            f"(0 or more; unset: {WAIT_SECONDS:g})"
        )
    return wait


class JournalEntry(NamedTuple):  # not a dataclass: it costs a transition 0.5 ms to make
    """One file a transition is writing: its git path, and the blob id of the text it
    writes (the file is put back only if it still holds exactly that)."""

    git_path: str
    new_blob: str | None  # None: the file is being removed


class RepositoryLock:
    """The lock of one git directory; use ``with RepositoryLock(...).held():``."""

    def __init__(self, git_dir: Path, command: str) -> None:
        self.path = git_dir / LOCK_FILE
        self.command = command
        self._fd: int | None = None

    def acquire(
        self, wait: float | None = None, on_wait: Callable[[str], None] | None = None
    ) -> dict[str, Any]:
        """Take the lock, waiting at most ``wait`` seconds; what the previous holder left in
        the file (its journal, if it died while writing)."""
        if wait is None:
            wait = wait_from_env()
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as exc:
            if exc.errno == errno.EROFS:
                raise RefusedError(
                    f"the repository is on a read-only file system (cannot create {self.path})"
                ) from None
            raise RefusedError(f"cannot open the lock {self.path}: {exc.strerror}") from None
        started = time.monotonic()
        deadline = started + wait
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                pass
            except OSError as exc:  # a file system without locks (some network ones)
                os.close(fd)
                raise RefusedError(f"cannot lock {self.path}: {exc.strerror}") from None
            if time.monotonic() >= deadline:
                holder = self._describe(fd)
                os.close(fd)
                raise RefusedError(
                    f"another incidents command holds {self.path} ({holder}) and did not "
                    f"finish within {wait:g}s; try again when it is done"
                )
            if not told and on_wait is not None and time.monotonic() > started + 1:
                on_wait(f"waiting for another incidents command ({self._describe(fd)})")
                told = True
            time.sleep(_POLL)
        self._fd = fd
        left = self._read()
        self._write(
            {
                "pid": os.getpid(),
                "host": _host(),
                "command": self.command,
                "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
        )
        return left

    def journal(self, entries: list[JournalEntry]) -> None:
        """Say which files are being written, before writing them."""
        holder = self._read()
        holder["writes"] = [e._asdict() for e in entries]
        # no fsync: the journal is for a holder that dies (the kernel keeps the file), and
        # git does not fsync the commit either (core.fsync)
        self._write(holder)

    def clear_journal(self) -> None:
        holder = self._read()
        if holder.pop("writes", None) is not None:
            self._write(holder)

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        os.close(self._fd)  # closing drops the flock
        self._fd = None

    @contextlib.contextmanager
    def held(
        self, wait: float | None = None, on_wait: Callable[[str], None] | None = None
    ) -> Iterator[dict[str, Any]]:
        left = self.acquire(wait, on_wait)
        try:
            yield left
        finally:
            self.release()

    # --- the file's content: one JSON object ------------------------------------------

    def _read(self) -> dict[str, Any]:
        assert self._fd is not None
        return _parse(os.pread(self._fd, 1 << 20, 0))

    def _write(self, data: dict[str, Any]) -> None:
        assert self._fd is not None
        raw = json.dumps(data, sort_keys=True).encode("utf-8") + b"\n"
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, raw, 0)

    @staticmethod
    def _describe(fd: int) -> str:
        holder = _parse(os.pread(fd, 1 << 20, 0))
        if not holder.get("pid"):
            return "starting"
        host = holder.get("host")
        where = f" on {host}" if host and host != _host() else ""
        return (
            f"pid {holder.get('pid')}{where}, `incidents {holder.get('command', '?')}` "
            f"since {holder.get('since', '?')}"
        )


def _host() -> str:
    """This machine's name (what socket.gethostname says, without importing socket)."""
    return os.uname().nodename


def _parse(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (UnicodeDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class Deferred:
    """Which signal arrived while signals were held, if any."""

    def __init__(self) -> None:
        self.signal: int | None = None


_HELD = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_holding: Deferred | None = None  # the outermost block's, while signals are held


def signals_are_held() -> bool:
    return _holding is not None


@contextlib.contextmanager
def signals_held() -> Iterator[Deferred]:
    """Hold Ctrl-C, SIGTERM and SIGHUP until the block ends (a commit and its bookkeeping
    must not be cut in half); the caller decides what the held signal means afterwards.
    Inside a block that holds them already (a commit's repair inside a transaction's
    commit), the outer block's Deferred: the outer caller hears of what was held."""
    global _holding
    if _holding is not None:
        yield _holding
        return
    deferred = Deferred()
    if threading.current_thread() is not threading.main_thread():
        yield deferred
        return

    def hold(signum: int, frame: FrameType | None) -> None:
        deferred.signal = deferred.signal or signum

    previous = {sig: signal.signal(sig, hold) for sig in _HELD}
    _holding = deferred
    try:
        yield deferred
    finally:
        _holding = None
        for sig, handler in previous.items():
            signal.signal(sig, handler)
