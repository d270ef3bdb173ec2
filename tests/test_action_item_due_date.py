"""An action item's `due:` may be a plain date, as people write one: it means the end of
that day (23:59:59) in the settings' time zone, for `validate`, `actions`, `stats` and the
tracker sync alike. main refused `due: 2026-12-01` with a schema error."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from incidents_cli.core.timeutil import due_time

from .conftest import run_cli
from .test_postmortems import _publish_and_commit, resolved_incident

POSTMORTEM = "postmortems/INC-0001.md"


def _dated(repo: Path, zone: str) -> None:
    """A published postmortem whose first item is due on 2026-03-10 (a date), in a
    repository whose settings' time zone is ``zone``."""
    if zone != "UTC":
        settings = repo / "incidents.yaml"
        text = settings.read_text()
        assert "timezone: UTC\n" in text
        settings.write_text(text.replace("timezone: UTC\n", f"timezone: {zone}\n"))
        subprocess.run(["git", "commit", "-q", "-am", "zone"], cwd=repo, check=True)
    iid = resolved_incident(repo)
    _publish_and_commit(repo, iid)
    path = repo / POSTMORTEM
    text = path.read_text()
    assert "    due: 2026-03-10T00:00:00Z\n" in text
    path.write_text(text.replace("    due: 2026-03-10T00:00:00Z\n", "    due: 2026-03-10\n"))
    subprocess.run(["git", "commit", "-q", "-am", "a date"], cwd=repo, check=True)


def _overdue(repo: Path, as_of: str) -> list[str]:
    said = run_cli("actions", "--overdue", "--as-of", as_of, "--format", "json", cwd=repo)
    assert said.code in (0, 1), said.err
    return [i["id"] for i in json.loads(said.out)]


@pytest.mark.parametrize(
    ("zone", "last_moment", "late"),
    [
        ("UTC", "2026-03-10T23:59:59Z", "2026-03-11T00:00:00Z"),
        ("Asia/Tokyo", "2026-03-10T14:59:59Z", "2026-03-10T15:00:00Z"),
    ],
)
def test_an_action_item_due_on_a_date_is_overdue_after_that_day_in_the_settings_zone(
    repo: Path, zone: str, last_moment: str, late: str
) -> None:
    _dated(repo, zone)
    assert run_cli("validate", cwd=repo).code == 0
    assert _overdue(repo, last_moment) == []
    assert _overdue(repo, late) == ["A1"]
    listed = json.loads(run_cli("actions", "--as-of", late, "--format", "json", cwd=repo).out)
    assert next(i for i in listed if i["id"] == "A1")["due"] == last_moment
    for until, count in ((last_moment, 0), (late, 1)):
        stats = json.loads(run_cli("stats", "--until", until, "--json", cwd=repo).out)
        assert stats["overdue"]["action_items"] == count, stats["overdue"]


def test_a_due_that_is_neither_a_time_nor_a_date_is_still_refused(repo: Path) -> None:
    _dated(repo, "UTC")
    path = repo / POSTMORTEM
    path.write_text(path.read_text().replace("    due: 2026-03-10\n", "    due: 2026-3-10\n"))
    said = run_cli("validate", cwd=repo)
    assert said.code == 1
    assert any(line.startswith(POSTMORTEM) and "due" in line for line in said.out.splitlines()), (
        said.out
    )


def test_marking_another_item_done_keeps_the_date_as_written(repo: Path) -> None:
    _dated(repo, "UTC")
    done = run_cli("actions", "done", "INC-0001", "A2", "--at", "2026-03-09T00:00:00Z", cwd=repo)
    assert done.code == 0, done.err
    assert "    due: 2026-03-10\n" in (repo / POSTMORTEM).read_text()
    assert run_cli("validate", cwd=repo).code == 0


@pytest.mark.parametrize("zone", ["", "/abs", "../x", "No/Such_Zone"])
def test_a_plain_date_under_a_time_zone_python_cannot_read_is_due_at_the_end_of_the_utc_day(
    zone: str,
) -> None:
    # the settings' finding names the zone; meanwhile an overdue item is still overdue
    assert due_time("2026-03-10", zone) == datetime(2026, 3, 10, 23, 59, 59, tzinfo=UTC)
