"""Postmortems as pull requests, tracked action items, and runbooks, through the CLI."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import git
import pytest

from .conftest import run_cli


def resolved_incident(repo: Path, severity: str = "high") -> str:
    steps = [
        (
            "declare",
            "Database connection timeouts",
            "--component",
            "database",
            "--severity",
            severity,
            "--region",
            "eu-west",
            "--at",
            "2026-03-01T10:00:00Z",
        ),
        ("ack", "INC-0001", "--at", "2026-03-01T10:20:00Z", "--by", "alice"),
        ("assign", "INC-0001", "--commander", "alice", "--at", "2026-03-01T10:21:00Z"),
        ("investigate", "INC-0001", "--at", "2026-03-01T10:22:00Z"),
        (
            "note",
            "INC-0001",
            "Pool at 100% | all pods",
            "--at",
            "2026-03-01T10:30:00Z",
            "--runbook",
            "database-connection-pool-exhaustion",
            "--by",
            "carol",
        ),
        (
            "update",
            "INC-0001",
            "--status",
            "identified",
            "--message",
            "Found it.",
            "--at",
            "2026-03-01T10:35:00Z",
        ),
        (
            "resolve",
            "INC-0001",
            "--action",
            "rollback",
            "--summary",
            "Rolled back",
            "--verified-in",
            "eu-west",
            "--at",
            "2026-03-01T11:00:00Z",
        ),
    ]
    for step in steps:
        result = run_cli(*step, cwd=repo)
        assert result.code == 0, (step, result.err)
    return "INC-0001"


FILLED = {
    "TODO(postmortem): check the timeline and add what is missing (alerts, deploys, decisions).": "The alert fired at 10:00.",
    "TODO(postmortem): the root cause, several whys deep.": "A query without an index.",
    "1. Why? TODO(postmortem)": "1. Why? The pool was full.",
    "2. Why? TODO(postmortem)": "2. Why? Queries were slow.",
    "3. Why? TODO(postmortem)": "3. Why? No index.",
    "### Went well\n\nTODO(postmortem)": "### Went well\n\nFast rollback.",
    "### Could be better\n\nTODO(postmortem)": "### Could be better\n\nNo pool alert.",
    "TODO(postmortem): list the action items above (a published postmortem needs at least one).": (
        "Two action items above."
    ),
}

ITEMS = """\
action_items:
  - id: A1
    title: Alert on pool saturation
    owner: carol
    due: 2026-03-10T00:00:00Z
    status: open
  - id: A2
    title: Index check in CI
    owner: alice
    due: 2026-04-01T00:00:00Z
    status: open
"""


def publish(text: str) -> str:
    for old, new in FILLED.items():
        assert old in text, old
        text = text.replace(old, new)
    text = text.replace("status: draft", "status: published\npublished_at: 2026-03-02T12:00:00Z")
    text = text.replace("public: false", "public: true")
    text = text.replace("public_summary: ''", "public_summary: A slow query filled the pool.")
    return text.replace("action_items: []\n", ITEMS)


def test_draft_on_a_branch_then_publish_by_review_then_close(repo: Path, tmp_path: Path) -> None:
    iid = resolved_incident(repo)
    (repo / "README.md").write_text("a person's unrelated edit\n")
    result = run_cli(
        "postmortem", iid, "--branch", "--by", "alice", "--at", "2026-03-01T12:00:00Z", cwd=repo
    )
    assert result.code == 0, result.err
    assert "git push -u origin postmortem/INC-0001" in result.out
    g = git.Repo(repo)
    assert g.active_branch.name == "main"
    assert not (repo / "postmortems" / f"{iid}.md").exists()
    assert g.git.status("--porcelain") == " M README.md"
    branch = g.commit("postmortem/INC-0001")
    assert sorted(branch.stats.files) == ["incidents/INC-0001.yaml", "postmortems/INC-0001.md"]
    assert "Phase: postmortem" in branch.message

    # A reviewer works on the branch in their own clone, as in a pull request.
    review = tmp_path / "review"
    g.git.stash()
    clone = git.Repo.clone_from(repo, review, branch="postmortem/INC-0001")
    path = review / "postmortems" / f"{iid}.md"
    draft = path.read_text()
    assert "| 2026-03-01 10:30 | carol | Pool at 100% \\| all pods |" in draft
    assert "- Time to acknowledge: 20m (over the 15m window for high)" in draft
    assert "- Time to resolve: 1h" in draft
    assert "due: '2026-03-03T11:00:00Z'" in draft
    assert run_cli("validate", cwd=review).code == 0, "a draft may have placeholders"
    assert run_cli("close", iid, cwd=review).code == 2
    path.write_text(publish(draft))
    assert run_cli("validate", cwd=review).out == ""
    clone.git.add("-A")
    clone.index.commit("Publish the postmortem")
    closed = run_cli("close", iid, "--at", "2026-03-02T13:00:00Z", cwd=review)
    assert closed.code == 0, closed.err
    assert run_cli("show", iid, "--json", cwd=review).out.count('"phase": "closed"') == 1


def test_published_postmortem_problems_each_have_their_line(repo: Path) -> None:
    iid = resolved_incident(repo)
    assert run_cli("postmortem", iid, "--by", "alice", cwd=repo).code == 0
    path = repo / "postmortems" / f"{iid}.md"
    text = publish(path.read_text())
    text = text.replace(
        "### Could be better\n\nNo pool alert.", "### Could be better\n\nTODO(postmortem)"
    )
    text = text.replace(
        "A query without an index.\n\n1. Why? The pool was full.\n"
        "2. Why? Queries were slow.\n3. Why? No index.\n",
        "",
    )
    text = text.replace("    owner: carol\n", "")
    text = text.replace("    due: 2026-04-01T00:00:00Z\n", "")
    path.write_text(text)
    lines = text.splitlines()
    result = run_cli("validate", cwd=repo)
    assert result.code == 1
    why = lines.index("## Why it happened") + 1
    todo = lines.index("TODO(postmortem)") + 1
    item1 = lines.index("  - id: A1") + 1
    item2 = lines.index("  - id: A2") + 1
    # the rules run once the front matter follows its schema (#13): first these two
    assert result.out.splitlines() == [
        f"postmortems/INC-0001.md:{item1}:5: action_items[0].owner: missing required field",
        f"postmortems/INC-0001.md:{item2}:5: action_items[1].due: missing required field",
    ]
    text = text.replace("  - id: A1\n", "  - id: A1\n    owner: carol\n")
    text = text.replace("  - id: A2\n", "  - id: A2\n    due: 2026-04-01T00:00:00Z\n")
    path.write_text(text)
    lines = text.splitlines()
    why = lines.index("## Why it happened") + 1
    todo = lines.index("TODO(postmortem)") + 1
    result = run_cli("validate", cwd=repo)
    assert result.out.splitlines() == [
        f"postmortems/INC-0001.md:{why}:1: body: the section 'Why it happened' is empty",
        f"postmortems/INC-0001.md:{todo}:1: body: 'How we responded' still has a "
        "TODO(postmortem) placeholder",
    ]


def test_a_published_postmortem_needs_an_action_item(repo: Path) -> None:
    iid = resolved_incident(repo)
    assert run_cli("postmortem", iid, "--by", "alice", cwd=repo).code == 0
    path = repo / "postmortems" / f"{iid}.md"
    path.write_text(publish(path.read_text()).replace(ITEMS, "action_items: []\n"))
    result = run_cli("validate", cwd=repo)
    assert result.out == (
        "postmortems/INC-0001.md:3:1: status: a published postmortem needs at least one "
        "action item (action_items)\n"
    )


def _publish_and_commit(repo: Path, iid: str) -> None:
    drafted = run_cli("postmortem", iid, "--at", "2026-03-01T12:00:00Z", "--by", "alice", cwd=repo)
    assert drafted.code == 0
    path = repo / "postmortems" / f"{iid}.md"
    path.write_text(publish(path.read_text()))
    g = git.Repo(repo)
    g.index.add([f"postmortems/{iid}.md"])
    g.index.commit("publish")


@pytest.mark.parametrize(
    ("as_of", "expected", "code"),
    [
        ("2026-03-05T00:00:00Z", [], 0),
        ("2026-03-10T00:00:01Z", ["action_item A1"], 1),
        ("2026-04-02T00:00:00Z", ["action_item A1", "action_item A2"], 1),
    ],
)
def test_overdue_action_items_around_their_due_dates(
    repo: Path, as_of: str, expected: list[str], code: int
) -> None:
    iid = resolved_incident(repo)
    _publish_and_commit(repo, iid)
    result = run_cli("actions", "--overdue", "--as-of", as_of, "--format", "json", cwd=repo)
    assert result.code == code
    found = [f"{i['kind']} {i['id']}" for i in json.loads(result.out)]
    assert found == expected


def test_missing_and_draft_postmortems_are_overdue_after_48_hours(repo: Path) -> None:
    iid = resolved_incident(repo)
    before = run_cli("actions", "--overdue", "--as-of", "2026-03-03T10:59:59Z", cwd=repo)
    assert (before.code, before.out) == (0, "Nothing to follow up.\n")
    after = run_cli(
        "actions", "--overdue", "--as-of", "2026-03-03T11:00:01Z", "--format", "github", cwd=repo
    )
    assert after.code == 1
    lines = (repo / "incidents" / f"{iid}.yaml").read_text().splitlines()
    resolved_line = next(n for n, line in enumerate(lines, 1) if line.startswith("resolved_at:"))
    assert after.out.startswith(
        f"::error file=incidents/INC-0001.yaml,line={resolved_line},col=1,"
        "title=Overdue postmortem::"
        "INC-0001 postmortem (owner alice): postmortem missing (postmortems/INC-0001.md)"
    )
    assert run_cli("postmortem", iid, cwd=repo).code == 0
    draft = run_cli(
        "actions", "--overdue", "--as-of", "2026-03-04T00:00:00Z", "--format", "github", cwd=repo
    )
    assert draft.out.startswith(
        "::error file=postmortems/INC-0001.md,line=3,col=1,title=Overdue postmortem::"
    )
    assert "postmortem not published yet (draft)" in draft.out
    low = run_cli("actions", "--as-of", "2026-03-04T00:00:00Z", "--owner", "carol", cwd=repo)
    assert low.out == "Nothing to follow up.\n"


def test_marking_an_item_done_is_one_commit_and_clears_it(repo: Path) -> None:
    iid = resolved_incident(repo)
    _publish_and_commit(repo, iid)
    path = repo / "postmortems" / f"{iid}.md"
    body_before = path.read_text().split("\n---\n", 1)[1]
    head = git.Repo(repo).head.commit
    result = run_cli(
        "actions",
        "done",
        iid,
        "A1",
        "--link",
        "https://example.com/pr/7",
        "--at",
        "2026-03-09T00:00:00Z",
        cwd=repo,
    )
    assert result.code == 0, result.err
    commit = git.Repo(repo).head.commit
    assert commit.parents == (head,)
    assert list(commit.stats.files) == [f"postmortems/{iid}.md"]
    assert commit.message.startswith("INC-0001 action item A1 done: Alert on pool saturation")
    text = path.read_text()
    assert "    status: done\n    done_at: '2026-03-09T00:00:00Z'\n" in text
    assert text.split("\n---\n", 1)[1] == body_before
    overdue = run_cli(
        "actions", "--overdue", "--as-of", "2026-03-20T00:00:00Z", "--format", "json", cwd=repo
    )
    assert (overdue.code, overdue.out.strip()) == (0, "[]")
    again = run_cli("actions", "done", iid, "A1", cwd=repo)
    assert again.code == 2 and "is done already" in again.err
    missing = run_cli("actions", "done", iid, "A9", cwd=repo)
    assert missing.err == "postmortems/INC-0001.md has no action item 'A9' (items: A1, A2)\n"
    assert run_cli("validate", cwd=repo).code == 0


def test_runbooks_list_show_new_match_and_stale(repo: Path) -> None:
    # The starter runbooks are found by tags until the team links them to its components.
    assert run_cli("runbook", "list", "--component", "database", cwd=repo).out == (
        "No runbooks match.\n"
    )
    path = repo / "runbooks" / "database-connection-pool-exhaustion.md"
    path.write_text(path.read_text().replace("# components: [", "components: ["))
    listing = run_cli("runbook", "list", "--component", "database", cwd=repo)
    assert listing.out.startswith("database-connection-pool-exhaustion  Database connection pool")
    assert run_cli("runbook", "list", "--tag", "tls", cwd=repo).out.startswith(
        "expired-tls-certificate"
    )
    shown = run_cli("runbook", "show", "bad-deploy-rollback", cwd=repo)
    assert "Roll back first, debug later" in shown.out
    assert run_cli("runbook", "show", "nope", cwd=repo).code == 2
    created = run_cli(
        "runbook",
        "new",
        "Queue backlog: consumers stuck",
        "--component",
        "api",
        "--tag",
        "queue-depth",
        "--owner",
        "bob",
        cwd=repo,
    )
    assert created.code == 0, created.err
    new = repo / "runbooks" / "queue-backlog-consumers-stuck.md"
    assert new.read_text().startswith("---\ntitle: 'Queue backlog: consumers stuck'\n")
    assert run_cli("validate", cwd=repo).code == 0
    bad = run_cli("runbook", "new", "Other", "--component", "nope", "--owner", "bob", cwd=repo)
    assert bad.code == 2 and "unknown component 'nope'" in bad.err
    assert not (repo / "runbooks" / "other.md").exists()

    declared = run_cli("declare", "TLS certificate expired on edge", "--severity", "high", cwd=repo)
    assert "runbooks/expired-tls-certificate.md" in declared.out
    show = run_cli("show", "INC-0001", cwd=repo)
    assert "Runbooks that may help:\n  runbooks/expired-tls-certificate.md" in show.out

    stale = run_cli("runbook", "stale", "--as-of", "2027-06-01T00:00:00Z", cwd=repo)
    assert stale.code == 1
    assert "runbooks/expired-tls-certificate.md:8: not reviewed in 180 days" in stale.out
    fresh = run_cli("runbook", "stale", "--as-of", "2026-11-20T00:00:00Z", cwd=repo)
    assert fresh.code == 0


def test_a_runbook_used_before_a_published_postmortem_needs_a_review(repo: Path) -> None:
    iid = resolved_incident(repo)
    _publish_and_commit(repo, iid)
    path = repo / "runbooks" / "database-connection-pool-exhaustion.md"
    path.write_text(
        path.read_text().replace("last_reviewed: 2026-11-01", "last_reviewed: 2026-02-01")
    )
    stale = run_cli("runbook", "stale", "--as-of", "2026-03-05T00:00:00Z", cwd=repo)
    assert stale.code == 1
    assert "used in INC-0001; review it after that postmortem" in stale.out
    overdue = run_cli(
        "actions", "--overdue", "--as-of", "2026-03-05T00:00:00Z", "--format", "json", cwd=repo
    )
    assert [i["kind"] for i in json.loads(overdue.out)] == ["runbook"]


def test_draft_reads_well_rendered(repo: Path, tmp_path: Path) -> None:
    """A long timeline renders as a table in a real Markdown renderer."""
    from markdown_it import MarkdownIt

    iid = resolved_incident(repo)
    for minute in range(40, 59):
        run_cli(
            "note",
            iid,
            f"Checked dashboard {minute}",
            "--at",
            f"2026-03-01T10:{minute:02d}:00Z",
            cwd=repo,
        )
    # (notes after resolution are allowed; the timeline stays in time order)
    assert run_cli("postmortem", iid, cwd=repo).code == 0
    text = (repo / "postmortems" / f"{iid}.md").read_text().split("\n---\n", 1)[1]
    html = MarkdownIt("commonmark").enable("table").render(text)
    assert html.count("<tr>") >= 1 + 7 + 19
    assert "<h2>Why it happened</h2>" in html
    subprocess.run(["git", "status"], cwd=repo, check=True, capture_output=True)


def test_runbook_new_checks_only_the_new_runbook_and_writes_nothing_it_refuses(
    repo: Path,
) -> None:
    (repo / "incidents" / "INC-0042.yaml").write_text("id: [broken\n", encoding="utf-8")
    created = run_cli(
        "runbook", "new", "Disk full", "--component", "api", "--owner", "bob", cwd=repo
    )
    assert created.code == 0, created.err  # an unrelated broken record does not stop it
    assert (repo / "runbooks" / "disk-full.md").is_file()
    refused = run_cli(
        "runbook", "new", "Disk gone", "--component", "nope", "--owner", "bob", cwd=repo
    )
    assert refused.code == 2 and "unknown component 'nope'" in refused.err
    assert not (repo / "runbooks" / "disk-gone.md").exists()


def test_a_new_users_drafts_and_runbooks_validate_when_git_name_is_not_a_handle(
    repo: Path,
) -> None:
    """Git's user.name ("Test Responder") is not one of the people: the draft's author is the
    commander, and a new runbook's owner is whoever is on call, so validate stays clean."""
    for args in (
        ["declare", "Checkout fails", "--component", "api", "--severity", "high"],
        ["ack", "1"],
        ["assign", "1", "--commander", "alice"],
        ["resolve", "1", "--action", "rollback", "--summary", "Rolled back"],
        ["postmortem", "1"],
        ["runbook", "new", "Queue backlog", "--component", "api", "--tag", "queue-depth"],
    ):
        result = run_cli(*args, cwd=repo)
        assert result.code == 0, (args, result.err)
    assert "authors:\n  - alice\n" in (repo / "postmortems" / "INC-0001.md").read_text()
    assert "owner: on-call\n" in (repo / "runbooks" / "queue-backlog.md").read_text()
    assert run_cli("validate", cwd=repo).code == 0
