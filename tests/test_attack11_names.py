"""Attack round 11 on fix10b: git's output read with surrogateescape, names not in UTF-8
inside the repository (not only in the folder above it)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from .conftest import run_cli


def _commit_latin1_name(repo: Path, folder: str) -> None:
    """A file whose name is Latin-1 bytes (a copy from an old disk), committed with git."""
    name = os.fsencode(repo / folder) + b"/caf\xe9.yaml"
    with open(name, "wb") as handle:  # noqa: PTH123 - a name pathlib cannot spell
        handle.write(b"id: INC-0009\ntitle: x\n")
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-qm", "a file from an old disk"], cwd=repo, check=True)


@pytest.mark.parametrize("command", [("validate",), ("site", "build")])
def test_a_record_named_in_latin1_is_a_finding_not_a_bug(
    repo: Path, command: tuple[str, ...]
) -> None:
    assert run_cli("declare", "Checkout down", "--severity", "high", cwd=repo).code == 0
    _commit_latin1_name(repo, "incidents")
    result = run_cli(*command, cwd=repo)
    assert result.code == 1, result.err
    # validate prints its findings on stdout; site build names what it left out on stderr
    assert "caf\\xe9.yaml" in result.out + result.err, result.err
    assert "\udce9" not in result.out + result.err, result.err
