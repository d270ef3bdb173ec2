"""The shipped schemas: meta-schema valid, and each example file as its own test case."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from incidents_cli.core.records import RecordFile
from incidents_cli.store import yamlio
from incidents_cli.store.schemas import metaschema_problems, schema, schema_findings

from .conftest import ROOT

EXAMPLES = Path(__file__).parent / "examples"
KINDS = ["incident", "postmortem", "runbook", "settings", "oncall", "maintenance"]


def _examples(validity: str) -> list[tuple[str, Path]]:
    return [
        (kind, path)
        for kind in KINDS
        for path in sorted((EXAMPLES / kind / validity).glob("*.yaml"))
    ]


def _id(case: tuple[str, Path]) -> str:
    return f"{case[0]}/{case[1].name}"


@pytest.mark.parametrize("kind", KINDS)
def test_schema_is_valid_2020_12(kind: str) -> None:
    assert metaschema_problems(kind) == []
    loaded = schema(kind)
    assert loaded["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert loaded["$id"].endswith(f"/{kind}.schema.json")
    assert loaded["title"]


def _walk_properties(node: object, where: str = "") -> list[str]:
    missing: list[str] = []
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            if "description" not in sub:
                missing.append(f"{where}.{name}")
        for key, value in node.items():
            missing.extend(_walk_properties(value, f"{where}.{key}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            missing.extend(_walk_properties(value, f"{where}[{index}]"))
    return missing


@pytest.mark.parametrize("kind", KINDS)
def test_every_property_has_a_description_and_objects_are_closed(kind: str) -> None:
    loaded = schema(kind)
    assert _walk_properties(loaded) == []
    closed: list[bool] = []

    def visit(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                closed.append(node.get("additionalProperties") is False)
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(loaded)
    assert closed and all(closed)


def _record(kind: str, path: Path) -> RecordFile:
    return RecordFile(kind, path.name, yamlio.load(path, path.name))


@pytest.mark.parametrize("case", _examples("valid"), ids=_id)
def test_valid_example(case: tuple[str, Path]) -> None:
    kind, path = case
    assert schema_findings(_record(kind, path)) == []


@pytest.mark.parametrize("case", _examples("invalid"), ids=_id)
def test_invalid_example(case: tuple[str, Path]) -> None:
    kind, path = case
    findings = schema_findings(_record(kind, path))
    assert findings, f"{path} should be invalid"
    for finding in findings:
        assert finding.line >= 1 and finding.message


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("9999-12-30", "'9999-12-30' is out of range (years 1970 to 2999)"),
        ("1969-12-31", "'1969-12-31' is out of range (years 1970 to 2999)"),
        ("2026-02-30", "'2026-02-30' is not a valid date: day is out of range for month"),
    ],
)
def test_a_date_is_bounded_like_a_stored_time_and_said_at_its_place(day: str, message: str) -> None:
    """A plain date (a review's) in the years a stored time may have: one near the end of
    the calendar validated, and adding the review interval to it overflowed."""
    from incidents_cli.store.schemas import is_valid

    text = f"title: TLS\nowner: carol\nlast_reviewed: {day}\nreview_every: 90\n"
    record = RecordFile("runbook", "r.md", yamlio.parse(text, "r.md"))
    findings = schema_findings(record)
    assert [(f.line, f.field, f.message) for f in findings] == [(3, "last_reviewed", message)]
    assert not is_valid("runbook", record.doc.data if record.doc else None)
    fine = RecordFile("runbook", "r.md", yamlio.parse(text.replace(day, "2999-12-31"), "r.md"))
    assert schema_findings(fine) == []


def _check_jsonschema() -> list[str]:
    exe = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.fail("check-jsonschema is part of the test extras; install '.[test]'")
    return [exe]


@pytest.mark.parametrize("kind", KINDS)
def test_check_jsonschema_agrees(kind: str) -> None:
    """An independent validator accepts the valid examples and rejects each invalid one."""
    schemafile = ROOT / "schemas" / f"{kind}.schema.json"
    valid = sorted((EXAMPLES / kind / "valid").glob("*.yaml"))
    result = subprocess.run(
        [*_check_jsonschema(), "--schemafile", str(schemafile), *map(str, valid)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for invalid in sorted((EXAMPLES / kind / "invalid").glob("*.yaml")):
        result = subprocess.run(
            [*_check_jsonschema(), "--schemafile", str(schemafile), str(invalid)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 1, f"check-jsonschema accepted {invalid.name}"


@pytest.mark.parametrize("case", _examples("valid") + _examples("invalid"), ids=_id)
def test_fast_path_agrees_with_jsonschema(case: tuple[str, Path]) -> None:
    """The compiled fast validator and jsonschema give the same verdict on every example."""
    from jsonschema import Draft202012Validator

    from incidents_cli.store.schemas import is_valid

    kind, path = case
    data = _record(kind, path).data
    assert is_valid(kind, data) == Draft202012Validator(schema(kind)).is_valid(data)


def test_compiled_validators_are_cached_as_bytecode_and_survive_a_bad_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from incidents_cli.store import schemas as validation

    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    valid = _record(
        "incident", next(iter(sorted((EXAMPLES / "incident" / "valid").glob("*.yaml"))))
    )
    invalid = {"id": "INC-0001"}
    validation._fast.cache_clear()
    assert validation.is_valid("incident", valid.data)
    (stored,) = (cache / "incidents" / "validators").glob("incident_*.bin")
    assert stored.name.endswith(f".{sys.implementation.cache_tag}.bin")
    folders = cache / "incidents" / "validators"
    (folders / "incident_old.py").write_text("stale = 1\n")
    unused = time.time() - validation.STALE_VALIDATOR_SECONDS - 60
    os.utime(folders / "incident_old.py", (unused, unused))
    # another install's validator, in use: kept (each build would recompile on every run)
    other = folders / f"incident_0ther000-0.{sys.implementation.cache_tag}.bin"
    other.write_bytes(stored.read_bytes())
    import marshal

    for damage in (b"", b"\x00garbage", stored.read_bytes()[:40], marshal.dumps(42)):
        stored.write_bytes(damage)
        validation._fast.cache_clear()
        assert validation.is_valid("incident", valid.data)
        assert not validation.is_valid("incident", invalid)
    # a rewritten cache replaces the damaged one, and long unused validators are gone
    assert sorted(p.name for p in stored.parent.iterdir()) == sorted([stored.name, other.name])
    # no usable cache folder at all: still validates
    (tmp_path / "not-a-folder").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "not-a-folder"))
    validation._fast.cache_clear()
    assert validation.is_valid("incident", valid.data)
    assert not validation.is_valid("incident", invalid)
    validation._fast.cache_clear()


@pytest.mark.parametrize(
    "title", ["1969-07-20", "2026-11-28 14:00 checkout down", "9999-12-30T00:00:00Z"]
)
def test_times_and_dates_are_checked_where_the_schema_says_so_never_in_free_text(
    title: str,
) -> None:
    """A title (free text) that reads like an old date or a time is free text; the same
    value in a field the schema marks as a time (or a time or a date) is a finding there."""
    from incidents_cli.store.schemas import is_valid

    text = (EXAMPLES / "incident" / "valid" / "minimal.yaml").read_text(encoding="utf-8")
    titled = text.replace("title: Checkout slow", f"title: '{title}'")
    record = RecordFile("incident", "i.yaml", yamlio.parse(titled, "i.yaml"))
    assert schema_findings(record) == []
    assert is_valid("incident", record.doc.data if record.doc else None)
    old = text.replace("2026-03-01T10:00:00+02:00", "1969-07-20T10:00:00Z")
    record = RecordFile("incident", "i.yaml", yamlio.parse(old, "i.yaml"))
    assert [(f.field, f.message) for f in schema_findings(record)] == [
        ("detected_at", "'1969-07-20T10:00:00Z' is out of range (years 1970 to 2999)")
    ]
    due = (EXAMPLES / "postmortem" / "valid" / "published.yaml").read_text(encoding="utf-8")
    late = due.replace("    due: 2026-03-20T00:00:00Z", "    due: 9999-12-30")
    assert late != due
    record = RecordFile("postmortem", "p.yaml", yamlio.parse(late, "p.yaml"))
    assert [(f.field, f.message) for f in schema_findings(record)] == [
        ("action_items[0].due", "'9999-12-30' is out of range (years 1970 to 2999)")
    ]
