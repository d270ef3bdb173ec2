"""A rebuild from the state the last build kept (site/state.py): the bytes of a cold build
after each change it handles, and the full build wherever it cannot vouch for the state."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import run_cli
from .test_site import all_files, commit_all
from .test_site_update import _edit, _same_as_cold


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True)
    return done.stdout


def _inode(out: Path) -> int:
    """history.html: written by every full build, left alone by a rebuild from the state."""
    return (out / "history.html").stat().st_ino


def _update(demo: Path, message: str) -> None:
    result = run_cli("update", "INC-0003", "--status", "identified", "--message", message, cwd=demo)
    assert result.code == 0, result.err


def _state(demo: Path) -> Path:
    (found,) = (demo / ".git" / "incidents-cache").glob("site-s*.json")
    return found


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    demo = tmp_path / "demo"
    assert run_cli("demo", str(demo)).code == 0
    _same_as_cold(demo, demo / "_site", tmp_path / "cold", monkeypatch)  # the state is kept
    return demo


def test_updates_in_a_row_then_a_revert_are_rebuilt_from_the_state_as_a_cold_build(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, cold = demo / "_site", tmp_path / "cold"
    for number in range(3):
        before = _inode(out)
        _update(demo, f"Update {number}")
        _same_as_cold(demo, out, cold, monkeypatch)
        assert _inode(out) == before  # from the state
    _git(demo, "revert", "--no-edit", "HEAD")
    before = _inode(out)
    _same_as_cold(demo, out, cold, monkeypatch)
    assert _inode(out) == before
    _edit(demo / "incidents/INC-0001.yaml", "title: ", "title: Retitled ")  # a resolved one
    commit_all(demo, "retitled")
    _same_as_cold(demo, out, cold, monkeypatch)
    assert _inode(out) == before
    _edit(demo / "postmortems/INC-0001.md", "failed for 55", "failed for fifty-five")
    commit_all(demo, "its postmortem's public summary")
    _same_as_cold(demo, out, cold, monkeypatch)
    assert _inode(out) == before
    assert b"fifty-five" in all_files(out)["incidents/INC-0001.html"]


def test_a_damaged_or_foreign_state_is_a_full_build_not_a_crash(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, cold = demo / "_site", tmp_path / "cold"
    state = _state(demo)
    kept = json.loads(state.read_text())
    forged = tmp_path / "forged"
    damages = [
        "{not json",
        "[]",
        json.dumps({**kept, "months": 3}),
        json.dumps({**kept, "commit": f"--output={forged}"}),  # never an option to git
        json.dumps({**kept, "findings": [["x", "1"]]}),
    ]
    for damage in damages:
        _update(demo, damage[:8])
        state.write_text(damage, encoding="utf-8")
        before = _inode(out)
        _same_as_cold(demo, out, cold, monkeypatch)
        assert _inode(out) != before  # the full build
        state = _state(demo)
    assert not forged.exists()
    # a part of it damaged: a month's incidents
    for month in state.parent.glob("site-s*-m-*.txt"):
        month.write_text(month.read_text(encoding="utf-8").replace("INC-", "INK-"), "utf-8")
    _update(demo, "month")
    before = _inode(out)
    _same_as_cold(demo, out, cold, monkeypatch)
    assert _inode(out) != before
    # a state of another build of the tool (another tool_key) is not read
    state = _state(demo)
    state.rename(state.with_name("site-s3-v0.0.0-00000000.json"))
    _update(demo, "foreign")
    before = _inode(out)
    _same_as_cold(demo, out, cold, monkeypatch)
    assert _inode(out) != before


def test_a_state_whose_commit_is_not_an_ancestor_of_head_is_a_full_build(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, cold = demo / "_site", tmp_path / "cold"
    _update(demo, "Soon undone")
    _same_as_cold(demo, out, cold, monkeypatch)  # the state names this commit
    _git(demo, "reset", "-q", "--hard", "HEAD~1")
    _update(demo, "Instead")
    before = _inode(out)
    _same_as_cold(demo, out, cold, monkeypatch)
    assert _inode(out) != before
    assert b"Soon undone" not in all_files(out)["incidents/INC-0003.html"]


def test_uncommitted_or_other_changes_are_a_full_build(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, cold = demo / "_site", tmp_path / "cold"
    steps = [
        lambda: _edit(
            demo / "incidents/INC-0003.yaml", "title: ", "title: Dirty "
        ),  # not committed
        lambda: commit_all(demo, "now committed"),
        lambda: (demo / "incidents/stray.yml").write_text("id: [\n", encoding="utf-8"),  # untracked
        lambda: (demo / "incidents/stray.yml").unlink(),
        lambda: _edit(demo / "incidents.yaml", "name: Public API", "name: The API"),
    ]
    for step in steps:
        step()
        _same_as_cold(demo, out, cold, monkeypatch)
    commit_all(demo, "settings")
    _same_as_cold(demo, out, cold, monkeypatch)
    before = _inode(out)
    _update(demo, "After the settings")
    _same_as_cold(demo, out, cold, monkeypatch)
    assert _inode(out) == before  # the full build kept a state again


def test_a_rebuild_the_next_day_moves_the_bars(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = demo / "_site"
    head = _git(demo, "log", "-1", "--format=%cI").strip()
    later = ("--as-of", head[:10] + "T23:59:00" + head[19:])
    for as_of in (later, ("--as-of", "2099-01-01T00:00:00Z")):
        before = _inode(out)
        assert run_cli("site", "build", "--out", str(out), *as_of, cwd=demo).code == 0
        assert _inode(out) == before
        monkeypatch.setenv("INCIDENTS_NO_CACHE", "1")
        cold = tmp_path / f"cold-{as_of[1][:4]}"
        assert run_cli("site", "build", "--out", str(cold), *as_of, cwd=demo).code == 0
        monkeypatch.delenv("INCIDENTS_NO_CACHE")
        assert all_files(out) == all_files(cold)
    # "now" earlier than the last build's: the full build
    before = _inode(out)
    assert run_cli("site", "build", "--out", str(out), *later, cwd=demo).code == 0
    assert _inode(out) != before


def test_feed_dates_are_written_as_email_utils_writes_them() -> None:
    from datetime import UTC, datetime, timedelta, timezone
    from email.utils import format_datetime

    from incidents_cli.site.contexts import rfc822

    moment = datetime(1999, 12, 31, 23, 59, 59, 999, tzinfo=UTC)
    for step in range(400):
        moment += timedelta(days=step, hours=step % 24, minutes=step, seconds=step * 7)
        assert rfc822(moment) == format_datetime(moment, usegmt=True)
    other = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(0)))
    assert rfc822(other) == format_datetime(other, usegmt=True)


def test_a_first_build_into_an_empty_folder_keeps_no_state_the_next_one_does(
    demo: Path, tmp_path: Path
) -> None:
    for state in (demo / ".git" / "incidents-cache").glob("site-s*.json"):
        state.unlink()
    fresh = tmp_path / "fresh"
    assert run_cli("site", "build", "--out", str(fresh), cwd=demo).code == 0
    assert not list((demo / ".git" / "incidents-cache").glob("site-s*.json"))  # CI's case
    assert run_cli("site", "build", "--out", str(fresh), cwd=demo).code == 0
    assert json.loads(_state(demo).read_text())["out"] == str(fresh.resolve())


def test_feeds_that_cannot_hold_every_incident_are_rebuilt_exactly(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from .test_site import _resolved, build, write

    as_of = ("--as-of", "2026-02-01T00:00:00Z")
    days = [f"2025-{10 + n // 28:02d}-{n % 28 + 1:02d}" for n in range(60)]
    for number, day in enumerate(days, start=1):
        write(repo, f"incidents/INC-{number:04d}.yaml", _resolved(number, day, f"Outage {number}"))
    commit_all(repo)
    out = build(repo, tmp_path / "site", *as_of)
    build(repo, out, *as_of)  # the second build keeps a state
    later = (
        "    message: Looking.\n  - at: {day}T10:30:00Z\n    status: monitoring\n"
        "    message: Better.\n"
    )
    steps = [
        (55, "    message: Looking.\n", later.format(day=days[54]), True),  # up in the feeds
        (55, later.format(day=days[54]), "    message: Looking.\n", False),  # down: full
        (3, "title: Outage 3\n", "title: Outage three\n", True),  # below the feeds' 50
    ]
    for number, old, new, from_state in steps:
        _edit(repo / f"incidents/INC-{number:04d}.yaml", old, new)
        commit_all(repo, f"INC-{number:04d}")
        before = _inode(out)
        build(repo, out, *as_of)
        assert (_inode(out) == before) is from_state
        monkeypatch.setenv("INCIDENTS_NO_CACHE", "1")
        cold = tmp_path / f"cold-{number}-{from_state}"
        build(repo, cold, *as_of)
        monkeypatch.delenv("INCIDENTS_NO_CACHE")
        assert all_files(out) == all_files(cold)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_page_edited_removed_or_added_by_hand_is_found_by_the_check_forked_or_not(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    # INCIDENTS_WORKERS=1: the check of --out runs in the command's process; else in a
    # process forked for it while the rebuild goes on (site/state.py _OutCheck)
    monkeypatch.setenv("INCIDENTS_WORKERS", workers)
    out, cold = demo / "_site", tmp_path / "cold"
    old_page = "incidents/INC-0001.html"  # resolved: a rebuild from the state keeps it
    changes = {
        "edited": lambda: (out / old_page).write_bytes(b"<p>edited by hand</p>"),
        "removed": lambda: (out / old_page).unlink(),
        "added": lambda: (out / "incidents" / "stray.html").write_bytes(b"stray"),
    }
    for number, (name, change) in enumerate(changes.items()):
        before = _inode(out)
        _update(demo, f"Update {number}")
        change()
        _same_as_cold(demo, out, cold, monkeypatch)
        assert _inode(out) != before, name  # the full build: history.html written anew
        _update(demo, f"Update {number} again")
        before = _inode(out)
        _same_as_cold(demo, out, cold, monkeypatch)
        assert _inode(out) == before, name  # and the next one from the state again


def test_an_incident_moved_out_of_or_into_the_90_days_redraws_the_bars_as_a_cold_build(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from .test_site import _resolved, write

    as_of = ("--as-of", "2026-02-01T00:00:00Z")  # the bars begin on 2025-11-04
    long_one = _resolved(1, "2025-10-01", "Long outage")
    write(repo, "incidents/INC-0001.yaml", long_one.replace("2025-10-01T11:00", "2025-11-20T11:00"))
    write(repo, "incidents/INC-0002.yaml", _resolved(2, "2026-01-10", "Short outage"))
    commit_all(repo)
    out, cold = tmp_path / "site", tmp_path / "cold"
    for _ in range(2):  # the second build keeps a state
        assert run_cli("site", "build", "--out", str(out), *as_of, cwd=repo).code == 0
    bars = "Long outage"  # in the label of each day of its bars, nowhere else on the page
    for resolved, shown in (("2025-10-02", False), ("2025-11-20", True)):
        before = _inode(out)
        write(
            repo,
            "incidents/INC-0001.yaml",
            long_one.replace("2025-10-01T11:00", f"{resolved}T11:00"),
        )
        commit_all(repo, f"resolved on {resolved}")
        assert run_cli("site", "build", "--out", str(out), *as_of, cwd=repo).code == 0
        assert _inode(out) == before  # from the state
        shutil.rmtree(cold, ignore_errors=True)
        monkeypatch.setenv("INCIDENTS_NO_CACHE", "1")
        assert run_cli("site", "build", "--out", str(cold), *as_of, cwd=repo).code == 0
        monkeypatch.delenv("INCIDENTS_NO_CACHE")
        assert all_files(out) == all_files(cold)
        assert (bars in (out / "index.html").read_text(encoding="utf-8")) == shown
