"""Who is telling a notify channel right now: refs/incidents/notify-claims/<channel> on the remote.

Two notify runs on two clones of one remote (a person's and CI's, or two CI jobs) both read
the channel's state before either pushes, so both would tell everything. Before a run sends
anything to a channel it claims the channel on the remote: it pushes a small commit naming
itself (host, pid, start, expiry) to the channel's claim ref with compare-and-swap
(``--force-with-lease``: the ref must not exist, or must still be the stale claim it takes
over). Exactly one run wins; the other skips the channel. The winner deletes the claim (again
leased on its own claim) in the same atomic push as the channel's new state.

A claim past its expiry is taken over (its run crashed or was killed); so is one from this
host whose process is gone (a killed run on the same machine need not wait the expiry).
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from incidents_cli.core.errors import RefusedError
from incidents_cli.store.git import Repo

CLAIM_PREFIX = "refs/incidents/notify-claims/"
CLAIM_FILE = "claim.json"
SEEN_PREFIX = "refs/incidents/notify-claims-seen/"
"""Where the remote's claim is fetched to, to be read (never pushed; deleted once read)."""
CLAIM_SECONDS = 600.0
"""How long a claim holds without its run renewing it (a checkpoint push renews it)."""


@dataclass(frozen=True)
class Claim:
    host: str
    pid: int
    started: str
    expires: float
    """Seconds since the epoch."""
    commit: str = ""
    """The claim commit (what a takeover or a release leases on)."""

    def describe(self) -> str:
        started = self.started or "?"
        return f"pid {self.pid} on {self.host or '?'} since {started}"

    def dead(self, now: float) -> str | None:
        """Why this claim may be taken over, or None while it holds."""
        if now >= self.expires:
            return "its claim expired"
        if self.host == _host() and self.pid > 0 and not _alive(self.pid):
            return "that process is gone"
        return None


def claim_ref(channel: str) -> str:
    return CLAIM_PREFIX + channel


def _host() -> str:
    return os.uname().nodename


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _now_text() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Claimer:
    """This run's claims on one remote."""

    def __init__(self, repo: Repo, remote: str, seconds: float = CLAIM_SECONDS) -> None:
        self.repo = repo
        self.remote = remote
        self.seconds = seconds
        self.started = _now_text()
        self.held: dict[str, Claim] = {}

    def _commit(self, channel: str, parent: str | None) -> Claim:
        expires = time.time() + self.seconds
        data = {
            "channel": channel,
            "host": _host(),
            "pid": os.getpid(),
            "started": self.started,
            "expires": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires)),
            "expires_epoch": expires,
        }
        text = json.dumps(data, indent=2, sort_keys=True) + "\n"
        message = f"notify: pid {os.getpid()} on {_host()} is telling channel {channel}\n"
        commit = self.repo.commit_files({CLAIM_FILE: text}, message, parent)
        return Claim(_host(), os.getpid(), self.started, expires, commit)

    def take(self, channel: str) -> tuple[bool, str | None]:
        """Claim ``channel``: (True, None) won; (True, note) won by taking over a dead
        claim; (False, why) another run holds it."""
        ref = claim_ref(channel)
        mine = self._commit(channel, None)
        if self.repo.push_leased(self.remote, [(mine.commit, ref, "")]):
            self.held[channel] = mine
            return True, None
        other = self._read(channel)
        if other is None:  # released between our push and our fetch: try once more
            if self.repo.push_leased(self.remote, [(mine.commit, ref, "")]):
                self.held[channel] = mine
                return True, None
            return False, "another notify run claimed it at the same moment"
        why = other.dead(time.time())
        if why is None:
            return False, f"another notify run is telling it ({other.describe()})"
        mine = self._commit(channel, other.commit)
        if self.repo.push_leased(self.remote, [(mine.commit, ref, other.commit)]):
            self.held[channel] = mine
            return True, f"took over the claim of {other.describe()}: {why}"
        return False, "another notify run took over its stale claim first"

    def renewal(self, channel: str) -> tuple[str, str, str | None] | None:
        """The push that renews our claim when half its time is gone (to go with a
        checkpoint push), or None."""
        held = self.held.get(channel)
        if held is None or held.expires - time.time() > self.seconds / 2:
            return None
        fresh = self._commit(channel, held.commit)
        return (fresh.commit, claim_ref(channel), held.commit)

    def renewed(self, channel: str, update: tuple[str, str, str | None]) -> None:
        held = self.held[channel]
        self.held[channel] = Claim(
            held.host, held.pid, held.started, time.time() + self.seconds, update[0]
        )

    def release(self, channel: str) -> tuple[str, str, str | None] | None:
        """The push that deletes our claim (leased on it), or None if we hold none."""
        held = self.held.get(channel)
        return ("", claim_ref(channel), held.commit) if held is not None else None

    def released(self, channel: str) -> None:
        self.held.pop(channel, None)

    def _read(self, channel: str) -> Claim | None:
        """The remote's claim on ``channel`` as it is now, or None if there is none."""
        ref = claim_ref(channel)
        seen = SEEN_PREFIX + channel
        fetched = self.repo.git(
            "fetch", "--quiet", "--no-tags", self.remote, f"+{ref}:{seen}", check=False
        )
        sha = self.repo.resolve(seen) if fetched.returncode == 0 else None
        if sha is None:
            return None
        raw = self.repo.file_bytes_at(sha, CLAIM_FILE)
        self.repo.git("update-ref", "-d", seen, check=False)  # read: the ref is not needed
        data: Any = None
        try:
            data = json.loads(raw) if raw is not None else None
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past any claim
            data = None
        if not isinstance(data, dict):  # unreadable: treat as expired, so it cannot block
            return Claim("", 0, "", 0.0, sha)
        expires = data.get("expires_epoch")
        pid = data.get("pid")
        return Claim(
            str(data.get("host", "")),
            pid if isinstance(pid, int) else 0,
            str(data.get("started", "")),
            _expiry(expires),
            sha,
        )


def _expiry(value: Any) -> float:
    """A claim's expiry as written; one that is not a finite time, or that lies further
    ahead than any claim is made for (a damaged or foreign claim), is already expired, so
    it cannot block a channel for ever."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0.0
    try:
        expires = float(value)
    except OverflowError:  # an integer past any float
        return 0.0
    if not math.isfinite(expires) or expires > time.time() + 2 * CLAIM_SECONDS:
        return 0.0
    return expires


LOCAL_LOCK = "incidents-notify.lock"


class LocalClaim:
    """One notify run at a time on one clone (its refs are shared): an advisory lock
    (``flock``) under the git directory, dropped by the kernel when its holder ends, even by
    SIGKILL. Not the transitions' lock: a long notify run must not hold up `incidents ack`."""

    def __init__(self, git_dir: Path) -> None:
        self.path = git_dir / LOCAL_LOCK
        self._fd: int | None = None

    def take(self) -> str | None:
        """None if taken; else who holds it."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as exc:  # read-only .git, or the lock file is a symlink
            raise RefusedError(f"{self.path}: cannot take notify's lock: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "starting"
            os.close(fd)
            return holder
        except OSError as exc:  # a file system without locks: not "someone else holds it"
            os.close(fd)
            raise RefusedError(f"{self.path}: cannot take notify's lock: {exc.strerror}") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {_now_text()}\n".encode(), 0)
        self._fd = fd
        return None

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing drops the flock
            self._fd = None
