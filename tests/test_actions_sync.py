"""`incidents actions sync` against the fake GitHub API on 127.0.0.1 and real repositories."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import git
import pytest

from incidents_cli.integrations.github import GitHub
from incidents_cli.usecases.actions_sync import SyncOptions, sync

from .conftest import run_cli
from .fakes.github_api import FakeGitHub
from .test_postmortems import publish, resolved_incident

REPO = "acme/service"
ISSUES = "https://github.com/acme/service/issues"
LIST = "GET /repos/acme/service/issues?state=all&labels=incident-action&per_page=100"
PM = "postmortems/INC-0001.md"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    with FakeGitHub(assignable={"alice-example"}).serve() as served:
        monkeypatch.setenv("GITHUB_TOKEN", served.token)
        monkeypatch.setenv("GITHUB_API_URL", served.url)
        monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
        yield served


@pytest.fixture
def published(repo: Path) -> Path:
    """A repository whose INC-0001 has a published postmortem with two open action items."""
    iid = resolved_incident(repo)
    assert (
        run_cli("postmortem", iid, "--at", "2026-03-01T12:00:00Z", "--by", "alice", cwd=repo).code
        == 0
    )
    path = repo / PM
    path.write_text(publish(path.read_text()))
    g = git.Repo(repo)
    g.index.add([PM])
    g.index.commit("Publish the postmortem")
    return repo


def items(repo: Path) -> list[dict[str, object]]:
    shown = run_cli("actions", "--format", "json", cwd=repo)
    return [i for i in json.loads(shown.out) if i["kind"] == "action_item"]


def front(repo: Path) -> str:
    return (repo / PM).read_text().split("---\n")[1]


def head(repo: Path) -> git.Commit:
    return git.Repo(repo).head.commit


def sync_cli(repo: Path, *args: str) -> tuple[int, str, str]:
    result = run_cli("actions", "sync", "--repo", REPO, *args, cwd=repo)
    return result.code, result.out, result.err


def first_sync(repo: Path, fake: FakeGitHub) -> None:
    code, _, err = sync_cli(repo)
    assert code == 0, err
    fake.clear()


def test_first_sync_creates_one_issue_per_item_and_one_commit(
    published: Path, fake: FakeGitHub
) -> None:
    before = head(published)
    (published / "README.md").write_text("a person's unrelated edit\n")
    code, out, err = sync_cli(published)
    assert code == 0, err
    assert fake.calls() == [
        "GET /repos/acme/service",
        LIST,
        "GET /repos/acme/service/labels/incident-action",
        "POST /repos/acme/service/labels",
        "GET /repos/acme/service/assignees/alice-example",
        "POST /repos/acme/service/issues",
        "POST /repos/acme/service/issues",
    ]
    created = [r.body for r in fake.requests if r.path.endswith("/issues") and r.method == "POST"]
    assert [(c["title"], c["labels"], c.get("assignees")) for c in created] == [
        ("[INC-0001/A1] Alert on pool saturation", ["incident-action"], None),
        ("[INC-0001/A2] Index check in CI", ["incident-action"], ["alice-example"]),
    ]
    body = created[0]["body"]
    assert "<!-- incidents:action-item INC-0001/A1 -->" in body
    assert "- Due: 2026-03-10T00:00:00Z" in body and "- Owner: carol" in body
    assert "Database connection timeouts" in body
    assert "https://github.com/acme/service/blob/main/postmortems/INC-0001.md" in body
    assert fake.labels["incident-action"]["color"] == "d93f0b"
    assert "create an issue for INC-0001/A1: https://github.com/acme/service/issues/1" in out

    commit = head(published)
    assert list(commit.parents) == [before], "exactly one commit"
    assert list(commit.stats.files) == [PM]
    assert commit.message == (
        "Action items synced with acme/service: 2 linked\n\n"
        "Incident-Id: INC-0001\nAction: actions-sync\nActor: Test Responder\n"
    )
    assert f"issue: {ISSUES}/1" in front(published) and f"issue: {ISSUES}/2" in front(published)
    g = git.Repo(published)
    assert g.git.status("--porcelain") == " M README.md"
    assert run_cli("validate", cwd=published).code == 0


def test_second_sync_does_nothing(published: Path, fake: FakeGitHub) -> None:
    first_sync(published, fake)
    before = head(published)
    code, out, err = sync_cli(published)
    assert code == 0, err
    assert fake.calls() == ["GET /repos/acme/service", LIST]
    assert head(published) == before
    assert out.startswith("Nothing to sync")


def test_closing_an_issue_as_completed_marks_the_item_done(
    published: Path, fake: FakeGitHub
) -> None:
    first_sync(published, fake)
    fake.tick(3600)
    fake.close(1, "completed")
    code, out, err = sync_cli(published)
    assert code == 0, err
    assert fake.writes() == []
    assert "done: #1 was closed as completed" in out
    text = front(published)
    assert "status: done\n" in text and "done_at: '2026-03-20T10:00:00Z'" in text
    assert f"link: {ISSUES}/1" in text
    (a1,) = [i for i in items(published) if i["id"] == "A1"]
    assert a1["status"] == "done" and a1["overdue"] is False
    assert head(published).message.startswith("Action items synced with acme/service: 1 done")


def test_closing_an_issue_as_not_planned_records_wont_do_with_the_closing_comment(
    published: Path, fake: FakeGitHub
) -> None:
    first_sync(published, fake)
    fake.tick(600)
    fake.close(1, "not_planned", comment="Superseded by the new pooler.")
    code, _, err = sync_cli(published)
    assert code == 0, err
    assert fake.calls() == [
        "GET /repos/acme/service",
        LIST,
        "GET /repos/acme/service/issues/1/comments?per_page=100",
    ]
    text = front(published)
    assert "status: wont_do" in text
    assert "reason: Superseded by the new pooler." in text
    (a1,) = [i for i in items(published) if i["id"] == "A1"]
    assert a1["status"] == "wont_do" and a1["overdue"] is False
    assert run_cli("validate", cwd=published).code == 0
    overdue = run_cli("actions", "--overdue", "--as-of", "2026-05-01T00:00:00Z", cwd=published)
    assert "A1" not in overdue.out, "wont_do is never overdue"


def test_marking_done_in_the_repository_closes_the_issue_with_a_comment(
    published: Path, fake: FakeGitHub
) -> None:
    first_sync(published, fake)
    done = run_cli(
        "actions", "done", "INC-0001", "A2", "--at", "2026-03-21T08:00:00Z", cwd=published
    )
    assert done.code == 0, done.err
    before = head(published)
    code, out, err = sync_cli(published)
    assert code == 0, err
    assert [str(r) for r in fake.writes()] == [
        "POST /repos/acme/service/issues/2/comments",
        "PATCH /repos/acme/service/issues/2",
    ]
    comment, close = fake.writes()
    assert comment.body["body"].startswith(
        "Marked done on 2026-03-21T08:00:00Z in `postmortems/INC-0001.md` (action item A2)."
    )
    assert close.body == {"state": "closed", "state_reason": "completed"}
    assert fake.issues[2]["state"] == "closed"
    assert head(published) == before, "nothing to write back"
    assert "close #2 (completed) for INC-0001/A2" in out
    fake.clear()
    assert sync_cli(published)[0] == 0
    assert fake.writes() == [], "and the next sync leaves it alone"


def test_a_reopened_issue_reopens_the_item(published: Path, fake: FakeGitHub) -> None:
    first_sync(published, fake)
    fake.tick(60)
    fake.close(1, "completed")
    assert sync_cli(published)[0] == 0
    fake.tick(3600)
    fake.reopen(1)
    code, out, err = sync_cli(published)
    assert code == 0, err
    assert "reopened: #1 was reopened" in out
    (a1,) = [i for i in items(published) if i["id"] == "A1"]
    assert a1["status"] == "open"
    assert "done_at" not in front(published).split("id: A2")[0]


def test_a_changed_due_date_updates_the_issue_body(published: Path, fake: FakeGitHub) -> None:
    first_sync(published, fake)
    path = published / PM
    path.write_text(path.read_text().replace("2026-03-10T00:00:00Z", "2026-03-24T00:00:00Z"))
    g = git.Repo(published)
    g.index.add([PM])
    g.index.commit("A1 later")
    before = head(published)
    assert sync_cli(published)[0] == 0
    assert [str(r) for r in fake.writes()] == ["PATCH /repos/acme/service/issues/1"]
    assert set(fake.writes()[0].body) == {"body"}
    assert "- Due: 2026-03-24T00:00:00Z" in fake.issues[1]["body"]
    assert head(published) == before


def test_a_due_date_without_a_time_is_the_end_of_that_day_in_the_issue_body(
    published: Path, fake: FakeGitHub
) -> None:
    """`due: 2026-03-24` (a date, as people write one): the end of that day in the
    settings' time zone (UTC here), as `actions` reads it."""
    first_sync(published, fake)
    path = published / PM
    path.write_text(path.read_text().replace("2026-03-10T00:00:00Z", "2026-03-24"))
    g = git.Repo(published)
    g.index.add([PM])
    g.index.commit("A1 by a date")
    assert sync_cli(published)[0] == 0
    assert "- Due: 2026-03-24T23:59:59Z" in fake.issues[1]["body"]


def test_a_lost_issue_link_is_recovered_from_the_marker(published: Path, fake: FakeGitHub) -> None:
    first_sync(published, fake)
    g = git.Repo(published)
    g.git.reset("--hard", "HEAD~1")  # the commit with the links is lost
    assert "issue:" not in front(published)
    code, out, err = sync_cli(published)
    assert code == 0, err
    assert fake.writes() == [], "nothing created twice"
    assert len(fake.issues) == 2
    assert f"issue: {ISSUES}/1" in front(published) and f"issue: {ISSUES}/2" in front(published)
    assert "linked to #1 (found by its marker)" in out


def test_dry_run_writes_nothing_anywhere(published: Path, fake: FakeGitHub) -> None:
    before = head(published)
    code, out, err = sync_cli(published, "--dry-run", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["dry_run"] is True
    assert [c["item"] for c in report["created"]] == ["INC-0001/A1", "INC-0001/A2"]
    assert report["commit"] is None
    assert fake.writes() == []
    assert head(published) == before
    assert git.Repo(published).git.status("--porcelain") == ""


def test_a_secondary_rate_limit_is_waited_out_with_the_test_clock(
    published: Path, fake: FakeGitHub
) -> None:
    slept: list[float] = []
    fake.rate_limit_once("secondary", retry_after=2)
    client = GitHub(REPO, token=fake.token, api_url=fake.url, sleep=slept.append)
    result = sync(SyncOptions(published, repo=REPO), client=client)
    assert slept == [2.0]
    assert fake.calls()[:2] == ["GET /repos/acme/service", "GET /repos/acme/service"]
    assert [r.limited for r in fake.requests[:2]] == [True, False]
    assert len(result.created) == 2 and result.commit is not None


def test_a_primary_rate_limit_waits_until_the_reset(published: Path, fake: FakeGitHub) -> None:
    now = [1_900_000_000.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    first_sync(published, fake)
    fake.rate_limit_once("primary", reset=int(now[0]) + 4)
    client = GitHub(REPO, token=fake.token, api_url=fake.url, sleep=sleep, clock=lambda: now[0])
    sync(SyncOptions(published, repo=REPO), client=client)
    assert slept == [5.0]
    assert fake.calls() == ["GET /repos/acme/service", "GET /repos/acme/service", LIST]


def test_push_sends_the_one_commit_to_the_remote(
    published: Path, fake: FakeGitHub, tmp_path: Path
) -> None:
    remote = tmp_path / "remote.git"
    git.Repo.clone_from(published, remote, bare=True)
    g = git.Repo(published)
    g.create_remote("origin", str(remote))
    g.git.fetch("origin")
    g.git.branch("--set-upstream-to=origin/main", "main")
    code, out, err = sync_cli(published, "--push")
    assert code == 0, err
    assert "and pushed" in out
    assert git.Repo(remote).commit("main") == head(published)


def test_the_repository_defaults_to_github_repository_then_the_origin_url(
    published: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = run_cli("actions", "sync", "--dry-run", cwd=published)
    assert refused.code == 2
    assert "pass --repo OWNER/NAME" in refused.err and "no origin remote" in refused.err
    git.Repo(published).create_remote("origin", "git@github.com:acme/service.git")
    assert run_cli("actions", "sync", "--dry-run", cwd=published).code == 0
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/other")
    elsewhere = run_cli("actions", "sync", "--dry-run", cwd=published)
    assert elsewhere.code == 2
    assert elsewhere.err.count("\n") == 1 and "404" in elsewhere.err


def test_a_bad_token_is_one_line_and_changes_nothing(
    published: Path, fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "wrong")
    before = head(published)
    code, _, err = sync_cli(published)
    assert code == 2
    assert err == (
        "GitHub answered GET /repos/acme/service with 401: Bad credentials (check GITHUB_TOKEN)\n"
    )
    assert head(published) == before
    monkeypatch.delenv("GITHUB_TOKEN")
    assert "GITHUB_TOKEN is not set" in sync_cli(published)[2]


def test_stats_count_wont_do_apart(published: Path, fake: FakeGitHub) -> None:
    first_sync(published, fake)
    fake.close(1, "not_planned")
    assert sync_cli(published)[0] == 0
    shown = run_cli("stats", "--json", "--until", "2026-05-01T00:00:00Z", cwd=published)
    assert shown.code == 0, shown.err
    report = json.loads(shown.out)
    assert report["action_item_completion"]["items"] == 1
    assert report["action_item_completion"]["wont_do"] == 1
    assert report["action_item_completion"]["done"] == 0
    assert report["overdue"]["action_items"] == 1, "A2 (open, due 2026-04-01), not A1"
    text = run_cli("stats", "--until", "2026-05-01T00:00:00Z", cwd=published).out
    assert "Action items done: 0 of 1 (0.0%); 1 won't do, not counted" in text


def test_validate_holds_reason_to_wont_do_and_one_issue_to_one_item(published: Path) -> None:
    path = published / PM
    first, second = path.read_text().split("  - id: A2\n")
    first = first.replace(
        "    status: open\n", f"    status: open\n    reason: no time\n    issue: {ISSUES}/3\n"
    )
    second = second.replace("    status: open\n", f"    status: open\n    issue: {ISSUES}/3\n", 1)
    path.write_text(f"{first}  - id: A2\n{second}")
    result = run_cli("validate", cwd=published)
    assert result.code == 1
    lines = path.read_text().splitlines()
    reason = lines.index("    reason: no time") + 1
    again = [n for n, line in enumerate(lines, 1) if line == f"    issue: {ISSUES}/3"][-1]
    assert result.out == (
        f"{PM}:{reason}:5: action_items[0].reason: a reason is for wont_do items; this one is 'open'\n"
        f"{PM}:{again}:5: action_items[1].issue: the same issue as action item 'A1'\n"
    )


def test_github_failing_mid_sync_commits_nothing_and_the_next_sync_repairs_it(
    published: Path, fake: FakeGitHub
) -> None:
    before = head(published)
    fake.fail_once(502, "POST /repos/acme/service/issues", skip=1)
    code, _, err = sync_cli(published)
    assert code == 2
    assert err == (
        "GitHub answered POST /repos/acme/service/issues with 502: Server Error (try again later)\n"
    )
    assert head(published) == before
    assert git.Repo(published).git.status("--porcelain") == ""
    assert len(fake.issues) == 1, "the first issue was made before GitHub failed"
    fake.clear()
    code, _out, err = sync_cli(published)
    assert code == 0, err
    assert len(fake.issues) == 2, "the first one is found by its marker, not made again"
    assert [str(r) for r in fake.writes()] == ["POST /repos/acme/service/issues"]
    assert f"issue: {ISSUES}/1" in front(published) and f"issue: {ISSUES}/2" in front(published)
    assert list(head(published).parents) == [before]


def test_a_rejected_push_replays_the_sync_without_duplicates(
    published: Path, fake: FakeGitHub, tmp_path: Path
) -> None:
    remote = tmp_path / "remote.git"
    git.Repo.clone_from(published, remote, bare=True)
    mine = tmp_path / "mine"
    theirs = tmp_path / "theirs"
    git.Repo.clone_from(remote, mine)
    other = git.Repo.clone_from(remote, theirs)
    (theirs / "README.md").write_text("someone else's push\n")
    other.index.add(["README.md"])
    other.index.commit("Someone else's change")
    other.remote("origin").push("main")
    code, _, err = sync_cli(mine, "--push")
    assert code == 0, err
    assert "push rejected: replayed on origin/main" in err
    assert len(fake.issues) == 2
    assert [str(r) for r in fake.writes()].count("POST /repos/acme/service/issues") == 2
    tip = git.Repo(remote).commit("main")
    assert tip == head(mine)
    assert tip.parents[0].message.startswith("Someone else's change")
    shown = git.Repo(remote).git.show(f"main:{PM}")
    assert f"issue: {ISSUES}/1" in shown and f"issue: {ISSUES}/2" in shown


def test_uncommitted_edits_to_a_postmortem_stop_the_sync_before_github(
    published: Path, fake: FakeGitHub
) -> None:
    path = published / PM
    path.write_text(path.read_text().replace("Fast rollback.", "Fast rollback, mostly."))
    code, _, err = sync_cli(published)
    assert code == 2
    assert err == (
        f"{PM} has uncommitted changes; commit or stash them first "
        f"(see `git diff -- {PM}`); nothing was synced\n"
    )
    assert fake.requests == []
    assert "Fast rollback, mostly." in path.read_text()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/acme/service.git", "acme/service"),
        ("https://github.com/acme/service", "acme/service"),
        ("git@github.com:acme/service.git", "acme/service"),
        ("ssh://git@github.example.com/acme/service.git", "acme/service"),
        ("https://x-access-token:secret@github.com/acme/my.service.git", "acme/my.service"),
        ("/srv/git/service.git", None),
    ],
)
def test_the_origin_url_names_the_repository(repo: Path, url: str, expected: str | None) -> None:
    from incidents_cli.core.errors import RefusedError
    from incidents_cli.store.git import Repo
    from incidents_cli.usecases.actions_sync import default_repo

    git.Repo(repo).create_remote("origin", url)
    if expected is None:
        with pytest.raises(RefusedError, match="names none"):
            default_repo(Repo.at(repo), {})
    else:
        assert default_repo(Repo.at(repo), {}) == expected
    assert default_repo(Repo.at(repo), {"GITHUB_REPOSITORY": "o/n"}) == "o/n"
