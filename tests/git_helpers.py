"""git as the tests run it on their own repositories: the command's output, and hooks."""

from __future__ import annotations

import subprocess
from pathlib import Path


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo``; its stripped stdout (a failure raises)."""
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()


def hook(repo: Path, name: str, body: str) -> None:
    """Install the shell hook ``name`` in ``repo``'s own .git/hooks."""
    path = repo / ".git" / "hooks" / name
    path.write_text(f"#!/bin/sh\n{body}", encoding="utf-8")
    path.chmod(0o755)


def their_commit_once(repo: Path, hook_name: str) -> None:
    """A person's commit of other.txt, made once from the hook ``hook_name`` (standing in for
    their `git commit` in another terminal at that moment): other.txt is committed first,
    then changed, so their commit has something to hold."""
    other = repo / "other.txt"
    other.write_text("a\n", encoding="utf-8")
    git(repo, "add", "other.txt")
    git(repo, "commit", "-q", "-m", "other")
    other.write_text("a\nb\n", encoding="utf-8")
    (repo / ".git" / "once").touch()
    hook(
        repo,
        hook_name,
        "[ -f .git/once ] || exit 0\nrm .git/once\n"
        "git -c core.hooksPath=/dev/null commit -q -m theirs -- other.txt\n",
    )
