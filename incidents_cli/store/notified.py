"""What each notify channel was told, remembered in git: refs/incidents/notified/<channel>.

Each channel's ref points at a small commit of its own (never on a branch) whose tree holds
one file, ``state.json``: the last commit of the repository that the channel was fully told
about, the keys of the messages sent since then (and of the clock's reminders, which no
commit marks), and, for mail, who already has a message that did not reach everyone yet (a
recipient the server refused must not cost the others a second copy). Each new state commit
has the previous one as parent, so pushing it is a fast-forward, and the state travels
through the remote to the next CI run's fresh clone.

Why a ref and not a committed file: notify must not add commits to the branch people and
the publish workflow push to; a ref of its own never conflicts with them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
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
    recipients: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Key of a message not yet sent to everyone -> the recipients who have it."""
    ref_commit: str | None = field(default=None, compare=False)
    """The state commit this was read from (the parent of the next one)."""

    def to_json(self, channel: str) -> str:
        data = {
            "version": STATE_VERSION,
            "channel": channel,
            "commit": self.commit,
            "sent": sorted(set(self.sent)),
            "recipients": {key: sorted(who) for key, who in sorted(self.recipients.items())},
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
    raw = repo.file_bytes_at(commit, STATE_FILE)
    if raw is None:
        return None
    try:
        data: Any = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past any state
        return None
    if not isinstance(data, dict):
        return None
    last = data.get("commit")
    sent = data.get("sent")
    partial = data.get("recipients")
    return ChannelState(
        commit=last if isinstance(last, str) else None,
        sent=tuple(str(k) for k in sent) if isinstance(sent, list) else (),
        recipients={
            str(key): frozenset(str(a) for a in who)
            for key, who in (partial.items() if isinstance(partial, dict) else ())
            if isinstance(who, list)
        },
        ref_commit=commit,
    )


def write_state(repo: Repo, channel: str, state: ChannelState) -> str:
    """Record ``state`` as the channel's new state commit; returns that commit."""
    message = f"notify: state of channel {channel}\n"
    return repo.write_side_ref(
        ref_name(channel), {STATE_FILE: state.to_json(channel)}, message, state.ref_commit
    )
