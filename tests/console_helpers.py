"""The installed console script run as a person runs it, and a file or folder watched with
inotify: for the tests that race with it, stop it or interrupt it at a chosen point."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import struct
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(sys.executable).with_name("incidents")


def person_env(**extra: str) -> dict[str, str]:
    """The environment of a subprocess, read now (conftest gives each test its own home),
    without the tests' INCIDENTS_RAISE_BUGS: a bug is exit 3 there, as for a person."""
    return {**{k: v for k, v in os.environ.items() if k != "INCIDENTS_RAISE_BUGS"}, **extra}


def run_script(
    repo: Path, *args: str, cwd: Path | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """``incidents -C repo ARGS`` through the console script, its output captured."""
    return subprocess.run(
        [str(SCRIPT), "-C", str(repo), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=person_env(**env),
        check=False,
        timeout=120,
    )


IN_OPEN = 0x20
ANY_EVENT = 0xFFF  # every inotify event of a file, or of a folder's files (open, write, move...)
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len (then len bytes of name)


class Inotify:
    """The events of one file or folder that ``mask`` selects, as the kernel's inotify
    tells them (whichever process caused them)."""

    def __init__(self, path: Path, mask: int) -> None:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        self.mask = mask
        self.fd = libc.inotify_init1(os.O_CLOEXEC | os.O_NONBLOCK)
        assert self.fd >= 0, os.strerror(ctypes.get_errno())
        watch = libc.inotify_add_watch(self.fd, os.fsencode(path), mask)
        assert watch >= 0, os.strerror(ctypes.get_errno())

    def wait(self, until: subprocess.Popen[str]) -> int:
        """How many events arrived at once (0 if ``until`` ended first)."""
        while until.poll() is None:
            if not select.select([self.fd], [], [], 0.01)[0]:
                continue
            try:
                data = os.read(self.fd, 4096)
            except BlockingIOError:
                continue
            count, at = 0, 0
            while at < len(data):
                _, mask, _, size = _EVENT.unpack_from(data, at)
                at += _EVENT.size + size
                count += bool(mask & self.mask)
            if count:
                return count
        return 0

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
