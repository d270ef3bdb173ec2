"""Nothing lost: a person saves a record by hand (in an editor) while a transition reads
and rewrites the same file. Their save lands at each moment the transition opens the file
(the installed console script, stopped there with SIGSTOP while the save is made, then let
go on): whatever the moment, the saved edit is never lost, nor committed as part of the
transition. It is in the file afterwards, and the command either refused (files, index
and branch as before, the edit left uncommitted) or made its one commit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from .console_helpers import IN_OPEN, Inotify
from .test_transition_attacks import KILL_INCIDENTS_THEN_REFUSE, hook
from .test_trust_git import INCIDENTS, git, head, ok, status

RECORD = "incidents/INC-0001.yaml"


def _save_by_hand(path: Path, text: str, title: str, how: str) -> None:
    """An editor's save of a new title into ``text`` (its buffer, read before): a new file
    renamed over the old one (vim, emacs), or the file truncated and written in place (VS
    Code, nano)."""
    lines = [f"title: {title}" if line.startswith("title:") else line for line in text.split("\n")]
    edited = "\n".join(lines)
    assert edited != text
    if how == "rename":
        swap = path.parent / f".{path.name}.swp"
        swap.write_text(edited, encoding="utf-8")
        swap.replace(path)
    else:
        with path.open("w", encoding="utf-8") as handle:
            handle.write(edited)


def _one_round(repo: Path, nth: int, title: str, how: str) -> bool:
    """Run `note` and save the record by hand at its ``nth`` opening of the file (of any
    process's); False when the command ended before that (the edit is then not made)."""
    path = repo / RECORD
    buffer = path.read_text(encoding="utf-8")  # the editor's, opened before
    opens = Inotify(path, IN_OPEN)
    command = subprocess.Popen(
        [INCIDENTS, "-C", str(repo), "note", "INC-0001", f"round {nth}", "--by", "bob"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen, edited = 0, False
    try:
        while seen < nth:
            got = opens.wait(until=command)
            if not got:
                break
            seen += got
        else:
            os.kill(command.pid, signal.SIGSTOP)
            try:
                opens.close()  # the save's own opening is not counted
                _save_by_hand(path, buffer, title, how)
                edited = True
            finally:
                os.kill(command.pid, signal.SIGCONT)
    finally:
        opens.close()
        _, err = command.communicate(timeout=60)
    return edited and _check(repo, title, command.returncode, err)


def _check(repo: Path, title: str, code: int, err: str) -> bool:
    text = (repo / RECORD).read_text(encoding="utf-8")
    assert f"title: {title}\n" in text, f"{title}: the hand edit was lost (exit {code}: {err})"
    assert git(repo, "diff", "--cached", "--name-only") == ""  # nothing left staged
    left = status(repo)  # (stripped: " M" reads "M")
    assert left in ("", f"M {RECORD}"), left  # no file left behind, nothing staged
    if code == 2:
        assert len(err.strip().splitlines()) == 1, err
    else:
        assert code == 0, err
    assert title not in git(repo, "show", f"HEAD:{RECORD}")  # never committed as ours
    return True


@pytest.mark.parametrize("how", ["rename", "in-place"])
def test_a_record_saved_by_hand_while_a_transition_writes_it_is_never_lost(
    repo: Path, how: str
) -> None:
    ok(repo, "declare", "Database unreachable", "--component", "api", "--by", "alice")
    rounds = 0
    for nth in range(1, 40):
        before = head(repo)
        if not _one_round(repo, nth, f"Edited by hand {nth}", how):
            break
        rounds += 1
        if head(repo) == before:  # refused: the edit is theirs to commit or undo
            git(repo, "checkout", "-q", "--", RECORD)
        else:
            assert git(repo, "rev-list", "--count", f"{before}..HEAD") == "1"
            git(repo, "checkout", "-q", "--", RECORD)  # the edit, kept after the commit
    assert rounds >= 3  # the command opens the record several times


def test_a_record_left_aside_by_a_killed_transition_is_put_back(repo: Path) -> None:
    """The compare-and-swap moves the record aside before it links the new one into place:
    a transition killed (SIGKILL) between the two leaves no record, only its old bytes in
    `.INC-0001.yaml.PID.NS.aside` (and the new ones in a .tmp). The next command's recovery
    puts the record back, as it puts back a half-done write."""
    ok(repo, "declare", "Database unreachable", "--component", "api", "--by", "alice")
    path = repo / RECORD
    original, before = path.read_bytes(), head(repo)
    pre_commit = hook(repo, "pre-commit", KILL_INCIDENTS_THEN_REFUSE)
    killed = subprocess.Popen(
        [INCIDENTS, "-C", str(repo), "note", "INC-0001", "lost", "--by", "bob"]
    )
    assert killed.wait(timeout=60) == -9
    pre_commit.unlink()
    # as the kill would leave it a moment earlier: the old record aside, the new in a .tmp
    (path.parent / f".{path.name}.{killed.pid}.2.tmp").write_bytes(path.read_bytes())
    (path.parent / f".{path.name}.{killed.pid}.1.aside").write_bytes(original)
    path.unlink()
    ok(repo, "note", "INC-0001", "after the crash", "--by", "bob")
    assert head(repo) != before and status(repo) == ""
    text = path.read_text(encoding="utf-8")
    assert "after the crash" in text and "lost" not in text


def test_a_record_saved_by_hand_while_git_commits_is_kept_when_the_commit_fails(
    repo: Path,
) -> None:
    """No commit made (a hook refuses): each file written is put back as it was, but only
    if it still holds what was written. One saved meanwhile (here from the pre-commit hook,
    the moment git commits) was overwritten with the old record; now it is left as saved,
    and the refusal says so, in its one line."""
    ok(repo, "declare", "Database unreachable", "--component", "api", "--by", "alice")
    before = head(repo)
    path = repo / RECORD
    edited = path.read_text(encoding="utf-8").replace("Database unreachable", "Saved by hand")
    script = repo.parent / "save.py"
    script.write_text(f"import pathlib\npathlib.Path({str(path)!r}).write_text({edited!r})\n")
    hook(repo, "pre-commit", f"#!/bin/sh\n{sys.executable} {script}\necho 'no' >&2\nexit 1\n")
    result = subprocess.run(
        [INCIDENTS, "-C", str(repo), "note", "INC-0001", "looking", "--by", "bob"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2, result.stderr
    said = result.stderr.strip().splitlines()[-1]
    assert said.endswith(
        f"but {RECORD} was changed while git committed (by a hook, or saved by hand) and is "
        f"left as changed (see `git diff -- {RECORD}`)"
    ), said
    assert path.read_text(encoding="utf-8") == edited
    assert head(repo) == before and status(repo) == f"M {RECORD}"
