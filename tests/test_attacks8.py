"""atk8's attacks on main (sixth session, third round): each test proves a defect and is
marked xfail(strict=True) until it is fixed. Real repositories, the installed console script
(run as a person runs it: no INCIDENTS_RAISE_BUGS; the test's own home, read when the test
runs), no mocks."""

from __future__ import annotations

from pathlib import Path

from .console_helpers import person_env, run_script
from .test_trust_git import git

_env, _incidents = person_env, run_script


# ---- dates bounded to 1970-2999: free text that merely looks like a date ------------------


def test_a_title_that_is_a_date_before_1970_is_free_text(repo: Path) -> None:
    """DATE_SHAPE is checked on every string of a record, free text included: an incident
    titled after the day it concerns ('1969-07-20', a retrospective, a replayed outage) is
    refused: 'title: '1969-07-20' is out of range (years 1970 to 2999)'."""
    done = _incidents(repo, "declare", "1969-07-20", "--component", "api")
    assert done.returncode == 0, done.stderr


def test_a_title_that_starts_with_a_date_and_time_is_free_text(repo: Path) -> None:
    """TIME_SHAPE is a prefix match on every string: a title such as '2026-11-28 14:00
    checkout down' (how people often name an incident) is refused, 'title: ... is not an
    RFC 3339 time'."""
    done = _incidents(repo, "declare", "2026-11-28 14:00 checkout down", "--component", "api")
    assert done.returncode == 0, done.stderr


def test_a_published_incident_whose_update_reads_like_an_old_date_stays_published(
    repo: Path, tmp_path: Path
) -> None:
    """A record valid before c096cb0 (a public update whose message is '1969-07-20', a
    date someone pasted) now fails validation, and the site build leaves the whole incident
    out (exit 1): a regression of the date bound, not bad input."""
    declared = _incidents(repo, "declare", "Moon landing replay", "--component", "api")
    assert declared.returncode == 0, declared.stderr
    ident = "INC-0001"
    posted = _incidents(repo, "update", ident, "--status", "investigating", "--message", "x")
    assert posted.returncode == 0, posted.stderr
    record = repo / "incidents" / f"{ident}.yaml"
    text = record.read_text(encoding="utf-8")
    assert "message: x\n" in text, text
    record.write_text(text.replace("message: x\n", "message: '1969-07-20'\n"), encoding="utf-8")
    git(repo, "commit", "-qam", "the message as it was written before the bound")
    built = _incidents(repo, "site", "build", "--out", str(tmp_path / "site"))
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "site" / "incidents" / f"{ident}.html").is_file()


# ---- site build --out: git's own folder, and the repository itself -------------------------


def test_a_linked_worktree_never_builds_into_its_git_folder(repo: Path, tmp_path: Path) -> None:
    """`_refuse_links_out_of` looks for a part named `.git` inside the work tree; a linked
    worktree's git folder is the main clone's `.git` (its `.git` is a file), so
    `--out <main>/.git/site` is written into git's own folder, which a build from the main
    clone refuses."""
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", str(linked), "-b", "other")
    common = Path(git(linked, "rev-parse", "--path-format=absolute", "--git-common-dir"))
    built = _incidents(linked, "site", "build", "--out", str(common / "site"))
    assert built.returncode == 2, built.stdout
    assert not (common / "site").exists()


def test_a_committed_marker_never_lets_the_build_replace_the_repository(repo: Path) -> None:
    """The only guard against replacing a folder as a whole is the marker `.incidents-site`
    in it; anyone can commit one. `site build --out .` (or --out incidents) then swaps the
    repository for the site: records, settings and most of .git are deleted, exit 0."""
    (repo / ".incidents-site").write_text("{}\n", encoding="utf-8")
    git(repo, "add", ".incidents-site")
    git(repo, "commit", "-qm", "a marker someone committed")
    before = git(repo, "rev-parse", "HEAD")
    built = _incidents(repo, "site", "build", "--out", ".")
    assert (repo / "incidents.yaml").is_file(), built.stdout
    assert git(repo, "rev-parse", "HEAD", check=False) == before
    assert built.returncode == 2, built.stdout


# ---- transitions: success judged by the commit read back, not by HEAD's tip -----------------


def _post_commit_hook(repo: Path, body: str) -> None:
    """A post-commit hook that runs ``body`` once (not for the commit it makes itself)."""
    hook = repo / ".git" / "hooks" / "post-commit"
    hook.write_text(f'#!/bin/sh\nif [ -z "$ATK8_IN" ]; then\n{body}\nfi\n', encoding="utf-8")
    hook.chmod(0o755)


def test_a_hook_reverting_the_commit_is_not_said_as_success(repo: Path) -> None:
    """`_holds` now accepts the commit read back when its blobs are ours, whatever commit is
    on top of it; `_changed_since` sees the work tree differ and says 'the commit holds this
    change' as a note. A post-commit hook that reverts the commit leaves HEAD without the
    note, and the command says it was added (exit 0); before fix7a this was refused."""
    declared = _incidents(repo, "declare", "db down", "--component", "api")
    assert declared.returncode == 0, declared.stderr
    _post_commit_hook(repo, "ATK8_IN=1 git revert --no-edit HEAD >/dev/null 2>&1")
    noted = _incidents(repo, "note", "INC-0001", "a private note")
    in_head = "a private note" in git(repo, "show", "HEAD:incidents/INC-0001.yaml")
    assert noted.returncode != 0 or in_head, noted.stderr


def test_a_hook_commit_on_top_never_publishes_another_public_message(
    repo: Path, tmp_path: Path
) -> None:
    """A post-commit hook commits its own edit of the record on top of ours (the public
    message replaced). The command says 'public update posted ... pushed' (exit 0) and the
    remote holds the hook's message, not the one asked for: the changed record is published
    while the command reports success."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "-u", "origin", "main")
    declared = _incidents(repo, "declare", "db down", "--component", "api", "--push")
    assert declared.returncode == 0, declared.stderr
    _post_commit_hook(
        repo,
        "sed -i 's/message: all is calm/message: HACKED by a hook/' incidents/INC-0001.yaml\n"
        'ATK8_IN=1 git commit -qam "hook edit" --no-verify',
    )
    posted = _incidents(
        repo, "update", "INC-0001", "--status", "identified", "--message", "all is calm", "--push"
    )
    published = git(repo, "--git-dir", str(remote), "show", "main:incidents/INC-0001.yaml")
    assert posted.returncode != 0 or "HACKED" not in published, posted.stdout + posted.stderr
