"""Attack round 11 on fix10c's notify: the committed settings, read from git."""

from __future__ import annotations

import subprocess
from pathlib import Path

from .conftest import run_cli


def test_notify_reads_the_committed_settings_of_a_repository_in_a_subfolder(
    tmp_path: Path,
) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "app"], cwd=tmp_path, check=True)
    assert run_cli("init", "ops/incidents", cwd=tmp_path).code == 0
    result = run_cli("notify", "--dry-run", cwd=tmp_path / "ops" / "incidents")
    assert "not committed" not in result.err, result.err
    assert result.code == 0, result.err
