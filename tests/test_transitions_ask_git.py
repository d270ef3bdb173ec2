"""Where only git knows the answer, a transition asks git. Written against a faster path
(HEAD and file states read from git's files instead of `git rev-parse` and `git status`,
tool_key from the wheel's RECORD) that answered otherwise than git in each of these cases;
that path was not merged, and these keep any later one honest."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
from pathlib import Path

import pytest

from .conftest import ROOT, run_cli
from .git_helpers import git

RECORD = "incidents/INC-0001.yaml"


def _declared(repo: Path) -> Path:
    assert run_cli("declare", "Checkout down", "--by", "ana", cwd=repo).code == 0
    return repo / RECORD


def test_a_repository_whose_config_says_bare_without_an_equals_sign_is_refused_as_no_work_tree(
    repo: Path,
) -> None:
    """`[core] bare` alone means true to git (so does `[core] bare = true` on the section's
    line): git sees no work tree here, and main said so; the quick discovery took it for a
    plain work tree and failed later with git's own words about a mixed reset."""
    _declared(repo)
    config = repo / ".git" / "config"
    config.write_text(config.read_text(encoding="utf-8") + "[core]\n\tbare\n", encoding="utf-8")
    head = git(repo, "rev-parse", "HEAD")
    done = run_cli("ack", "1", "--severity", "high", "--by", "ana", cwd=repo)
    assert done.code == 2
    assert "not a git repository" in done.err, done.err
    assert "reset" not in done.err
    assert git(repo, "rev-parse", "HEAD") == head


def test_a_record_git_sees_modified_by_a_line_ending_rule_is_refused_not_renormalized_into_the_commit(
    repo: Path,
) -> None:
    """HEAD holds the record with CRLF line ends; a `text` rule added since makes git see the
    touched file as modified (a renormalization the person has not committed). main refused
    it as uncommitted changes; the quick path saw bytes equal to HEAD's blob and folded the
    whole file's line-end change into the transition's commit."""
    path = _declared(repo)
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    git(repo, "commit", "-q", "-am", "CRLF line ends")
    (repo / ".gitattributes").write_text("*.yaml text\n", encoding="utf-8")
    git(repo, "add", ".gitattributes")
    git(repo, "commit", "-q", "-m", "normalize yaml")
    os.utime(path)  # saved again with the same bytes: git looks at the file's content
    assert git(repo, "status", "--porcelain", "--", RECORD) == f"M {RECORD}"
    head = git(repo, "rev-parse", "HEAD")
    done = run_cli("ack", "1", "--severity", "high", "--by", "ana", cwd=repo)
    assert done.code == 2 and f"{RECORD} has uncommitted changes" in done.err, done.out
    assert git(repo, "rev-parse", "HEAD") == head


def test_tool_key_changes_when_an_installed_module_is_edited_after_installation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An installed copy of the package with the RECORD an installer writes (every file with
    its SHA-256). A module edited in place afterwards (a hand hot-fix) leaves RECORD as it
    was: tool_key must still change, or caches written by the old code are read as current
    and the fix does not take effect."""
    from incidents_cli import __version__
    from incidents_cli.store import resources

    site = tmp_path / "site-packages"
    shutil.copytree(
        ROOT / "incidents_cli", site / "incidents_cli", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(ROOT / "schemas", site / "incidents_cli" / "_data" / "schemas")
    lines = []
    for file in sorted(p for p in (site / "incidents_cli").rglob("*") if p.is_file()):
        data = file.read_bytes()
        hashed = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        lines.append(f"{file.relative_to(site).as_posix()},sha256={hashed},{len(data)}\n")
    info = site / f"incidents-{__version__}.dist-info"
    info.mkdir()
    lines.append(f"{info.name}/RECORD,,\n")
    (info / "RECORD").write_text("".join(lines), encoding="utf-8")
    monkeypatch.setattr(resources, "_PACKAGE", site / "incidents_cli")
    digest = resources.code_digest.__wrapped__  # type: ignore[attr-defined]
    before = digest()
    module = site / "incidents_cli" / "core" / "lifecycle.py"
    module.write_text(module.read_text(encoding="utf-8") + "\nHOT_FIX = True\n", encoding="utf-8")
    assert digest() != before


def test_a_repository_this_git_cannot_read_is_refused_as_main_refused_it(repo: Path) -> None:
    """A repository with an extension this git does not know (made by a newer git: reftable
    refs, say): git refuses it, and main said it is not a repository it can use; the quick
    discovery took it as plain and reported git's `git diff failed: error: unknown option
    \\`cached'`."""
    _declared(repo)
    git(repo, "config", "core.repositoryformatversion", "1")
    git(repo, "config", "extensions.frobnicate", "true")
    done = run_cli("ack", "1", "--severity", "high", "--by", "ana", cwd=repo)
    assert done.code == 2
    assert "not a git repository" in done.err, done.err


def test_an_empty_but_set_git_dir_is_refused_as_main_refused_it(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`GIT_DIR=` (set, empty): git takes it as given and finds no repository; main said so.
    The quick discovery reads an empty variable as unset, goes ahead, and reports git's
    `git diff failed: error: unknown option \\`cached'`."""
    import incidents_cli.store.git as gitrepo

    _declared(repo)
    monkeypatch.setenv("GIT_DIR", "")
    monkeypatch.setattr(gitrepo, "_ENV", None)
    done = run_cli("ack", "1", "--severity", "high", "--by", "ana", cwd=repo)
    assert done.code == 2
    assert "not a git repository" in done.err, done.err
