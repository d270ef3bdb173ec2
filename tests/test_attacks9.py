"""atk9's attacks on main (sixth session, fourth round): each test proves a defect and is
marked xfail(strict=True) until it is fixed. Real repositories, the installed console script
(run as a person runs it), no mocks."""

from __future__ import annotations

from pathlib import Path

import pytest

from .console_helpers import run_script
from .test_trust_git import git

# ---- site build --out: the repository seen from one of its linked worktrees ---------------


@pytest.mark.xfail(
    strict=True,
    reason="atk9: --out the main worktree from a linked worktree replaces the repository",
)
def test_a_linked_worktree_never_builds_over_its_main_worktree(repo: Path, tmp_path: Path) -> None:
    """`_refuse_over_the_repository` compares --out with the work tree the command runs in
    (``home``) only. From a linked worktree, the main worktree is the same repository (its
    .git holds the linked one's HEAD, index and objects) but another folder: with a marker
    someone committed, `site build --out <main worktree>` swaps it for the site, exit 0:
    incidents.yaml, the records, .git/HEAD, config, index and worktrees/ are deleted (only
    objects/ and refs/ are left), and the linked worktree is no longer a git repository."""
    (repo / ".incidents-site").write_text("{}\n", encoding="utf-8")
    git(repo, "add", ".incidents-site")
    git(repo, "commit", "-qm", "a marker someone committed")
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", str(linked))
    built = run_script(linked, "site", "build", "--out", str(repo))
    assert (repo / "incidents.yaml").is_file(), built.stdout
    assert (repo / ".git" / "HEAD").is_file(), built.stdout
    assert built.returncode == 2, built.stdout
