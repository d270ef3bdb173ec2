"""The calendar's SEQUENCE numbers in a rebuild from the state (site/state.py): the state
keeps each maintenance record's commit count at its commit, and a rebuild asks git only
about the commits since; wherever those cannot simply be added (history rewritten, a merge
in between, a shallow clone, a damaged state) it counts the whole history as a cold build
does. Each step is compared with a cold build of the same commit, byte for byte."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from .conftest import run_cli
from .test_rebuild_state import _git, _inode, _state, _update
from .test_rebuild_state import demo as demo  # the fixture: the demo built, its state kept
from .test_site import commit_all
from .test_site_update import _edit, _same_as_cold

WINDOW = "maintenance/MNT-0002.yaml"


def _sequences(out: Path) -> dict[str, int]:
    """Each event's SEQUENCE in maintenance.ics, by its UID."""
    text = (out / "maintenance.ics").read_text(encoding="utf-8")
    events = re.findall(r"^UID:(\S+)\r?\n(?:.*\r?\n)*?SEQUENCE:(\d+)", text, re.M)
    return {uid.split("@")[0]: int(number) for uid, number in events}


def _changed_and_undone(repo: Path) -> None:
    """Two commits that change the window and change it back: no difference to HEAD's
    tree before them, but two more commits of its record."""
    _edit(repo / WINDOW, "Writes may", "Writes might")
    commit_all(repo, "window reworded")
    _git(repo, "revert", "--no-edit", "HEAD")


def test_a_window_changed_after_a_build_gets_the_sequence_a_cold_build_gives(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, cold = demo / "_site", tmp_path / "cold"
    assert _sequences(out)["maintenance-MNT-0002"] == 0
    _edit(demo / WINDOW, "during the", "during a")  # the full build: it changed
    commit_all(demo, "window reworded")
    _same_as_cold(demo, out, cold, monkeypatch)
    assert _sequences(out)["maintenance-MNT-0002"] == 1
    for rounds in (1, 2):  # then from the state: the commits since are added
        _changed_and_undone(demo)
        _update(demo, f"Round {rounds}")
        before = _inode(out)
        _same_as_cold(demo, out, cold, monkeypatch)
        assert _inode(out) == before  # rebuilt from the state
        assert _sequences(out)["maintenance-MNT-0002"] == 1 + 2 * rounds
        kept = json.loads(_state(demo).read_text(encoding="utf-8"))
        assert kept["counts"][WINDOW] == 2 + 2 * rounds
        assert kept["counted"] is True


def test_history_rewritten_after_a_build_is_counted_again_as_a_cold_build(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, cold = demo / "_site", tmp_path / "cold"
    _changed_and_undone(demo)
    _update(demo, "Kept for now")
    _same_as_cold(demo, out, cold, monkeypatch)
    assert _sequences(out)["maintenance-MNT-0002"] == 2
    _git(demo, "reset", "-q", "--hard", "HEAD~3")  # the state's commit is gone
    _update(demo, "Instead")
    _same_as_cold(demo, out, cold, monkeypatch)
    assert _sequences(out)["maintenance-MNT-0002"] == 0
    # rewritten under a state whose commit is still an ancestor of nothing: a rebase that
    # drops the two commits of the window's record
    _changed_and_undone(demo)
    _update(demo, "Again")
    _same_as_cold(demo, out, cold, monkeypatch)
    assert _sequences(out)["maintenance-MNT-0002"] == 2
    _git(demo, "rebase", "-q", "--onto", "HEAD~3", "HEAD~1")
    _update(demo, "After the rebase")
    _same_as_cold(demo, out, cold, monkeypatch)
    assert _sequences(out)["maintenance-MNT-0002"] == 0


def test_a_merge_since_the_state_counts_the_whole_history(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, cold = demo / "_site", tmp_path / "cold"
    _git(demo, "checkout", "-q", "-b", "side")
    _changed_and_undone(demo)
    _git(demo, "checkout", "-q", "-")
    _update(demo, "On main")
    _git(demo, "merge", "-q", "--no-ff", "--no-edit", "side")
    before = _inode(out)
    _same_as_cold(demo, out, cold, monkeypatch)
    assert _inode(out) == before  # still from the state; only the counts are asked in full
    # (the merge is the same as its first parent for the window's record, but every side
    # of it is walked, --full-history: the side branch's two commits count, in a cold
    # build as here)
    assert _sequences(out)["maintenance-MNT-0002"] == 2
    _changed_and_undone(demo)  # and added to again after it
    _update(demo, "After the merge")
    _same_as_cold(demo, out, cold, monkeypatch)
    assert _inode(out) == before
    assert _sequences(out)["maintenance-MNT-0002"] == 4


def test_in_a_shallow_clone_the_rebuild_counts_what_the_clone_holds_as_a_cold_build(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _changed_and_undone(demo)  # two commits of the window's record in the full history
    _update(demo, "Before the clone")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{demo}", str(clone)], check=True)
    for key, value in (("user.name", "Ana"), ("user.email", "ana@example.com")):
        _git(clone, "config", key, value)
    out, cold = clone / "_site", tmp_path / "cold"
    _same_as_cold(clone, out, cold, monkeypatch)
    _same_as_cold(clone, out, cold, monkeypatch)  # (the first into an empty folder keeps none)
    assert _sequences(out)["maintenance-MNT-0002"] == 0  # its one commit is the clone's first
    assert json.loads(_state(clone).read_text(encoding="utf-8"))["counted"] is False
    _changed_and_undone(clone)
    _update(clone, "In the clone")
    before = _inode(out)
    _same_as_cold(clone, out, cold, monkeypatch)
    assert _inode(out) == before
    assert _sequences(out)["maintenance-MNT-0002"] == 2
    _git(clone, "fetch", "-q", "--unshallow")  # the whole history: counted in full again
    _update(clone, "Unshallowed")
    _same_as_cold(clone, out, cold, monkeypatch)
    assert _inode(out) == before
    assert _sequences(out)["maintenance-MNT-0002"] == 4


def test_counts_missing_or_damaged_in_the_state_are_counted_again_or_a_full_build(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, cold = demo / "_site", tmp_path / "cold"
    _changed_and_undone(demo)
    _update(demo, "First")
    _same_as_cold(demo, out, cold, monkeypatch)
    state = _state(demo)
    kept = json.loads(state.read_text(encoding="utf-8"))
    assert kept["counts"][WINDOW] == 3
    # counts said to be of no use (as a shallow clone's): the whole history is counted
    state.write_text(json.dumps({**kept, "counts": {WINDOW: 40}, "counted": False}), "utf-8")
    _update(demo, "Second")
    before = _inode(out)
    _same_as_cold(demo, out, cold, monkeypatch)
    assert _inode(out) == before
    assert _sequences(out)["maintenance-MNT-0002"] == 2
    # what the rebuild takes from the state, it does not ask git again (as every cache)
    state = _state(demo)
    kept = json.loads(state.read_text(encoding="utf-8"))
    state.write_text(json.dumps({**kept, "counts": {WINDOW: 40}}), encoding="utf-8")
    _update(demo, "Third")
    assert run_cli("site", "build", "--out", str(out), cwd=demo).code == 0
    assert _sequences(out)["maintenance-MNT-0002"] == 39
    for damage in ({WINDOW: "3"}, [3], None):
        state = _state(demo)
        kept = json.loads(state.read_text(encoding="utf-8"))
        state.write_text(json.dumps({**kept, "counts": damage}), encoding="utf-8")
        _update(demo, f"Damaged {damage}")
        before = _inode(out)
        _same_as_cold(demo, out, cold, monkeypatch)
        assert _inode(out) != before  # the full build
        assert _sequences(out)["maintenance-MNT-0002"] == 2
