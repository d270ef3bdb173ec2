"""Hostile and hurried input (issue #13, items 11-14, 18, 20, 22): a record that does not
validate is a finding, never a crash (exit 3), on every command that reads records."""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import run_cli
from .git_helpers import git

EXAMPLES = Path(__file__).parent / "examples"
INCIDENTS = str(Path(sys.executable).parent / "incidents")

# Every command that reads records, as a person or CI would run it.
READERS: list[tuple[str, ...]] = [
    ("validate",),
    ("list", "--all"),
    ("show", "INC-0042"),
    ("stats", "--since", "2026-01-01T00:00:00Z", "--until", "2026-12-31T00:00:00Z"),
    ("actions", "--as-of", "2026-06-01T00:00:00Z"),
    ("escalations", "--as-of", "2026-06-01T00:00:00Z"),
    ("oncall", "--at", "2026-03-01T10:00:00Z"),
]

FILES = {
    "incidents/INC-0042.yaml": "incident/valid/full.yaml",
    "maintenance/MNT-0001.yaml": "maintenance/valid/window.yaml",
    "oncall.yaml": "oncall/valid/two-rotations.yaml",
}


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    return lines[0]


def _front(path: Path) -> str:
    sections = ("What happened", "Why it happened", "How we responded", "What we will do")
    body = "".join(f"\n## {name}\n\nText.\n" for name in sections)
    return "---\n" + path.read_text(encoding="utf-8") + "---\n" + body


@pytest.fixture
def full(repo: Path) -> Path:
    """A repository with one record of every kind, all valid."""
    for rel, example in FILES.items():
        (repo / rel).parent.mkdir(exist_ok=True)
        shutil.copy(EXAMPLES / example, repo / rel)
    (repo / "postmortems/INC-0042.md").write_text(
        _front(EXAMPLES / "postmortem/valid/published.yaml")
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "examples")
    assert run_cli("validate", cwd=repo).code == 0
    return repo


def run_readers(repo: Path, out: Path) -> list[str]:
    """Every reading command; the ones that ended in exit 3."""
    crashed = []
    builds = [
        ("site", "build", "--out", str(out), "--as-of", moment)
        for moment in ("2026-03-01T10:30:00Z", "2026-06-01T00:00:00Z")
    ]
    for args in [*READERS, *builds]:
        result = run_cli(*args, cwd=repo)
        if result.code == 3 or result.code not in (0, 1, 2):
            crashed.append(f"{' '.join(args[:2])}: exit {result.code}: {result.err.strip()[-300:]}")
    return crashed


# --- item 11: wrong value types ------------------------------------------------------------


def _load(repo: Path, rel: str) -> tuple[Any, str]:
    text = (repo / rel).read_text(encoding="utf-8")
    if rel.endswith(".md"):
        _, front, body = text.split("---\n", 2)
        return yaml.safe_load(front), body
    return yaml.safe_load(text), ""


def _dump(repo: Path, rel: str, data: Any, body: str) -> None:
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    if rel.endswith(".md"):
        text = f"---\n{text}---\n{body}"
    (repo / rel).write_text(text, encoding="utf-8")


def _places(value: Any, where: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [where]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _places(item, (*where, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _places(item, (*where, index))
    return out


def _replace(data: Any, where: tuple[Any, ...], new: Any) -> Any:
    if not where:
        return new
    data = copy.deepcopy(data)
    parent = data
    for step in where[:-1]:
        parent = parent[step]
    parent[where[-1]] = new
    return data


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["", " ", "x", "down", "2026-13-45T99:99:99Z", "1s", "INC-0042", "../x", "-1"]),
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
MUTABLE = [*FILES, "postmortems/INC-0042.md", "incidents.yaml"]


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_reading_command_crashes_on_a_record_with_values_of_the_wrong_type(
    full: Path, tmp_path: Path, data: st.DataObject
) -> None:
    rel = data.draw(st.sampled_from(MUTABLE), label="file")
    original = (full / rel).read_bytes()
    try:
        value, body = _load(full, rel)
        where = data.draw(st.sampled_from(_places(value)), label="where")
        new = data.draw(_values, label="new value")
        _dump(full, rel, _replace(value, where, new), body)
        crashed = run_readers(full, tmp_path / "out")
        assert not crashed, (rel, where, new, crashed)
    finally:
        (full / rel).write_bytes(original)


CRASHERS = [
    ("incidents/INC-0042.yaml", "id: INC-0042", "id: [x]"),
    ("incidents/INC-0042.yaml", "components: [database, api]", "components: true"),
    ("incidents/INC-0042.yaml", "api: partial_outage}", "api: down}"),
    ("incidents.yaml", "components:\n  - id: api", "components: true\nx:\n  - id: api"),
    ("incidents.yaml", "  - handle: alice", "  - handle: {a: 1}"),
    ("maintenance/MNT-0001.yaml", "components: [database]", "components: true"),
    ("oncall.yaml", "rotations:", "rotations: 1.5\nx:"),
    ("oncall.yaml", "members: [alice, bob]", "members: ''"),
    (
        "oncall.yaml",
        "secondary: {rotation: managers}",
        "secondary: {rotation: managers, offset: x}",
    ),
    ("postmortems/INC-0042.md", "action_items:", "action_items: true\nx:"),
]


@pytest.mark.parametrize(("rel", "old", "new"), CRASHERS)
def test_known_crashers_are_findings(
    full: Path, tmp_path: Path, rel: str, old: str, new: str
) -> None:
    path = full / rel
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    assert run_cli("validate", cwd=full).code == 1
    assert run_readers(full, tmp_path / "out") == []


@pytest.mark.parametrize("text", ["- a list\n", "42\n", "just a string\n", "null\n"])
def test_show_on_a_record_that_is_not_a_mapping_is_refused(full: Path, text: str) -> None:
    (full / "incidents/INC-0042.yaml").write_text(text, encoding="utf-8")
    result = run_cli("show", "INC-0042", cwd=full)
    assert result.code == 2, result.err
    assert one_line(result.err).startswith("incidents/INC-0042.yaml:1:")
    assert run_cli("validate", cwd=full).code == 1


# --- item 12: deep nesting ---------------------------------------------------------------------


@pytest.mark.parametrize("rel", ["incidents/INC-0042.yaml", "oncall.yaml"])
def test_a_deeply_nested_record_is_a_finding(full: Path, tmp_path: Path, rel: str) -> None:
    path = full / rel
    path.write_text(path.read_text() + "deep: " + "[" * 600 + "]" * 600 + "\n")
    checked = run_cli("validate", cwd=full)
    assert checked.code == 1
    assert rel in checked.out and "nest" in checked.out
    assert run_readers(full, tmp_path / "out") == []


# --- item 13: impossible and extreme times ----------------------------------------------------


@pytest.mark.parametrize(
    "moment",
    [
        "2026-13-01T10:05:00Z",
        "2026-02-30T10:05:00Z",
        "2026-03-01T24:05:00Z",
        "2026-03-01T10:05:60Z",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
    ],
)
def test_an_impossible_or_extreme_time_is_a_finding_and_never_a_crash(
    full: Path, tmp_path: Path, moment: str
) -> None:
    path = full / "incidents/INC-0042.yaml"
    path.write_text(path.read_text().replace("- at: 2026-03-01T10:05:00Z", f"- at: '{moment}'"))
    checked = run_cli("validate", cwd=full)
    assert checked.code == 1
    assert "incidents/INC-0042.yaml:20:" in checked.out and "updates[0].at" in checked.out
    assert run_readers(full, tmp_path / "out") == []
    built = run_cli("site", "build", "--out", str(tmp_path / "s"), cwd=full)
    assert built.code == 1 and "incidents/INC-0042.yaml" in built.err


EXTREME = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0999-06-01T00:00:00Z"]
OPTIONS = [
    ("declare", "x", "--at", "{}"),
    ("update", "INC-0042", "--status", "monitoring", "--message", "m", "--eta", "{}"),
    ("list", "--as-of", "{}"),
    ("list", "--since", "{}"),
    ("show", "INC-0042", "--as-of", "{}"),
    ("actions", "--as-of", "{}"),
    ("stats", "--since", "{}"),
    ("escalations", "--as-of", "{}"),
    ("oncall", "--at", "{}"),
    ("site", "build", "--as-of", "{}"),
]


@pytest.mark.parametrize("moment", EXTREME)
@pytest.mark.parametrize("args", OPTIONS, ids=lambda a: "-".join(a[:2]))
def test_extreme_times_in_options_are_refused(
    full: Path, args: tuple[str, ...], moment: str
) -> None:
    before = git(full, "rev-parse", "HEAD")
    filled = [a.format(moment) for a in args]
    option = next(a for a in args if a.startswith("--") and args[args.index(a) + 1] == "{}")
    if filled[:2] == ["site", "build"]:
        filled += ["--out", str(full.parent / "out")]
    result = run_cli(*filled, cwd=full)
    assert result.code == 2, result.err
    assert option in one_line(result.err)
    assert git(full, "rev-parse", "HEAD") == before


def test_written_times_always_have_four_digit_years(repo: Path) -> None:
    result = run_cli("declare", "Old", "--at", "0999-06-01T00:00:00Z", "--json", cwd=repo)
    assert result.code == 2
    assert "--at" in one_line(result.err)
    # and the formatter itself always pads the year
    from datetime import UTC, datetime

    from incidents_cli.core.timeutil import format_time

    assert format_time(datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC)) == "0999-01-02T03:04:05Z"
    ok = run_cli("declare", "Old", "--at", "1999-06-01T00:00:00Z", cwd=repo)
    assert ok.code == 0


# --- item 14: on-call shift bounds -------------------------------------------------------------


@pytest.mark.parametrize("shift", ["1s", "59s", "1m", "0d"])
def test_a_tiny_shift_is_a_finding_and_export_stays_bounded(full: Path, shift: str) -> None:
    path = full / "oncall.yaml"
    path.write_text(path.read_text().replace("shift: 7d", f"shift: {shift}"))
    checked = run_cli("validate", cwd=full)
    assert checked.code == 1 and "shift" in checked.out
    started = time.monotonic()
    proc = subprocess.run(
        [INCIDENTS, "-C", str(full), "oncall", "export", "--weeks", "520"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert time.monotonic() - started < 20
    assert proc.returncode == 2, proc.stderr
    assert "oncall.yaml" in one_line(proc.stderr)


def test_an_export_of_very_many_shifts_is_refused_not_ground_through(full: Path) -> None:
    path = full / "oncall.yaml"
    path.write_text(path.read_text().replace("shift: 7d", "shift: 1h"))
    assert run_cli("validate", cwd=full).code == 0
    started = time.monotonic()
    proc = subprocess.run(
        [INCIDENTS, "-C", str(full), "oncall", "export", "--weeks", "520"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert time.monotonic() - started < 20
    assert proc.returncode == 2, proc.stderr
    assert "--weeks" in one_line(proc.stderr)


# --- item 18: custom tags on sequences and mappings --------------------------------------------


@pytest.mark.parametrize(
    "tagged",
    [
        "components: !!python/object/apply:os.system [database]",
        "components: !custom [database]",
        "roles: !!python/object:os.system {commander: alice}",
        "roles: !x {commander: alice}",
    ],
)
def test_a_tag_on_a_sequence_or_mapping_is_a_finding(full: Path, tagged: str) -> None:
    path = full / "incidents/INC-0042.yaml"
    text = path.read_text()
    key = tagged.split(":", 1)[0]
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{key}:"))
    end = start + 1
    while end < len(lines) and lines[end].startswith("  "):
        end += 1
    path.write_text("\n".join([*lines[:start], tagged, *lines[end:]]) + "\n")
    checked = run_cli("validate", cwd=full)
    assert checked.code == 1
    assert f"incidents/INC-0042.yaml:{start + 1}:" in checked.out and "tag" in checked.out


# --- item 20: validate FOLDER ---------------------------------------------------------------


@pytest.mark.parametrize("target", ["incidents", ".", "incidents/"])
def test_validate_a_folder_means_its_records(full: Path, target: str) -> None:
    path = full / "incidents/INC-0042.yaml"
    path.write_text(path.read_text().replace("severity: critical", "severity: apocalyptic"))
    checked = run_cli("validate", target, cwd=full)
    assert checked.code == 1
    assert "incidents/INC-0042.yaml" in checked.out and "severity" in checked.out


# --- item 22: terminal escapes ----------------------------------------------------------------


def test_list_and_show_print_terminal_escapes_escaped(full: Path) -> None:
    path = full / "incidents/INC-0042.yaml"
    text = path.read_text().replace(
        "title: Database unreachable", 'title: "DB \\e]0;owned\\a \\e[31mred"'
    )
    text = text.replace("text: Pool at 100%", 'text: "Pool \\e[2J\\x9b1m"')
    path.write_text(text)
    outputs = {}
    for args in (
        ("list", "--all"),
        ("show", "INC-0042"),
        ("list", "--all", "--json"),
        ("show", "INC-0042", "--json"),
        ("validate",),
    ):
        result = run_cli(*args, cwd=full)
        assert result.code in (0, 1, 2), result.err
        for raw in ("\x1b", "\x07", "\x9b"):
            assert raw not in result.out and raw not in result.err, args
        outputs[args] = result
    # such a record does not validate: validate says where, show refuses it, escaped
    assert "incidents/INC-0042.yaml:2:" in outputs[("validate",)].out
    assert "\\x1b" in outputs[("validate",)].out
    assert outputs[("show", "INC-0042")].code == 2
    assert "\\x1b" in outputs[("show", "INC-0042")].err
