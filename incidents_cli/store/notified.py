"""What each notify channel was told, remembered in git: refs/incidents/notified/<channel>.

Each channel's ref points at a small commit of its own (never on a branch) whose tree holds
one file, ``state.json``: the last commit of the repository that the channel was fully told
about, and the keys of the messages sent since then (and of the clock's reminders, which no
commit marks). Each new state commit has the previous one as parent, so pushing it is a
fast-forward, and the state travels through the remote to the next CI run's fresh clone.

Why a ref and not a committed file: notify must not add commits to the branch people and
the publish workflow push to; a ref of its own never conflicts with them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from incidents_cli.store.git import Repo

REF_PREFIX = "refs/incidents/notified/"
STATE_FILE = "state.json"
STATE_VERSION = 1


@dataclass(frozen=True)
class ChannelState:
    commit: str | None = None
    """The repository commit whose news the channel has had in full (None: never run)."""
    sent: tuple[str, ...] = ()
    """Keys sent since ``commit``, and the reminders' keys still current."""
    ref_commit: str | None = field(default=None, compare=False)
    """The state commit this was read from (the parent of the next one)."""

    def to_json(self, channel: str) -> str:
        data = {
            "version": STATE_VERSION,
            "channel": channel,
            "commit": self.commit,
            "sent": sorted(set(self.sent)),
        }
        return json.dumps(data, indent=2, sort_keys=True) + "\n"


def ref_name(channel: str) -> str:
    return REF_PREFIX + channel


def read_state(repo: Repo, channel: str) -> ChannelState | None:
    """The channel's state, or None if it never ran (or its state is unreadable)."""
    ref = ref_name(channel)
    commit = repo.resolve(ref)
    if commit is None:
        return None
    text = repo.file_at(commit, STATE_FILE)
    if text is None:
        return None
    try:
        data: Any = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    last = data.get("commit")
    sent = data.get("sent")
    return ChannelState(
        commit=last if isinstance(last, str) else None,
        sent=tuple(str(k) for k in sent) if isinstance(sent, list) else (),
        ref_commit=commit,
    )


def write_state(repo: Repo, channel: str, state: ChannelState) -> str:
    """Record ``state`` as the channel's new state commit; returns that commit."""
    message = f"notify: state of channel {channel}\n"
    return repo.write_side_ref(
        ref_name(channel), {STATE_FILE: state.to_json(channel)}, message, state.ref_commit
    )
