"""`incidents validate` through the CLI on real repositories with hand-broken records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import run_cli

GOOD = """\
id: {id}
title: Database unreachable
severity: high
phase: acknowledged
source: monitor
components: [database]
detected_at: 2026-03-01T10:00:00Z
acknowledged_at: 2026-03-01T10:04:00Z
"""


def write(repo: Path, rel: str, text: str | bytes) -> None:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")


def test_fresh_repository_is_valid(repo: Path) -> None:
    result = run_cli("validate", cwd=repo)
    assert (result.code, result.out) == (0, "")
    assert "all records are valid" in result.err


def test_a_good_incident_is_valid(repo: Path) -> None:
    write(repo, "incidents/INC-0001.yaml", GOOD.format(id="INC-0001"))
    assert run_cli("validate", cwd=repo).code == 0


BROKEN = {
    "wrong enum": (
        GOOD.replace("severity: high", "severity: urgent"),
        "incidents/INC-0001.yaml:3:1: severity: 'urgent' is not one of: critical, high, medium, low",
    ),
    "missing field": (
        GOOD.replace("title: Database unreachable\n", ""),
        "incidents/INC-0001.yaml:1:1: title: missing required field",
    ),
    "duplicate key": (
        GOOD + "severity: low\n",
        "incidents/INC-0001.yaml:9:1: severity: duplicate key (first on line 3); "
        "YAML would silently keep only the last one",
    ),
    "alias bomb": (
        GOOD + "a: &a [x, x, x, x]\nb: &b [*a, *a, *a, *a]\nc: [*b, *b, *b, *b]\n",
        "incidents/INC-0001.yaml:9:4: (file): YAML anchor 'a' is not allowed in records; "
        "write the value out",
    ),
    "naive time": (
        GOOD.replace(
            "acknowledged_at: 2026-03-01T10:04:00Z", "acknowledged_at: 2026-03-01T10:04:00"
        ),
        "incidents/INC-0001.yaml:8:1: acknowledged_at: '2026-03-01T10:04:00' has no UTC offset; "
        "write it like 2026-03-01T14:05:00Z or 2026-03-01T15:05:00+01:00",
    ),
    "non-UTF-8": (
        GOOD.encode().replace(b"Database", b"Datenbank f\xfcr"),
        "incidents/INC-0001.yaml:2:19: (file): file is not UTF-8 (byte 0xfc); save it as UTF-8",
    ),
    "unknown component": (
        GOOD.replace("[database]", "[database, databse]"),
        "incidents/INC-0001.yaml:6:24: components[1]: unknown component 'databse' "
        "(known: api, auth, database, edge, payments, web)",
    ),
    "id not the file name": (
        GOOD.format(id="INC-0002").replace("{id}", "INC-0002"),
        "incidents/INC-0001.yaml:1:1: id: id 'INC-0002' does not match the file name 'INC-0001'",
    ),
    "unknown field": (
        GOOD + "sevrity: high\n",
        "incidents/INC-0001.yaml:9:1: sevrity: unknown field; did you mean 'severity'?",
    ),
    "times out of order": (
        GOOD.replace("10:04:00Z", "09:04:00Z"),
        "incidents/INC-0001.yaml:8:1: acknowledged_at: acknowledged_at is before detected_at",
    ),
    "phase without its time": (
        GOOD.replace("acknowledged_at: 2026-03-01T10:04:00Z\n", ""),
        "incidents/INC-0001.yaml:1:1: acknowledged_at: missing: an incident in phase "
        "'acknowledged' has acknowledged_at",
    ),
    "unknown person": (
        GOOD + "roles:\n  commander: mallory\n",
        "incidents/INC-0001.yaml:10:3: roles.commander: unknown person 'mallory'; "
        "add them to people in incidents.yaml",
    ),
    "unknown runbook": (
        GOOD + "runbooks: [restart-everything]\n",
        "incidents/INC-0001.yaml:9:12: runbooks[0]: no runbook runbooks/restart-everything.md",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN), ids=str)
def test_each_broken_record_gives_its_own_line(repo: Path, case: str) -> None:
    text, expected = BROKEN[case]
    if isinstance(text, str):
        text = text.replace("{id}", "INC-0001")
    write(repo, "incidents/INC-0001.yaml", text)
    result = run_cli("validate", cwd=repo)
    assert result.code == 1
    assert result.out.splitlines() == [expected]
    assert "Traceback" not in result.out + result.err


def test_two_files_with_one_id_and_all_problems_listed_sorted(repo: Path) -> None:
    write(repo, "incidents/INC-0001.yaml", GOOD.format(id="INC-0001"))
    write(repo, "incidents/INC-0001.yml", GOOD.format(id="INC-0001"))
    write(repo, "incidents/INC-0003.yaml", GOOD.format(id="INC-0003").replace("high", "urgent"))
    write(repo, "runbooks/broken.md", "no front matter here\n")
    result = run_cli("validate", cwd=repo)
    assert result.code == 1
    assert result.out.splitlines() == [
        "incidents/INC-0001.yml:1:1: id: id 'INC-0001' is also used by incidents/INC-0001.yaml",
        "incidents/INC-0003.yaml:3:1: severity: 'urgent' is not one of: critical, high, medium, low",
        "runbooks/broken.md:1:1: (file): file must start with '---' and YAML front matter",
    ]
    assert result.err.strip() == "3 problems in 3 files"


def test_formats_json_and_github(repo: Path) -> None:
    write(repo, "incidents/INC-0001.yaml", GOOD.format(id="INC-0001").replace("high", "urgent"))
    as_json = run_cli("validate", "--format", "json", cwd=repo)
    assert as_json.code == 1
    assert json.loads(as_json.out) == [
        {
            "path": "incidents/INC-0001.yaml",
            "line": 3,
            "column": 1,
            "field": "severity",
            "message": "'urgent' is not one of: critical, high, medium, low",
            "level": "error",
        }
    ]
    github = run_cli("validate", "--format", "github", cwd=repo)
    assert github.out == (
        "::error file=incidents/INC-0001.yaml,line=3,col=1,title=severity::"
        "'urgent' is not one of%3A critical, high, medium, low\n".replace("%3A", ":")
    )


def test_only_the_given_paths_are_reported(repo: Path) -> None:
    write(repo, "incidents/INC-0001.yaml", GOOD.format(id="INC-0001"))
    write(repo, "incidents/INC-0002.yaml", GOOD.format(id="INC-0002").replace("high", "urgent"))
    assert run_cli("validate", "incidents/INC-0001.yaml", cwd=repo).code == 0
    assert run_cli("validate", str(repo / "incidents/INC-0002.yaml"), cwd=repo).code == 1
    missing = run_cli("validate", "incidents/INC-0009.yaml", cwd=repo)
    assert missing.out == "incidents/INC-0009.yaml:1:1: (file): no such file\n"


def test_postmortem_and_runbook_front_matter_lines(repo: Path) -> None:
    write(repo, "incidents/INC-0001.yaml", GOOD.format(id="INC-0001"))
    write(
        repo,
        "postmortems/INC-0001.md",
        "---\nincident: INC-0009\nstatus: draft\ndue: 2026-03-03T10:00:00Z\n"
        "action_items:\n  - id: A1\n    title: Alert\n    due: 2026-03-10T00:00:00Z\n"
        "    status: open\n---\n# Postmortem\n",
    )
    result = run_cli("validate", cwd=repo)
    # the cross-file rules run only on records that follow their schema (#13)
    assert result.out.splitlines() == [
        "postmortems/INC-0001.md:6:5: action_items[0].owner: missing required field",
    ]
    write(repo, "postmortems/INC-0001.md", result_fixed := _with_owner(repo))
    assert result_fixed
    assert run_cli("validate", cwd=repo).out.splitlines() == [
        "postmortems/INC-0001.md:2:1: incident: incident 'INC-0009' does not match the file "
        "name 'INC-0001'",
        "postmortems/INC-0001.md:2:1: incident: no incident 'INC-0009' in incidents/",
    ]


def _with_owner(repo: Path) -> str:
    text = (repo / "postmortems/INC-0001.md").read_text(encoding="utf-8")
    return text.replace("    title: Alert\n", "    title: Alert\n    owner: alice\n")


def test_not_an_incident_repository(tmp_path: Path) -> None:
    result = run_cli("validate", cwd=tmp_path)
    assert result.code == 2
    assert result.err == (
        f"{tmp_path}: no incidents.yaml here or in any parent folder; "
        "run `incidents init` to make an incident repository\n"
    )


def test_bad_usage_is_one_line_and_exit_2(repo: Path) -> None:
    result = run_cli("validate", "--format", "xml", cwd=repo)
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1
    assert result.err.endswith(
        " validate: Invalid value for '--format': 'xml'; "
        "choose from text, json, github (see --help)\n"
    )


def test_broken_settings_is_a_finding(repo: Path) -> None:
    write(repo, "incidents.yaml", "title: [unclosed\n")
    result = run_cli("validate", cwd=repo)
    assert result.code == 1
    assert result.out.startswith("incidents.yaml:2:1: (file): YAML syntax error")
