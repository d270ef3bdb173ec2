"""A plain `pip install .` into a new virtual environment finds all its data, from anywhere.

This runs the README's first command exactly as written, in a clean copy of the source.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```sh\n(.*?)\n```", text, flags=re.S)


def _clean_copy(target: Path) -> None:
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for rel in filter(None, files):
        source = ROOT / rel
        if source.is_file():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / rel)
    # A git work tree with the project's .gitignore, as a newcomer's clone is.
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "snapshot"]):
        subprocess.run(["git", *args], cwd=target, check=True, capture_output=True)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(sys.prefix)
    )
    return env


def test_readme_first_command_installs_and_runs_from_a_clean_copy(tmp_path: Path) -> None:
    commands = _readme_commands()
    assert len(commands) >= 2, "the README opens with two commands"
    assert (ROOT / ".ci" / "run").read_text().count(commands[1]) == 1, (
        ".ci/run runs the README's test command exactly"
    )
    source = tmp_path / "src"
    _clean_copy(source)
    result = subprocess.run(
        ["bash", "-c", commands[0]],
        cwd=source,
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    index = Path(result.stdout.strip().splitlines()[-1])
    assert index == source / "incidents-demo" / "_site" / "index.html"
    assert "Card payments failing" in index.read_text()
    venv = source / ".venv"
    python = venv / "bin" / "python"
    incidents = venv / "bin" / "incidents"

    # The package is installed, not linked to the source folder.
    where = subprocess.run(
        [
            str(python),
            "-c",
            "import incidents_cli.store.resources as r; "
            "print(*(r.data_dir(k) for k in "
            "('schemas', 'templates', 'runbooks', 'workflows', 'locales')))",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        env=_env(),
    ).stdout.split()
    for folder in where:
        assert "site-packages" in folder, folder
        assert any(Path(folder).iterdir())

    # From another folder, with the source tree gone: init, validate, --version, -m.
    shutil.rmtree(source / "incidents_cli")
    shutil.rmtree(source / "schemas")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = subprocess.run(
        ["bash", "-c", f"{incidents} init x && {incidents} -C x validate"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=False,
        env=_env(),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    log = subprocess.run(
        ["git", "-C", "x", "rev-list", "--count", "HEAD"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=True,
    )
    assert log.stdout.strip() == "1"
    assert (elsewhere / "x" / ".github/workflows/incidents-check.yml").is_file()
    # The CLI that init keeps for CI is rebuilt from the installed package: the same files
    # as this source gives (see tests/test_ci.py), and installable.
    import io
    import zipfile

    from incidents_cli.store.cli_wheel import build_cli_wheel

    kept = zipfile.ZipFile(elsewhere / "x" / ".incidents" / "incidents-0.1.0-py3-none-any.whl")
    ours = zipfile.ZipFile(io.BytesIO(build_cli_wheel().data))
    assert sorted(kept.namelist()) == sorted(ours.namelist())
    package = [n for n in ours.namelist() if n.startswith("incidents_cli/")]
    assert [n for n in package if kept.read(n) != ours.read(n)] == []
    version = subprocess.run(
        [str(incidents), "--version"], capture_output=True, text=True, check=True, cwd=elsewhere
    )
    assert version.stdout.startswith("incidents, version ")
    # The console script leaves with os._exit: its output is complete and its exit codes
    # are the documented ones (2 refused, 1 findings), with one line on stderr.
    refused = subprocess.run(
        [str(incidents), "-C", "x", "ack", "INC-0404"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=False,
        env=_env(),
    )
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1 and "INC-0404" in refused.stderr
    (elsewhere / "x" / "incidents" / "INC-0001.yaml").write_text("id: INC-0001\ntitle: [\n")
    found = subprocess.run(
        [str(incidents), "-C", "x", "validate", "--format", "json"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=False,
        env=_env(),
    )
    assert found.returncode == 1, found.stderr
    assert json.loads(found.stdout)[0]["path"] == "incidents/INC-0001.yaml"
    module = subprocess.run(
        [str(python), "-m", "incidents_cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
        cwd=elsewhere,
    )
    assert "Usage:" in module.stdout


@pytest.mark.parametrize("command", ["init", "validate", "demo", "site", "site build"])
def test_every_command_has_help(command: str) -> None:
    from .conftest import run_cli

    result = run_cli(*command.split(), "--help")
    assert result.code == 0 and "Usage:" in result.out
