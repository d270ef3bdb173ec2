"""On-call schedules, calendar export, escalations and stats, through the CLI."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import git
import icalendar
import pytest

from .conftest import run_cli

ONCALL = """\
rotations:
  - id: primary
    members: [alice, bob, carol]
    start: 2026-03-25T09:00:00+01:00
    shift: 1d
    handoff: "09:00"
    timezone: Europe/Berlin
escalation:
  primary: primary
  secondary: {rotation: primary, offset: 1}
  tiers:
    - {name: everyone, rotation: primary, everyone: true}
overrides:
  - rotation: primary
    person: carol
    replaces: alice
    start: 2026-03-28T12:00:00Z
    end: 2026-03-28T18:00:00Z
    reason: dentist
"""


@pytest.fixture
def schedule_repo(repo: Path) -> Path:
    (repo / "oncall.yaml").write_text(ONCALL)
    g = git.Repo(repo)
    g.index.add(["oncall.yaml"])
    g.index.commit("rotation")
    assert run_cli("validate", cwd=repo).code == 0
    return repo


def who(repo: Path, at: str) -> dict[str, dict[str, object]]:
    result = run_cli("oncall", "--at", at, "--json", cwd=repo)
    assert result.code == 0, result.err
    return json.loads(result.out)


@pytest.mark.parametrize(
    ("at", "primary", "secondary", "until"),
    [
        # Shifts: 25 alice, 26 bob, 27 carol, 28 alice, 29 bob, 30 carol (09:00 Berlin).
        ("2026-03-28T07:59:59Z", "carol", "alice", "2026-03-28T08:00:00Z"),  # CET: UTC+1
        ("2026-03-28T08:00:00Z", "alice", "bob", "2026-03-28T12:00:00Z"),
        ("2026-03-29T06:59:59Z", "alice", "bob", "2026-03-29T07:00:00Z"),  # DST began at 01:00Z
        ("2026-03-29T07:00:00Z", "bob", "carol", "2026-03-30T07:00:00Z"),
        ("2026-03-30T06:59:59Z", "bob", "carol", "2026-03-30T07:00:00Z"),  # CEST: UTC+2
        ("2026-03-30T07:00:00Z", "carol", "alice", "2026-03-31T07:00:00Z"),
    ],
)
def test_handoff_keeps_its_local_time_across_daylight_saving(
    schedule_repo: Path, at: str, primary: str, secondary: str, until: str
) -> None:
    data = who(schedule_repo, at)
    assert data["primary"]["person"] == primary
    assert data["secondary"]["person"] == secondary
    assert data["primary"]["until"] == until


def test_an_override_covers_part_of_a_shift(schedule_repo: Path) -> None:
    during = who(schedule_repo, "2026-03-28T13:00:00Z")
    assert during["primary"] == {
        "person": "carol",
        "scheduled": "alice",
        "until": "2026-03-28T18:00:00Z",
        "override": True,
        "contact": {"email": "carol@example.com"},
    }
    after = who(schedule_repo, "2026-03-28T18:00:00Z")
    assert after["primary"]["person"] == "alice"
    text = run_cli("oncall", "--at", "2026-03-28T13:00:00Z", cwd=schedule_repo).out
    assert "primary    carol (covering for alice) until 2026-03-28T18:00:00Z" in text


def test_ics_export_is_read_back_with_overrides_applied(
    schedule_repo: Path, tmp_path: Path
) -> None:
    result = run_cli(
        "oncall",
        "export",
        "--from",
        "2026-03-27T00:00:00Z",
        "--weeks",
        "1",
        "--out",
        str(tmp_path / "cal"),
        cwd=schedule_repo,
    )
    assert result.code == 0, result.err
    path = tmp_path / "cal" / "oncall-primary.ics"
    data = path.read_bytes()
    assert b"\r\n" in data
    calendar = icalendar.Calendar.from_ical(data)
    events = [(str(e["SUMMARY"]), e["DTSTART"].dt, e["DTEND"].dt) for e in calendar.walk("VEVENT")]

    def at(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)

    assert events[:6] == [
        # bob's shift began before --from: it is exported whole, with its real start
        ("On call (primary): Bob Example", at("2026-03-26T08:00:00Z"), at("2026-03-27T08:00:00Z")),
        (
            "On call (primary): Carol Example",
            at("2026-03-27T08:00:00Z"),
            at("2026-03-28T08:00:00Z"),
        ),
        (
            "On call (primary): Alice Example",
            at("2026-03-28T08:00:00Z"),
            at("2026-03-28T12:00:00Z"),
        ),
        (
            "On call (primary): Carol Example",
            at("2026-03-28T12:00:00Z"),
            at("2026-03-28T18:00:00Z"),
        ),
        (
            "On call (primary): Alice Example",
            at("2026-03-28T18:00:00Z"),
            at("2026-03-29T07:00:00Z"),
        ),
        ("On call (primary): Bob Example", at("2026-03-29T07:00:00Z"), at("2026-03-30T07:00:00Z")),
    ]
    assert len({str(e["UID"]) for e in calendar.walk("VEVENT")}) == len(events)
    again = run_cli(
        "oncall",
        "export",
        "--from",
        "2026-03-27T00:00:00Z",
        "--weeks",
        "1",
        "--out",
        str(tmp_path / "cal"),
        cwd=schedule_repo,
    )
    assert again.code == 0 and path.read_bytes() == data, "a stable file to subscribe to"


def test_csv_adds_up_to_the_hours(schedule_repo: Path) -> None:
    result = run_cli(
        "oncall",
        "export",
        "--from",
        "2026-03-27T00:00:00Z",
        "--weeks",
        "2",
        "--format",
        "csv",
        cwd=schedule_repo,
    )
    rows = list(csv.DictReader(io.StringIO(result.out)))
    # Whole shifts: from bob's, begun 2026-03-26 09:00 CET, to the one ending on
    # 2026-04-10 09:00 CEST: fifteen days less the hour daylight saving took.
    assert sum(float(r["hours"]) for r in rows) == pytest.approx(15 * 24 - 1)
    by_person: dict[str, float] = {}
    for row in rows:
        by_person[row["person"]] = by_person.get(row["person"], 0) + float(row["hours"])
    assert by_person["carol"] > by_person["bob"], "carol's six override hours count for her"
    override = [r for r in rows if r["override_for"]]
    assert override == [
        {
            "rotation": "primary",
            "person": "carol",
            "start": "2026-03-28T12:00:00Z",
            "end": "2026-03-28T18:00:00Z",
            "hours": "6.00",
            "override_for": "alice",
        }
    ]
    bob = run_cli(
        "oncall",
        "export",
        "--from",
        "2026-03-27T00:00:00Z",
        "--weeks",
        "2",
        "--format",
        "csv",
        "--person",
        "bob",
        cwd=schedule_repo,
    )
    assert {r["person"] for r in csv.DictReader(io.StringIO(bob.out))} == {"bob"}


def test_declare_records_who_was_primary(schedule_repo: Path) -> None:
    result = run_cli(
        "declare",
        "Queue stuck",
        "--severity",
        "critical",
        "--at",
        "2026-03-28T13:00:00Z",
        "--json",
        cwd=schedule_repo,
    )
    assert json.loads(result.out)["primary_at_detection"] == "carol"


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2026-03-28T13:05:00Z", []),
        # carol covers alice: the secondary is the next after alice (bob), then everyone
        # not paged yet (alice); never carol again, and never beyond the last tier.
        ("2026-03-28T13:05:01Z", [("INC-0001", "carol", "bob", 2)]),
        ("2026-03-28T13:10:00Z", [("INC-0001", "carol", "bob", 2)]),
        ("2026-03-28T13:10:01Z", [("INC-0001", "carol", "alice", 3)]),
        (
            "2026-03-28T14:00:01Z",
            [("INC-0001", "carol", "alice", 3), ("INC-0002", "carol", "bob", 2)],
        ),
    ],
)
def test_escalations_around_the_window_edges(
    schedule_repo: Path, as_of: str, expected: list[tuple[str, str, str, int]]
) -> None:
    run_cli(
        "declare",
        "Queue stuck",
        "--severity",
        "critical",
        "--at",
        "2026-03-28T13:00:00Z",
        cwd=schedule_repo,
    )
    run_cli(
        "declare",
        "Slow reports",
        "--severity",
        "medium",
        "--at",
        "2026-03-28T13:00:00Z",
        cwd=schedule_repo,
    )
    run_cli(
        "declare",
        "Acked",
        "--severity",
        "critical",
        "--at",
        "2026-03-28T13:00:00Z",
        cwd=schedule_repo,
    )
    run_cli("ack", "INC-0003", "--at", "2026-03-28T13:01:00Z", cwd=schedule_repo)
    result = run_cli("escalations", "--as-of", as_of, "--format", "json", cwd=schedule_repo)
    assert result.code == (1 if expected else 0)
    found = [
        (e["incident"], e["primary_at_detection"], e["escalate_to"], e["tier"])
        for e in json.loads(result.out)
    ]
    assert found == expected


def test_escalation_annotations_and_unknown_severity(schedule_repo: Path) -> None:
    run_cli("declare", "Something odd", "--at", "2026-03-28T13:00:00Z", cwd=schedule_repo)
    result = run_cli(
        "escalations", "--as-of", "2026-03-28T13:06:00Z", "--format", "github", cwd=schedule_repo
    )
    assert result.code == 1
    lines = (schedule_repo / "incidents" / "INC-0001.yaml").read_text().splitlines()
    line = next(n for n, text in enumerate(lines, 1) if text.startswith("detected_at:"))
    assert result.out.startswith(
        f"::error file=incidents/INC-0001.yaml,line={line},col=1,title=Unacknowledged incident::"
        "INC-0001 critical (assumed%3A severity unset) unacknowledged for 6m".replace("%3A", ":")
    )


def test_stats_match_figures_computed_by_hand(repo: Path) -> None:
    def walk(
        title: str,
        severity: str,
        t0: str,
        ack: str,
        resolved: str | None,
        source: str,
        components: list[str],
    ) -> None:
        args = ["declare", title, "--severity", severity, "--source", source, "--at", t0]
        for c in components:
            args += ["--component", c]
        declared = run_cli(*args, "--json", cwd=repo)
        assert declared.code == 0, declared.err
        iid = json.loads(declared.out)["id"]
        assert run_cli("ack", iid, "--at", ack, cwd=repo).code == 0
        if resolved:
            assert (
                run_cli(
                    "resolve",
                    iid,
                    "--action",
                    "hotfix",
                    "--summary",
                    "x",
                    "--at",
                    resolved,
                    cwd=repo,
                ).code
                == 0
            )

    # critical: ack after 4m and 10m (window 5m), resolve after 60m and 120m
    walk(
        "A",
        "critical",
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:04:00Z",
        "2026-01-01T01:00:00Z",
        "monitor",
        ["api"],
    )
    walk(
        "B",
        "critical",
        "2026-01-02T00:00:00Z",
        "2026-01-02T00:10:00Z",
        "2026-01-02T02:00:00Z",
        "customer",
        ["api", "database"],
    )
    # low: ack after 1h (window 4h), never resolved
    walk("C", "low", "2026-01-03T00:00:00Z", "2026-01-03T01:00:00Z", None, "monitor", ["web"])
    # outside the period
    walk("D", "low", "2025-12-01T00:00:00Z", "2025-12-01T00:01:00Z", None, "support", ["web"])
    result = run_cli(
        "stats",
        "--since",
        "2026-01-01T00:00:00Z",
        "--until",
        "2026-02-01T00:00:00Z",
        "--json",
        cwd=repo,
    )
    report = json.loads(result.out)
    assert report["incidents"] == 3
    assert report["by_severity"] == {"critical": 2, "low": 1}
    assert report["by_component"] == {"api": 2, "database": 1, "web": 1}
    assert report["by_source"] == {"customer": 1, "monitor": 2}
    assert report["time_to_acknowledge"]["by_severity"]["critical"] == {
        "count": 2,
        "mean_seconds": 420.0,
        "median_seconds": 420.0,
    }
    assert report["time_to_resolve"]["by_severity"]["critical"] == {
        "count": 2,
        "mean_seconds": 5400.0,
        "median_seconds": 5400.0,
    }
    assert report["time_to_resolve"]["by_severity"]["low"]["count"] == 0
    assert report["acknowledged_within_window"] == {
        "measures": "acknowledged_at - detected_at <= the severity's ack_within",
        "acknowledged": 3,
        "within": 2,
        "rate": 0.6667,
    }
    assert report["postmortem_completion"]["needed"] == 2
    assert report["postmortem_completion"]["published"] == 0
    assert report["overdue"]["postmortems"] == 2
    assert report["time_to_acknowledge"]["from"] == "detected_at"
    text = run_cli(
        "stats", "--since", "2026-01-01T00:00:00Z", "--until", "2026-02-01T00:00:00Z", cwd=repo
    ).out
    assert "  critical     2          7m          7m     2        1h 30m          1h 30m" in text
    assert "Acknowledged within the severity's window: 2 of 3 (66.7%)" in text


def test_two_exports_on_different_days_give_the_same_uid_and_start_for_a_shift(
    schedule_repo: Path,
) -> None:
    def events(start: str) -> dict[str, tuple[datetime, datetime, str]]:
        result = run_cli("oncall", "export", "--from", start, "--weeks", "1", cwd=schedule_repo)
        assert result.code == 0, result.err
        calendar = icalendar.Calendar.from_ical(result.out.encode())
        return {
            str(e["UID"]): (e["DTSTART"].dt, e["DTEND"].dt, str(e["SUMMARY"]))
            for e in calendar.walk("VEVENT")
        }

    monday = events("2026-03-27T00:00:00Z")
    tuesday = events("2026-03-28T03:00:00Z")  # in the middle of carol's shift
    shared = set(monday) & set(tuesday)
    carol = "primary-20260327T080000Z-carol@incidents"
    assert carol in shared
    assert tuesday[carol] == monday[carol]
    assert tuesday[carol][0] == datetime(2026, 3, 27, 8, tzinfo=UTC)
    for uid in shared:
        assert monday[uid] == tuesday[uid]
    # what the later export starts with is a shift the earlier one had too
    assert min(tuesday.values())[0] in {v[0] for v in monday.values()}


def test_an_export_with_no_shift_says_why_instead_of_saying_nothing(
    schedule_repo: Path, tmp_path: Path
) -> None:
    result = run_cli(
        "oncall",
        "export",
        "--person",
        "nobody",
        "--out",
        str(tmp_path / "cal"),
        cwd=schedule_repo,
    )
    assert result.code == 0, result.err
    assert result.err == "warning: no shift of nobody in these 12 weeks: the export holds none\n"
    (schedule_repo / "oncall.yaml").write_text("rotations: []\n")
    result = run_cli("oncall", "export", "--format", "csv", cwd=schedule_repo)
    assert result.code == 0, result.err
    assert result.out == "rotation,person,start,end,hours,override_for\n"
    assert result.err == "warning: oncall.yaml has no rotations: the export holds no shift\n"


@pytest.mark.parametrize(
    ("since", "until"),
    [("2026-03-02T00:00:00Z", "2026-03-01T00:00:00Z"), ("2026-03-01T00:00:00Z", None)],
)
def test_stats_refuses_a_period_that_holds_no_time(
    repo: Path, since: str, until: str | None
) -> None:
    """--since at or after --until counted nothing and said so with exit 0: a typo in a
    report's dates must not read as a quiet month."""
    until = until or since
    result = run_cli("stats", "--since", since, "--until", until, cwd=repo)
    assert result.code == 2, result.out
    assert result.err == (
        f"--since {since} is not before --until {until}: the period holds no time\n"
    )
    assert result.out == ""
