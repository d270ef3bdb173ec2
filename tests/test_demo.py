"""`incidents demo` through the CLI: a real repository, real commits, a real site."""

from __future__ import annotations

import subprocess
from pathlib import Path

import git

from .conftest import run_cli


def test_demo_walks_every_phase_and_builds_the_site(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    result = run_cli("demo", str(folder))
    assert result.code == 0, result.err
    assert result.out.strip().splitlines()[-1] == str(folder / "_site" / "index.html")
    assert run_cli("validate", cwd=folder).code == 0
    repo = git.Repo(folder)
    assert not repo.is_dirty(untracked_files=True) or repo.untracked_files == []
    trailers = subprocess.run(
        ["git", "log", "--format=%(trailers:key=Phase,valueonly)"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for phase in ("detected", "acknowledged", "investigating", "resolved", "postmortem", "closed"):
        assert phase in trailers, phase
    listing = run_cli("list", "--all", "--json", cwd=folder).out
    assert '"phase": "closed"' in listing and '"phase": "investigating"' in listing
    index = (folder / "_site" / "index.html").read_text()
    assert "Partial System Outage" in index
    assert "Primary database upgrade to PostgreSQL 17" in index


def test_demo_refuses_a_folder_with_files(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep\n")
    result = run_cli("demo", str(tmp_path))
    assert result.code == 2
    assert "exists and is not empty" in result.err
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]
