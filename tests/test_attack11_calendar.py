"""Attack round 11 on trust7's calendar SEQUENCE (site/calendar.py revision_counts): the
public view it compares is the windows expanded in UTC, the calendar's in the site's zone."""

from __future__ import annotations

import re
from pathlib import Path

from .conftest import run_cli
from .test_site import commit_all

# Weekly at 02:00 in Berlin, from before the clocks go forward (2027-03-28): the occurrence
# of 1 April is at 00:00 UTC in Berlin's series, 01:00 UTC in a series expanded in UTC.
RECORD = """\
id: MNT-0003
title: Weekly database maintenance
start: '2027-03-04T01:00:00Z'
end: '2027-03-04T02:00:00Z'
components:
  - database
message: Writes may pause.
recurrence: FREQ=WEEKLY;COUNT=6
"""
APRIL_FIRST = "maintenance-MNT-0003-20270401"


def _event(out: Path, uid: str) -> tuple[str, int]:
    """The STATUS and SEQUENCE of one event of maintenance.ics."""
    text = (out / "maintenance.ics").read_text(encoding="utf-8").replace("\r\n", "\n")
    for block in text.split("BEGIN:VEVENT")[1:]:
        if re.search(rf"^UID:{re.escape(uid)}@", block, re.M):
            status = re.search(r"^STATUS:(\S+)", block, re.M)
            sequence = re.search(r"^SEQUENCE:(\d+)", block, re.M)
            assert status and sequence, block
            return status.group(1), int(sequence.group(1))
    raise AssertionError(f"no event {uid} in {text}")


def test_calling_off_one_occurrence_after_a_clock_change_raises_its_sequence(
    tmp_path: Path,
) -> None:
    demo = tmp_path / "demo"
    assert run_cli("demo", str(demo)).code == 0
    settings = demo / "incidents.yaml"
    text = settings.read_text(encoding="utf-8")
    assert "timezone: UTC" in text
    settings.write_text(text.replace("timezone: UTC", "timezone: Europe/Berlin"), "utf-8")
    (demo / "maintenance" / "MNT-0003.yaml").write_text(RECORD, encoding="utf-8")
    commit_all(demo, "a weekly window, the site in Berlin's time")
    as_of = ("--as-of", "2026-12-01T00:00:00Z")
    assert run_cli("site", "build", *as_of, cwd=demo).code == 0, "first build"
    before = _event(demo / "_site", APRIL_FIRST)
    assert before[0] == "CONFIRMED"

    with (demo / "maintenance" / "MNT-0003.yaml").open("a", encoding="utf-8") as record:
        record.write("cancelled_occurrences:\n  - '2027-04-01T00:00:00Z'\n")
    commit_all(demo, "1 April called off")
    assert run_cli("validate", cwd=demo).code == 0
    cold = tmp_path / "cold"
    assert run_cli("site", "build", *as_of, "--out", str(cold), cwd=demo).code == 0
    status, sequence = _event(cold, APRIL_FIRST)
    assert status == "CANCELLED"  # the site's own series: the call-off is published
    assert sequence > before[1]  # and calendars are told it changed


def _git(repo: Path, *args: str) -> str:
    import subprocess

    done = subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def _reword(demo: Path, old: str, new: str) -> None:
    path = demo / "maintenance" / "MNT-0002.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    commit_all(demo, f"window: {new}")


def test_a_merge_that_takes_the_other_sides_window_never_lowers_its_sequence(
    tmp_path: Path,
) -> None:
    demo = tmp_path / "demo"
    assert run_cli("demo", str(demo)).code == 0
    fork = _git(demo, "rev-parse", "HEAD")
    branch = _git(demo, "rev-parse", "--abbrev-ref", "HEAD")
    _reword(demo, "Writes may pause", "Writes will pause")
    _reword(demo, "up to 2 minutes", "up to 3 minutes")
    as_of = ("--as-of", "2026-11-29T00:00:00Z")
    assert run_cli("site", "build", *as_of, cwd=demo).code == 0
    published = _event(demo / "_site", "maintenance-MNT-0002")[1]
    assert published == 2

    _git(demo, "checkout", "-q", "-b", "side", fork)
    _reword(demo, "Writes may pause", "Writes might pause briefly")
    _git(demo, "checkout", "-q", branch)
    _git(demo, "merge", "-q", "--no-edit", "-X", "theirs", "side")
    text = (demo / "maintenance" / "MNT-0002.yaml").read_text(encoding="utf-8")
    assert "might pause briefly" in text and "2 minutes" in text  # the side's window
    cold = tmp_path / "cold"
    assert run_cli("site", "build", *as_of, "--out", str(cold), cwd=demo).code == 0
    assert _event(cold, "maintenance-MNT-0002")[1] > published


def test_renaming_a_windows_file_never_lowers_its_sequence(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    assert run_cli("demo", str(demo)).code == 0
    _reword(demo, "Writes may pause", "Writes will pause")
    _reword(demo, "up to 2 minutes", "up to 3 minutes")
    as_of = ("--as-of", "2026-11-29T00:00:00Z")
    assert run_cli("site", "build", *as_of, cwd=demo).code == 0
    published = _event(demo / "_site", "maintenance-MNT-0002")[1]
    assert published == 2

    _git(demo, "mv", "maintenance/MNT-0002.yaml", "maintenance/MNT-0002.yml")
    _git(demo, "commit", "-qm", "the editor's own suffix")
    assert run_cli("validate", cwd=demo).code == 0
    assert run_cli("site", "build", *as_of, cwd=demo).code == 0  # from the kept state
    cold = tmp_path / "cold"
    assert run_cli("site", "build", *as_of, "--out", str(cold), cwd=demo).code == 0
    rebuilt = _event(demo / "_site", "maintenance-MNT-0002")[1]
    assert _event(cold, "maintenance-MNT-0002")[1] == rebuilt
    assert rebuilt >= published


def test_a_moved_window_raises_its_sequence_in_a_repository_kept_in_a_subfolder(
    tmp_path: Path,
) -> None:
    top = tmp_path / "monorepo"
    top.mkdir()
    _git(top, "init", "-q")
    _git(top, "commit", "-q", "--allow-empty", "-m", "the service's own history")
    assert run_cli("init", str(top / "status")).code == 0
    status = top / "status"
    scheduled = run_cli(
        "maintenance",
        "new",
        "Database upgrade",
        "--start",
        "2026-12-10T10:00:00Z",
        "--end",
        "2026-12-10T11:00:00Z",
        "--component",
        "api",
        cwd=status,
    )
    assert scheduled.code == 0, scheduled.err
    moved = run_cli("maintenance", "update", "MNT-0001", "--start", "2026-12-10T09:00Z", cwd=status)
    assert moved.code == 0, moved.err
    built = run_cli("site", "build", "--as-of", "2026-11-29T00:00:00Z", cwd=status)
    assert built.code == 0, built.err
    assert _event(status / "_site", "maintenance-MNT-0001")[1] == 1
