"""A committed record whose file name is not UTF-8 (a copy from a Latin-1 era disk): the
reading commands name it escaped, and no cache, JSON file or page holds the name."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from .conftest import run_cli


@pytest.fixture
def latin1_repo(repo: Path) -> Path:
    assert run_cli("declare", "Checkout down", "--severity", "high", cwd=repo).code == 0
    name = os.fsencode(repo / "incidents") + b"/caf\xe9.yaml"
    with open(name, "wb") as handle:  # noqa: PTH123 - a name pathlib cannot spell
        handle.write((repo / "incidents" / "INC-0001.yaml").read_bytes())  # a valid record
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", "a file from an old disk"], cwd=repo, check=True)
    return repo


@pytest.mark.parametrize("command", [("list",), ("stats",), ("escalations",), ("validate",)])
def test_reading_commands_name_it_escaped(latin1_repo: Path, command: tuple[str, ...]) -> None:
    for _ in range(2):  # cold, then from the caches
        result = run_cli(*command, cwd=latin1_repo)
        assert result.code in (0, 1), result.err
        assert "caf\\xe9.yaml" in result.out + result.err, result.err
        assert "\udce9" not in result.out + result.err, result.err


def test_validate_json_names_it_escaped(latin1_repo: Path) -> None:
    result = run_cli("validate", "--format", "json", cwd=latin1_repo)
    assert result.code == 1, result.err
    assert [f["path"] for f in json.loads(result.out)] == ["incidents/caf\\xe9.yaml"]


def test_no_cache_or_page_holds_the_name(latin1_repo: Path) -> None:
    for command in [("validate",), ("site", "build"), ("list",), ("stats",), ("escalations",)]:
        for _ in range(2):
            assert run_cli(*command, cwd=latin1_repo).code in (0, 1), command
    for folder in (latin1_repo / ".git" / "incidents-cache", latin1_repo / "_site"):
        for path in folder.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                assert b"\\udce9" not in data and b"caf\xe9" not in data, path
