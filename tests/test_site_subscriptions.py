"""Subscribing without a server: per-component feeds, the maintenance calendar, and
recurring maintenance on the page, in the API and in the calendar."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import git
import icalendar

from .conftest import run_cli
from .test_site_consumers import schema_errors


def write(repo: Path, rel: str, text: str) -> None:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def commit_all(repo: Path, message: str = "records") -> None:
    g = git.Repo(repo)
    g.git.add("-A")
    g.index.commit(message)


def build(repo: Path, out: Path, *extra: str) -> Path:
    result = run_cli("site", "build", "--out", str(out), *extra, cwd=repo)
    assert result.code == 0, result.err
    return out


def test_every_component_has_feeds_with_what_affects_it(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    assert run_cli("demo", str(demo)).code == 0
    site = demo / "_site"
    index = (site / "index.html").read_text()
    titles: dict[str, list[str]] = {}
    for component in ("api", "web", "database", "auth", "payments", "edge"):
        for kind in ("atom", "rss"):
            rel = f"feeds/{component}.{kind}"
            feed = feedparser.parse((site / rel).read_text())
            assert not feed.bozo, (rel, feed.get("bozo_exception"))
            assert len({e.id for e in feed.entries}) == len(feed.entries)
            assert f'rel="alternate" type="application/{kind}+xml"' in index
            assert f'href="{rel}"' in index
            titles[f"{component}.{kind}"] = [e.title for e in feed.entries]
        assert titles[f"{component}.atom"] == titles[f"{component}.rss"]
    assert titles["payments.atom"][0] == "Card payments failing for some customers: Identified"
    assert all("Card payments" in t for t in titles["payments.atom"])
    assert titles["database.atom"][0] == (
        "Scheduled maintenance: Primary database upgrade to PostgreSQL 17"
    )
    assert "Scheduled maintenance: Load balancer certificate rotation" in titles["edge.atom"]
    assert titles["web.atom"] == []
    assert not any("Card payments" in t for t in titles["api.atom"])
    subscribe = index[index.index('id="subscribe"') :]
    assert 'href="feeds/payments.atom"' in subscribe and 'href="maintenance.ics"' in subscribe
    assert 'href="history.rss"' in subscribe and 'href="api/v2/summary.json"' in subscribe


WEEKLY = """\
id: MNT-0001
title: Weekly database patching
start: 2026-03-17T21:00:00Z
end: 2026-03-17T22:00:00Z
components: [database]
message: Short write pauses.
recurrence: FREQ=WEEKLY;COUNT=4
cancelled_occurrences: [2026-03-24T21:00:00Z]
"""

ONE_OFF = """\
id: MNT-0002
title: Edge certificate rotation
start: 2026-03-20T09:00:00Z
end: 2026-03-20T09:30:00Z
components: [edge]
"""


def calendar_events(site: Path) -> dict[str, icalendar.Event]:
    parsed = icalendar.Calendar.from_ical((site / "maintenance.ics").read_text())
    return {str(e["UID"]): e for e in parsed.walk("VEVENT")}


def test_recurring_maintenance_repeats_in_the_team_s_time_zone(repo: Path, tmp_path: Path) -> None:
    settings = repo / "incidents.yaml"
    settings.write_text(settings.read_text().replace("timezone: UTC", "timezone: Europe/Berlin"))
    write(repo, "maintenance/MNT-0001.yaml", WEEKLY)
    commit_all(repo)
    assert run_cli("validate", cwd=repo).code == 0
    site = build(repo, tmp_path / "site", "--as-of", "2026-03-18T00:00:00Z")
    api = site / "api" / "v2"
    for path in sorted(api.rglob("*.json")):
        name = path.relative_to(api).as_posix()
        assert schema_errors(name, json.loads(path.read_text())) == []
    upcoming = json.loads((api / "scheduled-maintenances/upcoming.json").read_text())
    # 22:00 in Berlin each week: 21:00 UTC in winter, 20:00 UTC after the clocks change.
    assert [(m["id"], m["scheduled_for"]) for m in upcoming["scheduled_maintenances"]] == [
        ("MNT-0001-20260331", "2026-03-31T20:00:00Z"),
        ("MNT-0001-20260407", "2026-04-07T20:00:00Z"),
    ]  # the one on the 24th is called off
    index = (site / "index.html").read_text()
    assert "Weekly database patching" in index and "repeats" in index
    assert "2026-03-31 22:00 CEST" in index
    events = calendar_events(site)
    authority = "status.example.com"
    assert sorted(events) == [
        f"maintenance-MNT-0001-{day}@{authority}"
        for day in ("20260317", "20260324", "20260331", "20260407")
    ]
    cancelled = events[f"maintenance-MNT-0001-20260324@{authority}"]
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert events[f"maintenance-MNT-0001-20260407@{authority}"].decoded("DTSTART") == datetime(
        2026, 4, 7, 20, tzinfo=UTC
    )


def test_a_bad_recurrence_is_refused_by_validate(repo: Path) -> None:
    write(repo, "maintenance/MNT-0001.yaml", WEEKLY.replace("COUNT=4", "BYDAY=MO"))
    result = run_cli("validate", cwd=repo)
    assert result.code == 1
    assert "maintenance/MNT-0001.yaml:7" in result.out + result.err


def test_calendar_keeps_uids_bumps_sequence_and_marks_cancellations(
    repo: Path, tmp_path: Path
) -> None:
    write(repo, "maintenance/MNT-0002.yaml", ONE_OFF)
    commit_all(repo, "plan")
    as_of = ("--as-of", "2026-03-19T00:00:00Z")
    uid = "maintenance-MNT-0002@status.example.com"
    first = calendar_events(build(repo, tmp_path / "one", *as_of))[uid]
    assert (first["SEQUENCE"], str(first["STATUS"])) == (0, "CONFIRMED")

    write(repo, "maintenance/MNT-0002.yaml", ONE_OFF.replace("09:30:00Z", "10:00:00Z"))
    commit_all(repo, "longer")
    moved = calendar_events(build(repo, tmp_path / "two", *as_of))[uid]
    assert moved["SEQUENCE"] == 1
    assert moved.decoded("DTEND") == datetime(2026, 3, 20, 10, tzinfo=UTC)

    write(repo, "maintenance/MNT-0002.yaml", ONE_OFF + "cancelled: true\n")
    commit_all(repo, "call off")
    site = build(repo, tmp_path / "three", *as_of)
    gone = calendar_events(site)[uid]
    assert (gone["SEQUENCE"], str(gone["STATUS"])) == (2, "CANCELLED")
    upcoming = json.loads((site / "api/v2/scheduled-maintenances/upcoming.json").read_text())
    assert upcoming["scheduled_maintenances"] == []
    assert "Edge certificate rotation" not in (site / "index.html").read_text()


def test_the_subscribe_section_lists_the_team_s_public_channels(repo: Path, tmp_path: Path) -> None:
    settings = repo / "incidents.yaml"
    settings.write_text(
        settings.read_text()
        + "\nsubscribe:\n  - name: Mailing list <announce>\n"
        + "    url: https://lists.example.com/status\n"
        + "  - name: Email us\n    url: mailto:status@example.com\n"
    )
    commit_all(repo)
    assert run_cli("validate", cwd=repo).code == 0
    index = (build(repo, tmp_path / "site") / "index.html").read_text()
    subscribe = index[index.index('id="subscribe"') :]
    assert (
        '<a href="https://lists.example.com/status">Mailing list &lt;announce&gt;</a>' in subscribe
    )
    assert '<a href="mailto:status@example.com">Email us</a>' in subscribe
    settings.write_text(settings.read_text().replace("https://lists", "javascript:alert(1)//"))
    assert run_cli("validate", cwd=repo).code == 1


def test_validate_names_a_called_off_occurrence_that_is_not_one(repo: Path) -> None:
    write(
        repo,
        "maintenance/MNT-0001.yaml",
        WEEKLY.replace("[2026-03-24T21:00:00Z]", "[2026-03-25T21:00:00Z]").replace(
            "COUNT=4", "UNTIL=20260231"
        ),
    )
    result = run_cli("validate", cwd=repo)
    assert result.code == 1
    assert "maintenance/MNT-0001.yaml:7:1: recurrence: UNTIL: day is out of range" in result.out
    write(repo, "maintenance/MNT-0001.yaml", WEEKLY.replace("-24T21", "-25T21"))
    result = run_cli("validate", cwd=repo)
    assert result.code == 1
    assert (
        "maintenance/MNT-0001.yaml:8:25: cancelled_occurrences[0]: 2026-03-25T21:00:00Z is not "
        "the start of an occurrence of this window (it repeats from 2026-03-17T21:00:00Z at the "
        "same time of day in UTC)"
    ) in result.out
