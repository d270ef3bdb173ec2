"""At 3 a.m., through the real CLI: times as people type them, ids as people remember them,
shell completion, and escalation that never pages the person who did not answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import git
import pytest
from click.shell_completion import ShellComplete

from incidents_cli.cli import cli
from incidents_cli.core.timeinput import parse_time_input

from .conftest import run_cli


def _set_zone(repo: Path, zone: str) -> None:
    path = repo / "incidents.yaml"
    path.write_text(path.read_text().replace("timezone: UTC", f"timezone: {zone}"))
    g = git.Repo(repo)
    g.index.add(["incidents.yaml"])
    g.index.commit("Our time zone")


def _declare(repo: Path, *extra: str) -> dict[str, object]:
    result = run_cli(
        "declare", "Database unreachable", "--severity", "high", *extra, "--json", cwd=repo
    )
    assert result.code == 0, result.err
    data: dict[str, object] = json.loads(result.out)
    return data


def _utc(text: object) -> datetime:
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))


# ---------------------------------------------------------------- ids


def test_every_way_of_typing_an_id_reaches_the_same_incident(repo: Path) -> None:
    _declare(repo)
    assert run_cli("ack", "1", cwd=repo).code == 0
    assert run_cli("assign", "Inc-01", "--commander", "alice", cwd=repo).code == 0
    assert run_cli("investigate", "inc-1", cwd=repo).code == 0
    assert run_cli("note", "INC-0001", "pool at 100%", cwd=repo).code == 0
    shown = run_cli("show", "#1", "--json", cwd=repo)
    assert json.loads(shown.out)["phase"] == "investigating"


def test_an_unknown_id_names_the_closest_open_ones_and_changes_nothing(repo: Path) -> None:
    for _ in range(3):
        _declare(repo)
    head = git.Repo(repo).head.commit.hexsha
    result = run_cli("ack", "7", cwd=repo)
    assert result.code == 2
    assert result.err == (
        "no incident INC-0007 (incidents/INC-0007.yaml does not exist); "
        "the closest open ones: INC-0003, INC-0002, INC-0001\n"
    )
    assert git.Repo(repo).head.commit.hexsha == head
    bad = run_cli("ack", "twelve", cwd=repo)
    assert bad.code == 2
    assert "'twelve' is not an incident id; write it like 12, inc-12 or INC-0012" in bad.err
    assert bad.err.count("\n") == 1


# ---------------------------------------------------------------- times


def test_relative_times_are_stored_as_rfc3339_utc(repo: Path) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    data = _declare(repo, "--at", "-15m")
    after = datetime.now(UTC)
    detected = _utc(data["detected_at"])
    assert before - timedelta(minutes=15, seconds=1) <= detected <= after - timedelta(minutes=15)
    assert str(data["detected_at"]).endswith("Z")
    acked = run_cli("ack", "1", "--at", "10m ago", "--json", cwd=repo)
    assert acked.code == 0, acked.err


def test_a_wall_clock_time_is_the_teams_and_the_command_says_which_day(repo: Path) -> None:
    zone = "America/New_York"
    _set_zone(repo, zone)
    now = datetime.now(UTC)
    local = (now - timedelta(hours=2)).astimezone(ZoneInfo(zone))
    typed = f"{local:%H:%M}"
    result = run_cli("declare", "Checkout failing", "--at", typed, "--json", cwd=repo)
    if result.code != 0:  # this minute does not exist or happens twice today: refused, as designed
        assert "does not exist" in result.err or "happened twice" in result.err
        return
    expected = parse_time_input(typed, now=now, zone=zone, direction="past").moment
    assert _utc(json.loads(result.out)["detected_at"]) == expected
    note = result.err.strip()
    assert note.startswith(f"note: --at {typed} taken as ")
    assert ("today" in note) == (local.date() == now.astimezone(ZoneInfo(zone)).date())
    assert ("yesterday" in note) != ("today" in note)


def test_a_future_at_is_still_refused(repo: Path) -> None:
    _declare(repo)
    result = run_cli("ack", "1", "--at", "in 2h", cwd=repo)
    assert result.code == 2
    assert "is in the future" in result.err


def test_a_time_that_cannot_be_read_is_refused_listing_the_accepted_forms(repo: Path) -> None:
    result = run_cli("declare", "x", "--at", "half past two", cwd=repo)
    assert result.code == 2
    assert result.err.count("\n") == 1
    for form in ("2026-03-01T14:05:00Z", "now", "-15m", "15m ago", "+30m", "in 2h", "HH:MM"):
        assert form in result.err
    assert "YYYY-MM-DD HH:MM" in result.err
    assert not (repo / "incidents" / "INC-0001.yaml").exists()


def test_windows_take_a_bare_duration(repo: Path) -> None:
    _declare(repo, "--at", "-10d")
    _declare(repo, "--at", "-2d")
    listed = run_cli("list", "--since", "7d", "--json", cwd=repo)
    assert listed.code == 0, listed.err
    assert [i["id"] for i in json.loads(listed.out)] == ["INC-0002"]
    stats = run_cli("stats", "--since", "30d", "--until", "now", "--json", cwd=repo)
    assert stats.code == 0, stats.err


def test_eta_reads_ahead(repo: Path) -> None:
    _declare(repo)
    result = run_cli(
        "update",
        "1",
        "--status",
        "identified",
        "--message",
        "Fix rolling out",
        "--eta",
        "in 2h",
        "--json",
        cwd=repo,
    )
    assert result.code == 0, result.err
    eta = _utc(json.loads(result.out)["updates"][-1]["eta"])
    assert timedelta(hours=1, minutes=59) < eta - datetime.now(UTC) <= timedelta(hours=2)


# ---------------------------------------------------------------- completion


def _complete(repo: Path, args: list[str], incomplete: str) -> list[str]:
    completer = ShellComplete(cli, {}, "incidents", "_INCIDENTS_COMPLETE")
    return [c.value for c in completer.get_completions(["-C", str(repo), *args], incomplete)]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_completion_script_of_each_shell_is_printed(shell: str) -> None:
    result = run_cli("completion", shell)
    assert result.code == 0
    assert "_INCIDENTS_COMPLETE" in result.out
    assert f"{shell}_complete" in result.out


def test_completion_offers_open_ids_components_people_and_runbooks(repo: Path) -> None:
    for _ in range(3):
        _declare(repo)
    assert run_cli("ack", "2", cwd=repo).code == 0
    for step in (("resolve", "2", "--action", "rollback", "--summary", "Rolled back"),):
        assert run_cli(*step, cwd=repo).code == 0, step
    assert _complete(repo, ["ack"], "INC-") == ["INC-0001", "INC-0002", "INC-0003"]
    assert _complete(repo, ["ack"], "inc-0003") == ["INC-0003"]
    assert _complete(repo, ["ack"], "3") == ["INC-0003"]
    assert _complete(repo, ["declare", "x", "--component"], "d") == ["database"]
    assert _complete(repo, ["assign", "1", "--commander"], "") == ["alice", "bob", "carol"]
    assert _complete(repo, ["runbook", "show"], "exp") == ["expired-tls-certificate"]
    assert "escalations" in _complete(repo, [], "esc")


def test_closed_incidents_are_not_offered_where_only_open_ones_make_sense(repo: Path) -> None:
    _declare(repo)
    _declare(repo, "--severity", "low")
    for step in (
        ("ack", "2"),
        ("resolve", "2", "--action", "rollback", "--summary", "Rolled back"),
        ("close", "2"),
    ):
        result = run_cli(*step, cwd=repo)
        assert result.code == 0, (step, result.err)
    assert _complete(repo, ["ack"], "") == ["INC-0001"]
    assert _complete(repo, ["show"], "") == ["INC-0001", "INC-0002"]


def test_the_console_script_completes_through_the_shell_protocol(repo: Path) -> None:
    _declare(repo)
    script = Path(sys.executable).with_name("incidents")
    env = {
        **os.environ,
        "_INCIDENTS_COMPLETE": "bash_complete",
        "COMP_WORDS": f"incidents -C {repo} ack INC",
        "COMP_CWORD": "4",
    }
    done = subprocess.run([str(script)], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["plain,INC-0001"]


# ---------------------------------------------------------------- escalation


def _team(repo: Path, members: list[str]) -> None:
    settings = repo / "incidents.yaml"
    text = settings.read_text()
    people = text[text.index("people:") :]
    text = text.replace(
        people,
        "people:\n"
        + "".join(
            f'  - handle: {m}\n    name: {m.title()} Example\n    phone: "+49 30 100{i}"\n'
            f'    chat: "@{m}"\n'
            for i, m in enumerate(["alice", "bob", "carol", "dave"])
        ),
    )
    settings.write_text(text)
    (repo / "oncall.yaml").write_text(
        "rotations:\n"
        "  - id: primary\n"
        f"    members: [{', '.join(members)}]\n"
        "    start: 2026-03-02T09:00:00Z\n"
        "    shift: 7d\n"
        "escalation:\n"
        "  primary: primary\n"
        "  secondary: {rotation: primary, offset: 1}\n"
        "  tiers:\n"
        "    - {name: everyone, rotation: primary, everyone: true}\n"
    )
    g = git.Repo(repo)
    g.index.add(["incidents.yaml", "oncall.yaml"])
    g.index.commit("Our rotation")
    assert run_cli("validate", cwd=repo).code == 0


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        # minutes after detection (critical: 5-minute window) -> who is paged, tier, last?
        (["alice"], {6: (None, None, True), 11: (None, None, True), 1440: (None, None, True)}),
        (["alice", "bob"], {6: ("bob", 2, True), 11: ("bob", 2, True), 1440: ("bob", 2, True)}),
        (
            ["alice", "bob", "carol", "dave"],
            {
                6: ("bob", 2, False),
                11: ("carol, dave", 3, True),
                16: ("carol, dave", 3, True),
                1440: ("carol, dave", 3, True),
            },
        ),
    ],
)
def test_a_long_unacknowledged_incident_never_pages_the_non_responder_again(
    repo: Path,
    members: list[str],
    expected: dict[int, tuple[str | None, int | None, bool]],
) -> None:
    _team(repo, members)
    detected = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
    data = _declare(repo, "--severity", "critical", "--at", "2026-03-03T02:00:00Z")
    assert data["primary_at_detection"] == "alice"
    for minutes, (who, tier, last) in expected.items():
        as_of = (detected + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")
        result = run_cli("escalations", "--as-of", as_of, "--format", "json", cwd=repo)
        assert result.code == 1
        [found] = json.loads(result.out)
        assert (found["escalate_to"], found["tier"], found["last_tier"]) == (who, tier, last)
        assert "alice" not in found["escalate_to_people"]
        for person in found["escalate_to_people"]:
            assert found["contacts"][person].startswith("phone +49 30 100")
    text = run_cli("escalations", "--as-of", "2026-03-04T02:00:00Z", cwd=repo).out
    if len(members) == 1:
        assert "nobody else to page (add a secondary or further tiers to oncall.yaml)" in text
    else:
        assert ": the last tier, it stays here)" in text
        if len(members) == 2:
            assert "escalate to bob (tier 2, secondary: the last tier, it stays here); " in text
            assert "; reach bob phone +49 30 1001, chat @bob" in text
        else:
            assert (
                "escalate to carol, dave (tier 3, everyone: the last tier, it stays here)" in text
            )
            assert "; reach carol phone +49 30 1002, chat @carol; dave phone +49 30 1003" in text


def test_oncall_says_how_to_reach_who_is_on_call(repo: Path) -> None:
    _team(repo, ["alice", "bob"])
    result = run_cli("oncall", "--at", "2026-03-03T02:00:00Z", cwd=repo)
    assert result.code == 0, result.err
    assert "primary    alice until 2026-03-09T09:00:00Z" in result.out
    assert "reach Alice Example: phone +49 30 1000, chat @alice" in result.out
    data = json.loads(run_cli("oncall", "--at", "2026-03-03T02:00:00Z", "--json", cwd=repo).out)
    assert data["secondary"]["contact"] == {"phone": "+49 30 1001", "chat": "@bob"}


# ---------------------------------------------------------------- filters


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("list", "--component", "nope"),
            "--component nope: no such component (known: api, auth, database, edge, payments, web)",
        ),
        (("actions", "--owner", "zed"), "--owner zed: no such person (known: alice, bob, carol)"),
        (("runbook", "list", "--component", "nope"), "--component nope: no such component"),
        (("list", "--severity", "nope"), "'nope'; choose from critical, high, medium, low (see"),
        (("list", "--phase", "nope"), "'nope'; choose from detected, acknowledged, "),
        (("resolve", "1", "--action", "nope", "--summary", "x"), "choose from rollback, hotfix, "),
    ],
)
def test_a_filter_naming_something_unknown_is_refused_naming_the_known_values(
    repo: Path, args: tuple[str, ...], message: str
) -> None:
    result = run_cli(*args, cwd=repo)
    assert result.code == 2
    assert message in result.err
    assert result.err.count("\n") == 1
    assert result.out == ""


# ---------------------------------------------------------------- output


def test_show_gives_times_in_the_teams_zone_with_the_offset_or_in_utc(repo: Path) -> None:
    _team(repo, ["alice", "bob"])
    _set_zone(repo, "Europe/Berlin")
    _declare(repo, "--at", "2026-07-01T10:00:00Z")
    assert (
        run_cli("assign", "1", "--commander", "bob", "--at", "2026-07-01T10:05:00Z", cwd=repo).code
        == 0
    )
    shown = run_cli("show", "1", "--as-of", "2026-07-01T11:00:00Z", cwd=repo)
    assert shown.code == 0, shown.err
    assert "  Detected      2026-07-01 12:00:00 +02:00" in shown.out
    assert "as of 2026-07-01 13:00:00 +02:00" in shown.out
    assert "  Reach:       bob (phone +49 30 1001, chat @bob)" in shown.out
    assert "  2026-07-01 12:05:00 +02:00  (+5m)  " in shown.out  # the assignment, after detection
    listed = run_cli("list", "--as-of", "2026-07-01T11:00:00Z", cwd=repo).out.splitlines()
    assert listed[1].startswith("INC-0001  high      detected  2026-07-01 12:00 +02:00  1h  ")
    listed_utc = run_cli("list", "--utc", "--as-of", "2026-07-01T11:00:00Z", cwd=repo).out
    assert "  2026-07-01 10:00Z  1h  " in listed_utc
    utc = run_cli("show", "1", "--utc", "--as-of", "2026-07-01T11:00:00Z", cwd=repo)
    assert "  Detected      2026-07-01 10:00:00Z" in utc.out
    as_json = json.loads(run_cli("show", "1", "--json", cwd=repo).out)
    assert as_json["detected_at"] == "2026-07-01T10:00:00Z"


def test_site_build_says_what_it_built_in_words(repo: Path) -> None:
    result = run_cli("site", "build", cwd=repo)
    assert result.code == 0, result.err
    first = result.out.splitlines()[0]
    assert first.startswith("Built ")
    assert " files (0 public incidents, overall status: operational) in " in first


def test_a_wall_clock_time_in_the_spring_forward_gap_is_refused_with_the_offset_to_write(
    repo: Path,
) -> None:
    _set_zone(repo, "Europe/Berlin")
    result = run_cli("declare", "x", "--at", "2026-03-29 02:30", cwd=repo)
    assert result.code == 2
    assert result.err.count("\n") == 1
    assert "2026-03-29 02:30 does not exist in Europe/Berlin" in result.err
    assert "2026-03-29T02:30:00+01:00" in result.err


def test_a_transition_keeps_the_completion_list_current_without_a_reread(repo: Path) -> None:
    _declare(repo)
    _declare(repo, "--severity", "low")
    assert _complete(repo, ["ack"], "") == ["INC-0001", "INC-0002"]  # the list is made
    kept = repo / ".git" / "incidents-cache" / "open-ids.json"
    for step in (
        ("ack", "2"),
        ("resolve", "2", "--action", "rollback", "--summary", "Rolled back"),
        ("close", "2"),
    ):
        assert run_cli(*step, cwd=repo).code == 0, step
    data = json.loads(kept.read_text())
    assert data["ids"] == ["INC-0001"]
    assert data["stamp"] == (repo / "incidents").stat().st_mtime_ns  # current: no reread
    _declare(repo)
    assert json.loads(kept.read_text())["ids"] == ["INC-0001", "INC-0003"]
    assert _complete(repo, ["ack"], "") == ["INC-0001", "INC-0003"]


def test_validate_checks_the_people_and_rotations_of_further_tiers(repo: Path) -> None:
    _team(repo, ["alice", "bob"])
    path = repo / "oncall.yaml"
    path.write_text(
        path.read_text()
        + "    - {name: manager, person: zed}\n"
        + "    - {rotation: nope}\n"
        + "    - {people: [bob, yves]}\n"
    )
    result = run_cli("validate", cwd=repo)
    assert result.code == 1
    assert result.out.splitlines() == [
        "oncall.yaml:11:23: escalation.tiers[1].person: unknown person 'zed'; "
        "add them to people in incidents.yaml",
        "oncall.yaml:12:8: escalation.tiers[2].rotation: no rotation 'nope'",
        "oncall.yaml:13:22: escalation.tiers[3].people[1]: unknown person 'yves'; "
        "add them to people in incidents.yaml",
    ]


def test_completion_without_any_cache_still_completes(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INCIDENTS_NO_CACHE", "1")
    _declare(repo)
    assert _complete(repo, ["ack"], "") == ["INC-0001"]
    assert not (repo / ".git" / "incidents-cache" / "open-ids.json").exists()
