"""Attack round 11 on fix10c's PlacePath: a relative path is taken from the -C folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import run_cli


def test_site_build_out_is_checked_under_dash_c_not_where_it_was_started(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "_site").write_text("a file that is not the repository's\n", encoding="utf-8")
    monkeypatch.chdir(elsewhere)
    built = run_cli("site", "build", cwd=repo)  # --out _site, under -C
    assert built.code == 0, built.err
    assert (repo / "_site" / "index.html").is_file()


def test_init_folder_is_checked_under_dash_c_not_where_it_was_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, elsewhere = tmp_path / "base", tmp_path / "elsewhere"
    base.mkdir()
    elsewhere.mkdir()
    (elsewhere / "status").write_text("notes\n", encoding="utf-8")
    monkeypatch.chdir(elsewhere)
    made = run_cli("-C", str(base), "init", "status")
    assert made.code == 0, made.err
    assert (base / "status" / "incidents.yaml").is_file()


def test_init_refuses_a_folder_inside_a_git_folder_kept_apart(tmp_path: Path) -> None:
    import subprocess

    gitdir, work = tmp_path / "store", tmp_path / "work"
    subprocess.run(["git", "init", "-q", f"--separate-git-dir={gitdir}", str(work)], check=True)
    made = run_cli("init", str(gitdir / "info" / "status"))
    assert made.code == 2, made.out
    assert "git's own folder" in made.err, made.err
    assert not (gitdir / "info" / "status" / "incidents.yaml").exists()
