"""#15: closing out in public (resolve and reopen post public updates), a close that judges
the committed postmortem, `postmortem publish`, and actors as people's handles."""

from __future__ import annotations

import json
import re
from pathlib import Path

import git

from .conftest import run_cli
from .lifecycle_helpers import (
    api_incident,
    assert_api_matches_statuspage_v2,
    assert_one_commit,
    build_site,
    feed_entries,
    head,
    investigating,
    ok,
    record,
    site_files,
)
from .test_postmortems import publish, resolved_incident
from .test_transitions_cli import state

PUBLIC_STATUSES = {"investigating", "identified", "monitoring", "resolved", "postmortem"}


def resolve(repo: Path, iid: str, *extra: str) -> None:
    ok(
        repo,
        "resolve",
        iid,
        "--action",
        "rollback",
        "--summary",
        "Rolled back v2.31",
        "--verified-in",
        "eu-west",
        "--at",
        "2026-03-01T11:00:00Z",
        *extra,
    )


# --- resolve and reopen in public ----------------------------------------------------------


def test_resolve_posts_the_resolved_update_everywhere(repo: Path, tmp_path: Path) -> None:
    iid = investigating(repo)
    ok(
        repo,
        "update",
        iid,
        "--status",
        "identified",
        "--message",
        "Sign-in too.",
        "--component",
        "auth=partial_outage",
        "--at",
        "2026-03-01T10:30:00Z",
    )
    before = head(repo)
    resolve(repo, iid)
    _, files = assert_one_commit(repo, before, Incident_Id=iid, Phase="resolved")
    assert files == [f"incidents/{iid}.yaml"]
    last = record(repo, iid)["updates"][-1]
    assert last["status"] == "resolved"
    assert last["message"] == "This incident has been resolved."
    assert last["at"] == "2026-03-01T11:00:00Z"
    assert last["components"] == {"api": "operational", "auth": "operational"}

    out = build_site(repo, tmp_path / "site")
    page = site_files(out)[f"incidents/{iid}.html"]
    assert "This incident has been resolved." in page
    newest = feed_entries(out)[0]
    assert newest.title.endswith(": Resolved")
    assert "This incident has been resolved." in newest.summary
    api = api_incident(out, iid)
    assert api["status"] == "resolved"
    assert api["incident_updates"][0]["status"] == "resolved"
    assert api["incident_updates"][0]["body"] == "This incident has been resolved."
    new_statuses = {
        c["code"]: c["new_status"] for c in api["incident_updates"][0]["affected_components"]
    }
    assert new_statuses == {"api": "operational", "auth": "operational"}
    components = json.loads((out / "api/v2/components.json").read_text())["components"]
    assert {c["id"]: c["status"] for c in components}["api"] == "operational"
    assert_api_matches_statuspage_v2(out)


def test_resolve_takes_a_message_and_component_statuses(repo: Path) -> None:
    iid = investigating(repo)
    resolve(
        repo,
        iid,
        "--message",
        "Fixed; reports may lag for an hour.",
        "--component",
        "api=degraded_performance",
    )
    last = record(repo, iid)["updates"][-1]
    assert last["message"] == "Fixed; reports may lag for an hour."
    assert last["components"] == {"api": "degraded_performance"}


def test_resolve_no_public_update_and_unannounced_incidents_post_nothing(repo: Path) -> None:
    iid = investigating(repo)
    resolve(repo, iid, "--no-public-update")
    assert [u["status"] for u in record(repo, iid)["updates"]] == ["investigating"]

    # a second incident that never said anything in public
    ok(
        repo,
        "declare",
        "Quiet",
        "--severity",
        "low",
        "--region",
        "eu-west",
        "--at",
        "2026-03-01T10:30:00Z",
    )
    ok(repo, "ack", "INC-0002", "--at", "2026-03-01T10:31:00Z")
    resolve(repo, "INC-0002")
    assert "updates" not in record(repo, "INC-0002")
    bad = run_cli(
        "resolve",
        "INC-0002",
        "--action",
        "other",
        "--summary",
        "x",
        "--message",
        "m",
        "--no-public-update",
        cwd=repo,
    )
    assert bad.code == 2


def test_reopen_posts_an_investigating_update_and_restores_components(
    repo: Path, tmp_path: Path
) -> None:
    iid = investigating(repo)
    resolve(repo, iid)
    before = head(repo)
    ok(repo, "reopen", iid, "--reason", "Errors are back", "--at", "2026-03-01T11:30:00Z")
    assert_one_commit(repo, before, Incident_Id=iid, Phase="investigating")
    last = record(repo, iid)["updates"][-1]
    assert last["status"] == "investigating"
    assert last["message"]
    assert last["components"] == {"api": "degraded_performance"}
    out = build_site(repo, tmp_path / "site", as_of="2026-03-01T12:00:00Z")
    api = api_incident(out, iid)
    assert api["status"] == "investigating" and api["resolved_at"] is None
    components = json.loads((out / "api/v2/components.json").read_text())["components"]
    assert {c["id"]: c["status"] for c in components}["api"] == "degraded_performance"

    ok(repo, "resolve", iid, "--action", "hotfix", "--summary", "x", "--verified-in", "eu-west")
    ok(repo, "reopen", iid, "--reason", "again", "--message", "We are looking again.")
    assert record(repo, iid)["updates"][-1]["message"] == "We are looking again."
    ok(repo, "resolve", iid, "--action", "hotfix", "--summary", "x", "--verified-in", "eu-west")
    count = len(record(repo, iid)["updates"])
    ok(repo, "reopen", iid, "--reason", "quietly", "--no-public-update")
    assert len(record(repo, iid)["updates"]) == count


def test_the_public_page_shows_public_statuses_never_phase_names(
    repo: Path, tmp_path: Path
) -> None:
    iid = resolved_incident(repo, severity="medium")
    out = build_site(repo, tmp_path / "one")
    api = api_incident(out, iid)
    assert api["status"] == "resolved"
    ok(repo, "postmortem", iid, "--by", "alice")
    ok(repo, "close", iid)
    out = build_site(repo, tmp_path / "two")
    api = api_incident(out, iid)
    assert api["status"] in PUBLIC_STATUSES
    page = site_files(out)[f"incidents/{iid}.html"]
    shown = re.findall(r'<strong class="u-([a-z_]+)">([^<]+)</strong>', page)
    assert shown and all(status in PUBLIC_STATUSES for status, _ in shown), shown
    for phase in ("Detected", "Acknowledged", "Closed"):
        assert f">{phase}<" not in page


# --- postmortem publish --------------------------------------------------------------------


def filled_draft(repo: Path, iid: str) -> Path:
    """The postmortem drafted by alice, every section answered, still a draft, committed."""
    ok(repo, "postmortem", iid, "--by", "alice", "--at", "2026-03-01T12:00:00Z")
    path = repo / "postmortems" / f"{iid}.md"
    text = publish(path.read_text())
    text = text.replace("status: published\npublished_at: 2026-03-02T12:00:00Z", "status: draft")
    path.write_text(text)
    g = git.Repo(repo)
    g.index.add([f"postmortems/{iid}.md"])
    g.index.commit("answer the four questions")
    return path


def test_postmortem_publish_sets_status_and_published_at_in_one_commit(repo: Path) -> None:
    iid = resolved_incident(repo)
    path = filled_draft(repo, iid)
    before = head(repo)
    ok(repo, "postmortem", "publish", iid, "--at", "2026-03-02T09:00:00Z", "--by", "alice")
    subject, files = assert_one_commit(
        repo, before, Incident_Id=iid, Phase="postmortem", Actor="alice"
    )
    assert "published" in subject
    assert f"postmortems/{iid}.md" in files
    text = path.read_text()
    assert "status: published" in text
    assert "published_at: '2026-03-02T09:00:00Z'" in text or (
        "published_at: 2026-03-02T09:00:00Z" in text
    )
    again = run_cli("postmortem", "publish", iid, cwd=repo)
    assert again.code == 2 and "published already" in again.err
    # runbook stale now judges by published_at, not the due date
    runbook = repo / "runbooks" / "database-connection-pool-exhaustion.md"
    runbook.write_text(
        re.sub(r"last_reviewed: \S+", "last_reviewed: 2026-03-02", runbook.read_text())
    )
    stale = run_cli("runbook", "stale", "--as-of", "2026-03-05T00:00:00Z", cwd=repo)
    assert "database-connection-pool-exhaustion" in stale.out


def test_postmortem_publish_refuses_with_every_finding_and_changes_nothing(
    repo: Path,
) -> None:
    iid = resolved_incident(repo)
    ok(repo, "postmortem", iid, "--by", "alice")
    before = state(repo)
    result = run_cli("postmortem", "publish", iid, cwd=repo)
    assert result.code == 2
    lines = result.err.strip().splitlines()
    places = [line for line in lines if line.startswith(f"postmortems/{iid}.md:")]
    assert len(places) >= 5, lines  # four unanswered sections and no action item
    assert any("action item" in line for line in places)
    assert "cannot publish" in lines[-1]
    assert state(repo) == before
    missing = run_cli("postmortem", "publish", "INC-0009", cwd=repo)
    assert missing.code == 2


# --- close judges the committed postmortem -------------------------------------------------


def test_close_refuses_a_postmortem_published_only_in_the_work_tree(repo: Path) -> None:
    iid = resolved_incident(repo)
    ok(repo, "postmortem", iid, "--by", "alice")
    path = repo / "postmortems" / f"{iid}.md"
    path.write_text(publish(path.read_text()))  # valid and published, but not committed
    before = state(repo)
    result = run_cli("close", iid, cwd=repo)
    assert result.code == 2
    assert f"postmortems/{iid}.md has uncommitted changes" in result.err
    assert state(repo) == before


def test_close_refuses_a_committed_published_postmortem_that_fails_the_rules(
    repo: Path,
) -> None:
    iid = resolved_incident(repo)
    ok(repo, "postmortem", iid, "--by", "alice")
    path = repo / "postmortems" / f"{iid}.md"
    path.write_text(path.read_text().replace("status: draft", "status: published"))
    g = git.Repo(repo)
    g.index.add([f"postmortems/{iid}.md"])
    g.index.commit("published without answering anything")
    before = state(repo)
    result = run_cli("close", iid, cwd=repo)
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len([line for line in lines if line.startswith(f"postmortems/{iid}.md:")]) >= 5
    assert lines[-1].startswith(f"cannot close {iid}")
    assert state(repo) == before


def test_close_with_a_staged_published_postmortem_commits_both(repo: Path) -> None:
    iid = resolved_incident(repo)
    ok(repo, "postmortem", iid, "--by", "alice")
    path = repo / "postmortems" / f"{iid}.md"
    path.write_text(publish(path.read_text()))
    g = git.Repo(repo)
    g.index.add([f"postmortems/{iid}.md"])
    before = head(repo)
    ok(repo, "close", iid)
    _, files = assert_one_commit(repo, before, Incident_Id=iid, Phase="closed")
    assert files == [f"incidents/{iid}.yaml", f"postmortems/{iid}.md"]
    assert "status: published" in g.git.show(f"HEAD:postmortems/{iid}.md")


def test_close_refuses_a_staged_postmortem_with_further_unstaged_edits(repo: Path) -> None:
    iid = resolved_incident(repo)
    ok(repo, "postmortem", iid, "--by", "alice")
    path = repo / "postmortems" / f"{iid}.md"
    path.write_text(publish(path.read_text()))
    git.Repo(repo).index.add([f"postmortems/{iid}.md"])
    path.write_text(path.read_text().replace("status: published", "status: draft"))
    before = state(repo)
    result = run_cli("close", iid, cwd=repo)
    assert result.code == 2 and "uncommitted changes" in result.err
    assert state(repo) == before


def test_close_with_a_committed_published_valid_postmortem(repo: Path) -> None:
    iid = resolved_incident(repo)
    filled_draft(repo, iid)
    ok(repo, "postmortem", "publish", iid)
    before = head(repo)
    ok(repo, "close", iid)
    _, files = assert_one_commit(repo, before, Incident_Id=iid, Phase="closed")
    assert files == [f"incidents/{iid}.yaml"]


# --- actors are people's handles -----------------------------------------------------------


def add_person_with_my_email(repo: Path) -> None:
    path = repo / "incidents.yaml"
    path.write_text(
        path.read_text()
        + "  - handle: rita\n    name: Rita Responder\n    emails: [Responder@Example.com]\n"
    )
    g = git.Repo(repo)
    g.index.add(["incidents.yaml"])
    g.index.commit("rita's git email")


def test_the_actor_is_the_handle_whose_email_matches_git(repo: Path) -> None:
    add_person_with_my_email(repo)
    ok(repo, "declare", "Slow", "--severity", "high", "--region", "eu-west")
    data = record(repo, "INC-0001")
    assert data["timeline"][0]["actor"] == "rita"
    before = head(repo)
    ok(repo, "ack", "INC-0001")
    assert_one_commit(repo, before, Actor="rita")
    ok(repo, "assign", "INC-0001", "--commander", "rita")
    ok(repo, "investigate", "INC-0001")
    ok(
        repo,
        "resolve",
        "INC-0001",
        "--action",
        "other",
        "--summary",
        "x",
        "--verified-in",
        "eu-west",
    )
    ok(repo, "postmortem", "INC-0001")
    assert "authors:\n  - rita\n" in (repo / "postmortems" / "INC-0001.md").read_text()
    ok(repo, "runbook", "new", "Queue backlog", "--component", "api")
    assert "owner: rita" in (repo / "runbooks" / "queue-backlog.md").read_text()
    assert run_cli("validate", cwd=repo).code == 0


def test_validate_checks_runbook_owners_and_postmortem_authors(repo: Path) -> None:
    iid = resolved_incident(repo)
    ok(repo, "postmortem", iid, "--by", "Maria Petrova")
    runbook = repo / "runbooks" / "bad-deploy-rollback.md"
    runbook.write_text(re.sub(r"owner: \S+", "owner: Maria Petrova", runbook.read_text(), count=1))
    result = run_cli("validate", cwd=repo)
    assert result.code == 1
    lines = result.out.splitlines()
    assert any(
        line.startswith(f"postmortems/{iid}.md:") and "authors[0]" in line and "Maria" in line
        for line in lines
    ), lines
    assert any(
        line.startswith("runbooks/bad-deploy-rollback.md:") and "owner" in line for line in lines
    ), lines


def test_close_push_with_a_staged_postmortem_is_replayed_without_losing_it(
    repo: Path, tmp_path: Path
) -> None:
    from .test_push import clones, remote_record

    iid = resolved_incident(repo)
    ok(repo, "postmortem", iid, "--by", "alice")
    remote, (a, b) = clones(repo, tmp_path)
    path = b / "postmortems" / f"{iid}.md"
    path.write_text(publish(path.read_text()))
    git.Repo(b).index.add([f"postmortems/{iid}.md"])
    ok(a, "note", iid, "a note from the other laptop", "--push")
    result = run_cli("close", iid, "--push", cwd=b)
    assert result.code == 0, result.err
    assert "push rejected: replayed on origin/main" in result.err
    assert remote_record(remote, iid)["phase"] == "closed"
    shown = git.Repo(remote).git.show(f"main:postmortems/{iid}.md")
    assert "status: published" in shown
    assert git.Repo(b).git.status("--porcelain") == ""
