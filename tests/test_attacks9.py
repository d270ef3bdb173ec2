"""atk9's attacks on main (sixth session, fourth round): each test proves a defect and is
marked xfail(strict=True) until it is fixed. Real repositories, the installed console script
(run as a person runs it), no mocks."""

from __future__ import annotations

from pathlib import Path

from .conftest import run_cli
from .console_helpers import run_script
from .test_trust_git import git

# ---- site build --out: the repository seen from one of its linked worktrees ---------------


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


# ---- transitions: success judged by HEAD's tree (`Repo.head_as`, git diff-tree) ------------


def _post_commit_hook(repo: Path, body: str) -> None:
    """A post-commit hook that runs ``body`` once (not for the commit it makes itself)."""
    hook = repo / ".git" / "hooks" / "post-commit"
    hook.write_text(f'#!/bin/sh\nif [ -z "$ATK9_IN" ]; then\n{body}\nfi\n', encoding="utf-8")
    hook.chmod(0o755)


def test_a_hook_changing_only_the_records_mode_is_not_a_failure(repo: Path) -> None:
    """`git diff-tree --quiet` compares modes as well as blobs: a post-commit hook that
    commits only `chmod +x` of the record on top leaves HEAD's record with our bytes (the
    note is there), yet the command says 'git made commit ..., but HEAD does not hold this
    change' (exit 2). A person retrying adds the note twice."""
    declared = run_script(repo, "declare", "db down", "--component", "api")
    assert declared.returncode == 0, declared.stderr
    _post_commit_hook(
        repo,
        "export ATK9_IN=1\n"
        "git update-index --chmod=+x incidents/INC-0001.yaml\n"
        "chmod +x incidents/INC-0001.yaml\n"
        "git commit -qm 'mode only'",
    )
    noted = run_script(repo, "note", "INC-0001", "a private note")
    assert "a private note" in git(repo, "show", "HEAD:incidents/INC-0001.yaml")
    assert git(repo, "log", "-1", "--format=%s") == "mode only"
    assert noted.returncode == 0, noted.stderr


# ---- transitions: paths given to git as pathspecs (globs), not literally -------------------


def test_a_runbook_whose_name_is_a_glob_never_stages_another_file(repo: Path) -> None:
    """Paths reach git as pathspecs without GIT_LITERAL_PATHSPECS (or `:(literal)`): a
    runbook file someone committed as `runbooks/[ab].md` is also the glob of
    `runbooks/a.md`. `runbook reviewed '[ab]'` commits only its own file, but leaves the
    person's unstaged edit of runbooks/a.md staged (`M ` where it was ` M`): the index is
    not as it was."""
    source = (repo / "runbooks" / "expired-tls-certificate.md").read_text(encoding="utf-8")
    (repo / "runbooks" / "[ab].md").write_text(source, encoding="utf-8")
    (repo / "runbooks" / "a.md").write_text(source, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "two runbooks")
    with (repo / "runbooks" / "a.md").open("a", encoding="utf-8") as handle:
        handle.write("my edit, not staged\n")
    assert git(repo, "status", "--porcelain") == "M runbooks/a.md"
    reviewed = run_script(repo, "runbook", "reviewed", "[ab]", "--at", "2026-11-27")
    assert reviewed.returncode == 0, reviewed.stderr
    assert git(repo, "show", "--name-only", "--format=", "HEAD") == "runbooks/[ab].md"
    assert git(repo, "status", "--porcelain") == "M runbooks/a.md"


# ---- a maintenance window's recurrence: checked once, then trusted from a cache ------------


def test_an_impossible_until_after_a_valid_one_is_never_published(
    tmp_path: Path,
) -> None:
    """A window's recurrence committed with a valid UNTIL (in the past: no occurrence) and
    built, then changed to an impossible UNTIL (hour 24): `validate` says 'recurrence:
    UNTIL: hour must be in 0..23' (exit 1) and a build with INCIDENTS_NO_CACHE=1 leaves the
    window out (exit 1), but a build with the caches, into the kept --out or an empty one,
    publishes it (exit 0): the API's maintenances, the feeds, index.html and
    maintenance.ics differ from the cold build's."""
    demo = tmp_path / "demo"
    assert run_cli("demo", str(demo)).code == 0
    window = demo / "maintenance" / "MNT-0002.yaml"
    original = window.read_text(encoding="utf-8")
    out = tmp_path / "site"
    assert run_script(demo, "site", "build", "--out", str(out)).returncode == 0
    window.write_text(original + "recurrence: 'FREQ=WEEKLY;UNTIL=19000101'\n", encoding="utf-8")
    git(demo, "commit", "-qam", "a valid UNTIL")
    assert run_script(demo, "site", "build", "--out", str(out)).returncode == 0
    bad = "recurrence: 'FREQ=WEEKLY;UNTIL=20270101T246000Z'\n"
    window.write_text(original + bad, encoding="utf-8")
    git(demo, "commit", "-qam", "an impossible UNTIL")
    assert run_script(demo, "validate").returncode == 1
    cold = run_script(
        demo, "site", "build", "--out", str(tmp_path / "cold"), INCIDENTS_NO_CACHE="1"
    )
    assert cold.returncode == 1, cold.stderr
    built = run_script(demo, "site", "build", "--out", str(out))
    assert built.returncode == 1, built.stdout
