"""atk7's attacks on main (sixth session, second round): each test proves a defect and is
marked xfail(strict=True) until it is fixed. Real repositories, the installed console script
(run as a person runs it: no INCIDENTS_RAISE_BUGS; the test's own home, read when the test
runs), no mocks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .test_trust_git import git

SCRIPT = Path(sys.executable).with_name("incidents")


def _env(**extra: str) -> dict[str, str]:
    """The environment of a subprocess, read now (conftest gives each test its own home)."""
    return {**{k: v for k, v in os.environ.items() if k != "INCIDENTS_RAISE_BUGS"}, **extra}


def _incidents(
    repo: Path, *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), "-C", str(repo), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=_env(),
        check=False,
        timeout=120,
    )


# ---- site build: an --out inside the repository is never led out of it by a link ---------


@pytest.mark.xfail(
    strict=True,
    reason="atk7: --out LINK/../x passes the lexical check but the OS follows LINK out",
)
def test_an_out_with_dot_dot_after_a_committed_symlink_stays_in_the_repository(
    repo: Path, tmp_path: Path
) -> None:
    """`_refuse_links_out_of` normalises --out with os.path.abspath, which drops `docs/..`
    without looking; the build then resolves the path as the kernel does, through the
    committed link `docs` (to a folder outside), and `..` is taken from there. A site meant
    for `<repo>/site2` is written to a folder the repository's link picked."""
    outside = tmp_path / "outside" / "deep"
    outside.mkdir(parents=True)
    (repo / "docs").symlink_to(outside)
    git(repo, "add", "docs")
    git(repo, "commit", "-qm", "a link someone committed")
    done = _incidents(repo, "site", "build", "--out", "docs/../site2")
    assert not (tmp_path / "outside" / "site2").exists(), done.stdout
    assert done.returncode == 2 or (repo / "site2" / "index.html").is_file(), done.stderr
