"""A postmortem that exists but does not validate: `actions` says so, with validate's line,
and `actions done` refuses to change it (main said "postmortem missing" and committed)."""

from __future__ import annotations

from pathlib import Path

from .conftest import run_cli
from .git_helpers import git
from .test_postmortems import _publish_and_commit, resolved_incident

POSTMORTEM = "postmortems/INC-0001.md"


def _broken_postmortem(repo: Path) -> str:
    """A published postmortem, then an action item's status that its schema refuses,
    committed; what `validate` says of it."""
    iid = resolved_incident(repo)
    _publish_and_commit(repo, iid)
    path = repo / POSTMORTEM
    path.write_text(path.read_text().replace("    status: open\n", "    status: started\n", 1))
    git(repo, "commit", "-q", "-am", "a hand edit")
    said = run_cli("validate", cwd=repo)
    assert said.code == 1
    line = next(line for line in said.out.splitlines() if line.startswith(POSTMORTEM))
    assert "status" in line
    return line


def test_actions_says_a_postmortem_that_does_not_validate_is_invalid_not_missing(
    repo: Path,
) -> None:
    finding = _broken_postmortem(repo)
    listed = run_cli("actions", "--as-of", "2026-03-20T00:00:00Z", cwd=repo)
    assert "postmortem missing" not in listed.out
    assert f"postmortem invalid: {finding}" in listed.out, listed.out
    overdue = run_cli(
        "actions", "--overdue", "--as-of", "2026-03-20T00:00:00Z", "--format", "github", cwd=repo
    )
    assert overdue.code == 1
    line = int(finding.split(":")[1])
    assert overdue.out.startswith(
        f"::error file={POSTMORTEM},line={line},col=1,title=Overdue postmortem::"
        f"INC-0001 postmortem (owner alice): postmortem invalid: "
    ), overdue.out


def test_marking_an_item_done_in_a_postmortem_that_does_not_validate_is_refused(
    repo: Path,
) -> None:
    finding = _broken_postmortem(repo)
    head = git(repo, "rev-parse", "HEAD")
    before = (repo / POSTMORTEM).read_bytes()
    done = run_cli("actions", "done", "INC-0001", "A2", cwd=repo)
    assert done.code == 2, done.out
    assert done.err == f"{finding} (fix it by hand, then try again)\n"
    assert git(repo, "rev-parse", "HEAD") == head
    assert (repo / POSTMORTEM).read_bytes() == before
    assert git(repo, "status", "--porcelain") == ""
