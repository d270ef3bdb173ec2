"""Attack round 10: repositories in folders whose names are not UTF-8 (a Latin-1 era disk,
a name made by another program). Working there, or refusing in one line as for a line
break in the path, are both fine; exit 3 is not."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from .conftest import run_cli
from .console_helpers import SCRIPT, person_env

LATIN1 = os.fsdecode(b"caf\xe9")  # a surrogate-escaped name, as Python sees it


def _script(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        errors="surrogateescape",  # the output may name the folder, in its own bytes
        # stdout strict, as in most UTF-8 locales (C.UTF-8 makes Python's stdout lenient)
        env=person_env(PYTHONIOENCODING="utf-8:strict"),
        check=False,
        timeout=120,
    )


def _head(folder: Path) -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.mark.parametrize(
    "args",
    [
        ("note", "INC-0001", "hello"),
        (
            "maintenance",
            "new",
            "W",
            "--start",
            "2030-01-01T10:00",
            "--end",
            "2030-01-01T11:00",
            "--component",
            "api",
        ),
        ("site", "build"),
        ("notify", "--dry-run"),
    ],
    ids=["note", "maintenance-new", "site-build", "notify"],
)
def test_a_repository_in_a_folder_not_named_in_utf8_is_no_bug(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    seed = tmp_path / "seed"
    assert run_cli("init", str(seed)).code == 0
    assert run_cli("declare", "Checkout down", "--severity", "high", cwd=seed).code == 0
    folder = tmp_path / LATIN1
    subprocess.run(["git", "clone", "-q", str(seed), os.fsencode(folder)], check=True)
    head = _head(folder)
    result = _script(folder, *args)
    assert "unexpected error" not in result.stderr, result.stderr
    assert result.returncode in (0, 2), result.stderr
    if result.returncode == 2:
        assert len(result.stderr.splitlines()) == 1, result.stderr
        assert _head(folder) == head


def test_init_into_a_folder_not_named_in_utf8_works_or_makes_nothing(tmp_path: Path) -> None:
    result = _script(tmp_path, "init", LATIN1)
    folder = tmp_path / LATIN1
    assert "unexpected error" not in result.stderr, result.stderr
    assert result.returncode in (0, 2), result.stderr
    if result.returncode == 2:
        assert not (folder / ".git").exists()
    else:
        assert _head(folder)


def test_init_refused_by_an_ignore_rule_leaves_the_index_as_it_was(tmp_path: Path) -> None:
    folder = tmp_path / "existing"
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    (folder / ".gitignore").write_text("*.yaml\n")
    subprocess.run(["git", "add", ".gitignore"], cwd=folder, check=True)
    subprocess.run(["git", "commit", "-qm", "base"], cwd=folder, check=True)
    result = run_cli("init", str(folder))
    assert result.code == 2, result.out
    assert "incidents.yaml is ignored by git" in result.err
    listed = subprocess.run(
        ["git", "ls-files"], cwd=folder, capture_output=True, text=True, check=True
    ).stdout
    assert listed == ".gitignore\n"
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert status == ""


@pytest.mark.parametrize("case", ["under-a-file", "a-device", "a-name-too-long"])
def test_init_where_no_folder_can_be_made_is_one_line(tmp_path: Path, case: str) -> None:
    (tmp_path / "notes.txt").write_text("a person's file\n")
    target = {
        "under-a-file": "notes.txt/repo",
        "a-device": "/dev/null",
        "a-name-too-long": "x" * 300,
    }[case]
    result = _script(tmp_path, "init", target)
    assert "unexpected error" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert (tmp_path / "notes.txt").read_text() == "a person's file\n"


@pytest.mark.parametrize("inside", [".git", ".git/incidents"])
def test_init_inside_a_git_folder_is_refused(tmp_path: Path, inside: str) -> None:
    existing = tmp_path / "existing"
    assert run_cli("init", str(existing)).code == 0
    before = sorted(p.name for p in (existing / ".git").iterdir())
    result = _script(tmp_path, "init", str(existing / inside))
    assert result.returncode == 2, result.stdout
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert sorted(p.name for p in (existing / ".git").iterdir()) == before


LONG = "x" * 300  # one path component past NAME_MAX (255)


def _rotation(repo: Path) -> None:
    (repo / "oncall.yaml").write_text(
        "rotations:\n  - id: primary\n    members: [alice, bob]\n"
        "    start: 2026-01-05T09:00:00Z\n    shift: 7d\n"
    )
    subprocess.run(["git", "commit", "-qam", "a rotation"], cwd=repo, check=True)


@pytest.mark.parametrize(
    "args",
    [
        ("-C", LONG, "list"),
        ("validate", LONG),
        ("site", "build", "--out", LONG),
        ("init", f"new/{LONG}"),  # under a folder still to be made
        ("oncall", "export", "--out", LONG),
        ("demo", LONG),
    ],
    ids=["-C", "validate", "site-build", "init-under-a-new-folder", "oncall-export", "demo"],
)
def test_a_path_with_a_name_too_long_is_one_line(repo: Path, args: tuple[str, ...]) -> None:
    _rotation(repo)
    result = _script(repo, *args)
    assert "unexpected error" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert not (repo / "new").exists()  # refused before anything is made


def test_oncall_export_out_to_a_device_is_one_line(repo: Path) -> None:
    _rotation(repo)
    result = _script(repo, "oncall", "export", "--out", "/dev/null")
    assert "unexpected error" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stderr
