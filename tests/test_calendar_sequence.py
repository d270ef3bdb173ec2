"""The calendar's SEQUENCE counts the revisions of a maintenance record that changed what
is published of it (site/calendar.py revision_counts), not every commit of its file: a
YAML comment, a re-quoted value or keys in another order leave it as it was, so calendars
are not told of a change that is none. Each step is built from the state kept by the
last build (the commits since counted and added) and compared with a cold build of the
same commit, byte for byte: the same commit gives the same bytes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from .test_rebuild_sequences import WINDOW, _sequences
from .test_rebuild_state import _git, _inode, _state, _update
from .test_rebuild_state import demo as demo  # the fixture: the demo built, its state kept
from .test_site import commit_all
from .test_site_update import _edit, _same_as_cold


def _rebuilt_from_the_state(demo: Path, cold: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """Rebuild the demo's site after one more incident update (so that the rebuild starts
    from the state: the window's file is as the state's commit had it), check it against a
    cold build, and say the window's SEQUENCE."""
    out = demo / "_site"
    _update(demo, f"Still looking ({_git(demo, 'rev-parse', '--short', 'HEAD')})")
    before = _inode(out)
    _same_as_cold(demo, out, cold, monkeypatch)
    assert _inode(out) == before  # rebuilt from the state
    return _sequences(out)["maintenance-MNT-0002"]


def _and_back(demo: Path, change: Callable[[Path], None]) -> None:
    """Two commits of the window: ``change``, then the revert of it."""
    change(demo / WINDOW)
    commit_all(demo, "the window changed")
    _git(demo, "revert", "--no-edit", "HEAD")


def _commented(path: Path) -> None:
    path.write_text("# Reviewed with the DBA team.\n" + path.read_text(encoding="utf-8"))


def _quoted(path: Path) -> None:
    _edit(path, "title: Primary", "title: 'Primary")
    _edit(path, "PostgreSQL 17\n", "PostgreSQL 17'\n")  # the same title, quoted


def _reworded(path: Path) -> None:
    _edit(path, "Writes may", "Writes might")  # published: the calendar is told


def test_commits_that_change_nothing_published_of_a_window_leave_its_sequence(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cold = tmp_path / "cold"
    assert _sequences(demo / "_site")["maintenance-MNT-0002"] == 0
    _and_back(demo, _commented)
    assert _rebuilt_from_the_state(demo, cold, monkeypatch) == 0
    _and_back(demo, _quoted)
    assert _rebuilt_from_the_state(demo, cold, monkeypatch) == 0
    _and_back(demo, _reworded)  # told of the change, and told again when it is put back
    assert _rebuilt_from_the_state(demo, cold, monkeypatch) == 2
    kept = json.loads(_state(demo).read_text(encoding="utf-8"))
    assert kept["counts"][WINDOW] == 3 and kept["counted"] is True
    _commented(demo / WINDOW)  # a full build (the window's file changed): the same count
    commit_all(demo, "a comment")
    _same_as_cold(demo, demo / "_site", cold, monkeypatch)
    assert _sequences(demo / "_site")["maintenance-MNT-0002"] == 2


def test_a_cold_build_counts_only_the_published_changes_of_a_window(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = demo / WINDOW
    for number in range(3):  # comments only
        path.write_text(path.read_text(encoding="utf-8") + f"# checked {number}\n")
        commit_all(demo, f"checked {number}")
    _edit(path, "up to 2 minutes", "up to 3 minutes")
    commit_all(demo, "longer")
    _commented(path)
    commit_all(demo, "a comment")
    cold = tmp_path / "cold"
    _same_as_cold(demo, demo / "_site", cold, monkeypatch)
    assert _sequences(cold)["maintenance-MNT-0002"] == 1
    assert _sequences(cold)["maintenance-MNT-0001"] == 0
