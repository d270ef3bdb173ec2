"""Attack round 10 on the command line's own input: arguments that are not UTF-8."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import git
import pytest

from .conftest import run_cli
from .console_helpers import SCRIPT, person_env


@pytest.mark.xfail(
    strict=True,
    reason="an argument that is not UTF-8 (a Latin-1 terminal) is reported as a YAML syntax "
    "error of the incident's own file, which the person then goes to repair",
)
def test_a_note_that_is_not_utf8_is_named_as_the_argument(repo: Path) -> None:
    declared = run_cli("declare", "Checkout down", "--severity", "high", cwd=repo)
    assert declared.code == 0, declared.err
    head = git.Repo(repo).head.commit
    result = subprocess.run(
        [os.fsencode(SCRIPT), b"-C", os.fsencode(repo), b"note", b"INC-0001", b"caf\xe9 down"],
        capture_output=True,
        env=person_env(),
        check=False,
        timeout=120,
    )
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2, err
    assert "YAML syntax error" not in err and "INC-0001.yaml" not in err, err
    assert git.Repo(repo).head.commit == head
    assert run_cli("validate", cwd=repo).code == 0


@pytest.mark.xfail(
    strict=True,
    reason="bidi override controls (U+202E, U+2066) pass as text: a public title can be "
    "made to read backwards on terminals, git log, the status page and mail subjects",
)
@pytest.mark.parametrize("control", ["\u202e", "\u2066"])
def test_a_title_with_a_bidi_override_is_refused(repo: Path, control: str) -> None:
    head = git.Repo(repo).head.commit
    result = run_cli("declare", f"Pay{control}tnemyap down", "--severity", "low", cwd=repo)
    assert result.code == 2, result.out
    assert result.err.startswith("title: "), result.err
    assert git.Repo(repo).head.commit == head


@pytest.mark.xfail(
    strict=True,
    reason="a region with a line break passes (no pattern in the schema, unlike component "
    "ids): `show` and `list`-style one-line output is split, and an alert label can bring it",
)
def test_a_region_with_a_line_break_is_refused(repo: Path) -> None:
    head = git.Repo(repo).head.commit
    result = run_cli("declare", "Checkout down", "--region", "eu\nwest", cwd=repo)
    assert result.code == 2, result.out
    assert "region" in result.err, result.err
    assert git.Repo(repo).head.commit == head
