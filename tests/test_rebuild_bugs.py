"""The rebuild from the state (site/state.py) falls back to a full build where it cannot
vouch for the state: silently for people, for what the state's own checks say (missing,
damaged, another build's) and for the file system's errors. A bug of the rebuild's own (a
TypeError, say) used to fall back the same silent way, seen only as lost speed; under
tests (INCIDENTS_RAISE_BUGS, tests/conftest.py) it now fails loudly. The bug is made by
replacing one step of the rebuild in this process (the real CLI through click's runner)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

import pytest

from incidents_cli.site import state

from .conftest import run_cli
from .test_rebuild_state import _inode, _update
from .test_site_update import _same_as_cold


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The demo repository, its site built twice: the state for a rebuild is kept."""
    demo = tmp_path / "demo"
    assert run_cli("demo", str(demo)).code == 0
    _same_as_cold(demo, demo / "_site", tmp_path / "cold", monkeypatch)
    return demo


def _bug(*_: Any) -> NoReturn:
    raise TypeError("a bug of the rebuild's own")


def _build(demo: Path) -> int:
    return run_cli("site", "build", "--out", str(demo / "_site"), cwd=demo).code


def test_a_bug_in_the_rebuild_fails_loudly_under_tests_and_is_a_full_build_for_people(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = demo / "_site"
    monkeypatch.setattr(state._Rebuild, "prepare", _bug)
    _update(demo, "found it")
    with pytest.raises(TypeError, match="a bug of the rebuild's own"):
        _build(demo)
    monkeypatch.delenv("INCIDENTS_RAISE_BUGS")  # as people run it
    before = _inode(out)
    assert _build(demo) == 0
    assert _inode(out) != before  # the full build


def test_a_bug_in_keeping_the_state_fails_loudly_under_tests_and_keeps_none_for_people(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full build (no state to start from) keeps the state of what it built."""
    monkeypatch.setattr(state, "_state", _bug)
    kept = demo / ".git" / "incidents-cache"
    _update(demo, "found it")
    state.forget(demo)
    with pytest.raises(TypeError, match="a bug of the rebuild's own"):
        _build(demo)
    monkeypatch.delenv("INCIDENTS_RAISE_BUGS")
    _update(demo, "found it again")
    assert _build(demo) == 0
    assert not list(kept.glob("site-s*.json"))
