"""Reading a cache file under .git/incidents-cache: a regular file of bounded size, or nothing.

Every cache is only ever a miss when it is wrong: a symlink (to /dev/zero, say, which would
be read for ever), a FIFO (which would block), a device or a file larger than any cache
makes is refused here without being followed or read, and the caller treats the OSError as
an empty cache.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Any

MAX_CACHE_FILE = 1 << 30
"""No cache file the tool writes comes near this (100,000 incidents: tens of MB)."""


def enabled() -> bool:
    """INCIDENTS_NO_CACHE=1 turns the cache off (every file is parsed afresh)."""
    return os.environ.get("INCIDENTS_NO_CACHE", "") in ("", "0")


def read_cache_bytes(path: Path) -> bytes:
    """The bytes of the cache file ``path``; OSError if it is missing or not a regular file
    of at most MAX_CACHE_FILE bytes (never followed if it is a symlink)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    descriptor = os.open(path, flags)
    try:
        found = os.fstat(descriptor)
        if not stat.S_ISREG(found.st_mode) or found.st_size > MAX_CACHE_FILE:
            raise OSError(errno.EINVAL, "not a cache file", str(path))
        chunks = []
        while chunk := os.read(descriptor, 1 << 20):
            chunks.append(chunk)
            if sum(map(len, chunks)) > MAX_CACHE_FILE:  # grown since: still bounded
                raise OSError(errno.EFBIG, "cache file too large", str(path))
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def read_cache_text(path: Path) -> str:
    """``read_cache_bytes`` as UTF-8 text (a ValueError if it is not)."""
    return read_cache_bytes(path).decode("utf-8")


def read_cache_mapping(path: Path) -> dict[str, Any]:
    """The JSON object a cache file holds; a missing, damaged or foreign file (not an
    object) is an empty cache."""
    import json

    from incidents_cli.store.parallel import bulk

    try:
        text = read_cache_text(path)
        with bulk():  # thousands of small objects: no collection while they are made
            loaded = json.loads(text)
    except (OSError, ValueError, RecursionError):
        return {}
    return loaded if isinstance(loaded, dict) else {}
