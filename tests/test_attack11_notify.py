"""Attack round 11 on fix10c's notify: the committed settings, read from git."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .conftest import run_cli


@pytest.mark.xfail(
    strict=True,
    reason="usecases/notify.py _settings_at asks file_bytes_at(commit, 'incidents.yaml'): a "
    "path from the git top, not the incident repository's folder, so notify in a repository "
    "kept in a subfolder (test_init_in_a_subfolder_of_a_repository) says it is not committed",
)
def test_notify_reads_the_committed_settings_of_a_repository_in_a_subfolder(
    tmp_path: Path,
) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "app"], cwd=tmp_path, check=True)
    assert run_cli("init", "ops/incidents", cwd=tmp_path).code == 0
    result = run_cli("notify", "--dry-run", cwd=tmp_path / "ops" / "incidents")
    assert "not committed" not in result.err, result.err
    assert result.code == 0, result.err
