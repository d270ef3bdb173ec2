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
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from incidents_cli.core.errors import GitError
from incidents_cli.store import git as _git
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


class StateRepo(Repo):
    """Git plumbing for side refs (to be folded into store.git.Repo)."""

    # --- side refs: state kept in git, off every branch (notify) -------------------------

    def resolve(self, ref: str) -> str | None:
        """The commit ``ref`` points at, or None."""
        result = self.git("rev-parse", "--verify", "-q", f"{ref}^{{commit}}", check=False)
        return result.stdout.strip() or None

    def has_commit(self, commit: str) -> bool:
        result = self.git("cat-file", "-e", f"{commit}^{{commit}}", check=False)
        return result.returncode == 0

    def file_at(self, commit: str, path: str) -> str | None:
        """The text of ``path`` at ``commit``, or None if it has no such file."""
        result = self.git("cat-file", "blob", f"{commit}:{path}", check=False)
        return result.stdout if result.returncode == 0 else None

    def files_at(self, commit: str, folders: Sequence[str]) -> dict[str, bytes]:
        """Every file under ``folders`` at ``commit`` (one level deep), by path: two git
        calls whatever the number of files (ls-tree, then one cat-file --batch)."""
        listing = self.git("ls-tree", "-z", commit, "--", *(f"{f}/" for f in folders))
        entries = []
        for item in listing.stdout.split("\0"):
            if not item:
                continue
            meta, path = item.split("\t", 1)
            mode, kind, sha = meta.split()
            if kind == "blob" and mode in ("100644", "100755"):
                entries.append((path, sha))
        if not entries:
            return {}
        batch = subprocess.run(
            ["git", "cat-file", "--batch"],
            cwd=self.top,
            input="".join(f"{sha}\n" for _, sha in entries).encode(),
            capture_output=True,
            env=_git._ENV or _git._clean_env(),
            check=False,
        )
        if batch.returncode != 0:
            raise GitError(f"git cat-file failed: {batch.stderr.decode(errors='replace').strip()}")
        out: dict[str, bytes] = {}
        data = batch.stdout
        position = 0
        for path, _ in entries:
            end = data.index(b"\n", position)
            size = int(data[position:end].split()[2])
            out[path] = data[end + 1 : end + 1 + size]
            position = end + 1 + size + 1
        return out

    def write_side_ref(
        self, ref: str, files: dict[str, str], message: str, parent: str | None
    ) -> str:
        """A commit holding just ``files``, on top of ``parent``, stored under ``ref`` only if
        ``ref`` still points at ``parent`` (git update-ref's compare-and-swap). The work tree,
        the index and every branch are left alone. The identity is fixed: a machine wrote it."""
        entries = []
        for path, text in sorted(files.items()):
            blob = self.git_input(text, "hash-object", "-w", "--stdin").strip()
            entries.append(f"100644 blob {blob}\t{path}\n")
        tree = self.git_input("".join(entries), "mktree").strip()
        args = ["commit-tree", tree]
        if parent:
            args += ["-p", parent]
        commit = self.git_input(message, *args, identity=True).strip()
        self.git("update-ref", ref, commit, parent or "0" * 40)
        return commit

    def git_input(self, text: str, *args: str, identity: bool = False) -> str:
        env = dict(_git._ENV or _git._clean_env())
        if identity:
            for who in ("AUTHOR", "COMMITTER"):
                env[f"GIT_{who}_NAME"] = "incidents"
                env[f"GIT_{who}_EMAIL"] = "incidents@localhost"
        result = subprocess.run(
            ["git", *args],
            cwd=self.top,
            input=text,
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if result.returncode != 0:
            raise GitError(f"git {args[0]} failed: {result.stderr.strip()}")
        return result.stdout

    def default_remote(self) -> str | None:
        """The remote the current branch pushes to, else origin, else the only one."""
        branch = self.branch()
        if branch:
            remote = self.git("config", f"branch.{branch}.remote", check=False).stdout.strip()
            if remote and remote != ".":
                return remote
        remotes = self.git("remote", check=False).stdout.split()
        if "origin" in remotes:
            return "origin"
        return remotes[0] if len(remotes) == 1 else None

    def fetch_side_refs(self, remote: str, prefix: str) -> None:
        """Take the remote's refs under ``prefix`` as they are (the remote is the record)."""
        spec = f"+{prefix}*:{prefix}*"
        result = self.git("fetch", "--quiet", "--no-tags", remote, spec, check=False)
        if result.returncode != 0:
            detail = result.stderr.strip().splitlines()[-1:] or ["unknown error"]
            raise GitError(f"git fetch from {remote} failed: {detail[0]}")

    def push_side_refs(self, remote: str, refs: Sequence[str]) -> None:
        if not refs:
            return
        result = self.git(
            "push", "--porcelain", "--quiet", remote, *(f"{r}:{r}" for r in refs), check=False
        )
        if result.returncode != 0:
            text = (result.stdout + result.stderr).strip().splitlines()
            raise GitError(f"git push to {remote} failed: {text[-1] if text else 'unknown error'}")


def ref_name(channel: str) -> str:
    return REF_PREFIX + channel


def read_state(repo: StateRepo, channel: str) -> ChannelState | None:
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


def write_state(repo: StateRepo, channel: str, state: ChannelState) -> str:
    """Record ``state`` as the channel's new state commit; returns that commit."""
    message = f"notify: state of channel {channel}\n"
    return repo.write_side_ref(
        ref_name(channel), {STATE_FILE: state.to_json(channel)}, message, state.ref_commit
    )
