"""`incidents notify` and `incidents comms` end to end: real repositories with a bare remote,
the real CLI, and real HTTP and SMTP servers on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import git
import jsonschema
import pytest
from slack_sdk.models.blocks import Block

from tests.conftest import run_cli
from tests.fakes.http_recorder import HttpRecorder
from tests.fakes.smtp_server import SmtpServer

DATA = Path(__file__).parent / "data"
AS_OF = "2026-03-01T15:00:00Z"
MARK = "ZZLEAKZZ"
CHANNELS = """
notify:
  - name: status-hook
    type: webhook
    audience: public
    url_env: HOOK_URL
    secret_env: HOOK_SECRET
    unsubscribe: https://status.example.com/unsubscribe
  - name: ops-slack
    type: slack
    audience: internal
    url_env: SLACK_URL
  - name: ops-teams
    type: teams
    audience: internal
    url_env: TEAMS_URL
  - name: community
    type: discord
    audience: public
    url_env: DISCORD_URL
  - name: public-slack
    type: slack
    audience: public
    url_env: PUBLIC_SLACK_URL
  - name: support-mail
    type: email
    audience: support
    to: [support@example.com]
    from: status@example.com
    host: 127.0.0.1
    port: {port}
    security: none
  - name: subscribers
    type: email
    audience: public
    subscribers: subscribers.txt
    from: Example Status <status@example.com>
    unsubscribe: https://status.example.com/unsubscribe?email={{email}}
    host: 127.0.0.1
    port: {port}
    security: none
"""
PATHS = {
    "HOOK_URL": "/hook",
    "SLACK_URL": "/slack",
    "TEAMS_URL": "/teams",
    "DISCORD_URL": "/discord",
    "PUBLIC_SLACK_URL": "/public-slack",
}


def _git(path: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=path, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def servers(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[HttpRecorder, SmtpServer]]:
    with HttpRecorder() as http, SmtpServer() as smtp:
        for name, path in PATHS.items():
            monkeypatch.setenv(name, http.url(path))
        monkeypatch.setenv("HOOK_SECRET", "hook-secret")
        yield http, smtp


@pytest.fixture
def origin(tmp_path: Path, servers: tuple[HttpRecorder, SmtpServer]) -> Path:
    """A bare remote holding a repository with every kind of channel configured."""
    _, smtp = servers
    work = tmp_path / "seed"
    assert run_cli("init", str(work)).code == 0
    settings = work / "incidents.yaml"
    settings.write_text(
        settings.read_text(encoding="utf-8") + CHANNELS.format(port=smtp.port), encoding="utf-8"
    )
    (work / "subscribers.txt").write_text(
        "# public subscribers\nann@example.com\nben@example.com\n"
    )
    _git(work, "add", "incidents.yaml", "subscribers.txt")
    _git(work, "commit", "-qm", "notify channels")
    remote = tmp_path / "origin.git"
    git.Repo.clone_from(work, remote, bare=True)
    return remote


def clone(origin: Path, path: Path) -> Path:
    git.Repo.clone_from(origin, path)
    return path


def incident(repo: Path) -> str:
    """A high incident from declaration to resolution, markers in every internal field."""
    steps = [
        [
            "declare",
            "Checkout errors",
            "--severity",
            "high",
            "--component",
            "api",
            "--region",
            f"eu-{MARK}",
            "--summary",
            f"summary {MARK}",
            "--at",
            "2026-03-01T14:00:00Z",
        ],
        ["ack", "INC-0001", "--at", "2026-03-01T14:03:00Z", "--by", "alice"],
        [
            "assign",
            "INC-0001",
            "--commander",
            "alice",
            "--responder",
            "bob",
            "--at",
            "2026-03-01T14:04:00Z",
        ],
        [
            "note",
            "INC-0001",
            f"note {MARK}",
            "--evidence",
            f"https://logs/{MARK}",
            "--at",
            "2026-03-01T14:05:00Z",
        ],
        [
            "update",
            "INC-0001",
            "--status",
            "identified",
            "--message",
            "Payments fail for some.",
            "--component",
            "api=partial_outage",
            "--eta",
            "2026-03-01T16:00:00Z",
            "--at",
            "2026-03-01T14:10:00Z",
        ],
        [
            "resolve",
            "INC-0001",
            "--action",
            "rollback",
            "--summary",
            f"rolled back {MARK}",
            "--verified-in",
            f"eu-{MARK}",
            "--at",
            "2026-03-01T14:40:00Z",
        ],
    ]
    for step in steps:
        result = run_cli(*step, cwd=repo)
        assert result.code == 0, (step, result.err)
    return "INC-0001"


def notify(repo: Path, *args: str) -> tuple[int, dict]:
    result = run_cli("notify", "--json", "--as-of", AS_OF, *args, cwd=repo)
    assert result.code in (0, 1), result.err
    return result.code, json.loads(result.out)


def sent(report: dict) -> dict[str, list[str]]:
    return {c["name"]: [s["event"] for s in c["sent"]] for c in report["channels"]}


def test_each_channel_is_told_what_is_meant_for_it_exactly_once(
    origin: Path, tmp_path: Path, servers: tuple[HttpRecorder, SmtpServer]
) -> None:
    http, smtp = servers
    repo = clone(origin, tmp_path / "a")
    incident(repo)
    code, report = notify(repo)
    assert code == 0, report
    assert sent(report) == {
        "status-hook": ["public_update", "resolved"],
        "ops-slack": ["declared", "acknowledged", "role_assigned", "public_update", "resolved"],
        "ops-teams": ["declared", "acknowledged", "role_assigned", "public_update", "resolved"],
        "community": ["public_update", "resolved"],
        "public-slack": ["public_update", "resolved"],
        "support-mail": ["public_update", "resolved"],
        "subscribers": ["public_update", "resolved"],
    }
    # the webhook: Statuspage's shape, signed over the exact bytes
    hook = http.at("/hook")
    first = hook[0].json()
    assert set(first) == {"meta", "page", "incident", "notice"}
    assert first["meta"]["unsubscribe"] == "https://status.example.com/unsubscribe"
    assert first["incident"]["id"] == "INC-0001"
    # newest first: the resolved update `resolve` posted, then the one before it
    statuses = [u["status"] for u in first["incident"]["incident_updates"]]
    assert statuses == ["resolved", "identified"]
    component = hook[1].json()["component_update"]
    assert (component["old_status"], component["new_status"]) == ("operational", "partial_outage")
    for request in hook:
        digest = hmac.new(b"hook-secret", request.body, hashlib.sha256).hexdigest()
        assert request.header("X-Incidents-Signature-256") == f"sha256={digest}"
    # Slack and Teams: their own validators
    for request in http.at("/slack") + http.at("/public-slack"):
        for block in request.json()["blocks"]:
            Block.parse(block).validate_json()  # type: ignore[union-attr]
    schema = json.loads((DATA / "adaptive-card-1.4.schema.json").read_text(encoding="utf-8"))
    for request in http.at("/teams"):
        jsonschema.validate(
            request.json()["attachments"][0]["content"], schema, cls=jsonschema.Draft6Validator
        )
    # mail: the team list together, each subscriber alone
    to = sorted(tuple(m.rcpt_tos) for m in smtp.received)
    assert to.count(("support@example.com",)) == 2
    assert to.count(("ann@example.com",)) == 2 and to.count(("ben@example.com",)) == 2
    # the second run: nothing at all
    before = (len(http.requests), len(smtp.received))
    code, report = notify(repo)
    assert code == 0
    assert all(not c["sent"] for c in report["channels"])
    assert (len(http.requests), len(smtp.received)) == before


def test_no_internal_marker_reaches_a_public_channel(
    origin: Path, tmp_path: Path, servers: tuple[HttpRecorder, SmtpServer]
) -> None:
    http, smtp = servers
    repo = clone(origin, tmp_path / "a")
    incident(repo)
    code, _ = notify(repo)
    assert code == 0
    public = [r.body.decode() for p in ("/hook", "/discord", "/public-slack") for r in http.at(p)]
    public += [m.data.decode() for m in smtp.received if m.rcpt_tos != ["support@example.com"]]
    assert public
    for text in public:
        assert MARK not in text
        for name in ("alice", "bob", "Test Responder", "rollback"):
            assert name not in text
    internal = "".join(r.body.decode() for r in http.at("/slack"))
    assert "alice" in internal  # the internal channel does hear who is on it


def test_a_failing_channel_gets_its_messages_next_time_and_the_others_nothing(
    origin: Path, tmp_path: Path, servers: tuple[HttpRecorder, SmtpServer]
) -> None:
    http, _ = servers
    repo = clone(origin, tmp_path / "a")
    incident(repo)
    http.fail("/teams", 503)
    code, report = notify(repo)
    assert code == 1
    teams = next(c for c in report["channels"] if c["name"] == "ops-teams")
    assert teams["sent"] == [] and len(teams["pending"]) == 5
    assert "HTTP 503" in teams["error"]
    http.heal("/teams")
    http.clear()
    code, report = notify(repo)
    assert code == 0
    assert sent(report)["ops-teams"] == [
        "declared",
        "acknowledged",
        "role_assigned",
        "public_update",
        "resolved",
    ]
    assert {r.path for r in http.requests} == {"/teams"}


def test_a_server_dying_mid_run_gets_the_rest_next_time_in_order(
    origin: Path,
    tmp_path: Path,
    servers: tuple[HttpRecorder, SmtpServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    http, smtp = servers
    repo = clone(origin, tmp_path / "a")
    incident(repo)
    http.fail_after("/slack", 2)
    monkeypatch.setenv("TEAMS_URL", "http://127.0.0.1:9/teams")  # nothing listens: refused
    code, report = notify(repo)
    assert code == 1
    slack = next(c for c in report["channels"] if c["name"] == "ops-slack")
    assert [s["event"] for s in slack["sent"]] == ["declared", "acknowledged"]
    assert "HTTP 500" in slack["error"]
    teams = next(c for c in report["channels"] if c["name"] == "ops-teams")
    assert teams["sent"] == [] and "ConnectError" in teams["error"]
    others = (len(http.requests) - len(http.at("/slack")), len(smtp.received))
    http.heal("/slack")
    with HttpRecorder() as teams_server:
        monkeypatch.setenv("TEAMS_URL", teams_server.url("/teams"))
        code, report = notify(repo)
        assert len(teams_server.requests) == 5
    assert code == 0
    assert sent(report)["ops-slack"] == ["role_assigned", "public_update", "resolved"]
    heads = [r.json()["blocks"][0]["text"]["text"] for r in http.at("/slack")]
    assert heads[-3:] == [
        "INC-0001 roles: Checkout errors",
        "INC-0001 public update: Checkout errors",
        "INC-0001 resolved: Checkout errors",
    ]
    assert (len(http.requests) - len(http.at("/slack")), len(smtp.received)) == others


def test_a_run_killed_mid_channel_repeats_at_most_the_message_in_flight(
    origin: Path, tmp_path: Path, servers: tuple[HttpRecorder, SmtpServer]
) -> None:
    import os
    import shutil
    import signal
    import sys

    http, _ = servers
    repo = clone(origin, tmp_path / "a")
    incident(repo)
    exe = shutil.which("incidents", path=str(Path(sys.executable).parent))
    assert exe is not None, "the console script is installed with the package"
    arrived, release = http.hold("/slack", 3)
    process = subprocess.Popen(
        [exe, "-C", str(repo), "notify", "--as-of", AS_OF, "--channel", "ops-slack"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ),
    )
    try:
        assert arrived.wait(timeout=60), "the third message never arrived"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        release.set()
    assert process.returncode == -signal.SIGKILL
    code, report = notify(repo, "--channel", "ops-slack")
    assert code == 0, report
    # the third message was in flight when the run died: it alone is sent again
    assert sent(report)["ops-slack"] == ["role_assigned", "public_update", "resolved"]
    heads = [r.json()["text"].split(":")[0] for r in http.at("/slack")]
    assert heads == [
        "INC-0001 declared",
        "INC-0001 acknowledged",
        "INC-0001 roles",
        "INC-0001 roles",
        "INC-0001 public update",
        "INC-0001 resolved",
    ]


def test_a_refused_mail_recipient_alone_is_mailed_again_and_the_others_once(
    origin: Path, tmp_path: Path, servers: tuple[HttpRecorder, SmtpServer]
) -> None:
    from collections import Counter

    _, smtp = servers
    work = clone(origin, tmp_path / "work")
    (work / "subscribers.txt").write_text("ann@example.com\nben@example.com\ncat@example.com\n")
    settings = work / "incidents.yaml"
    text = settings.read_text(encoding="utf-8")
    text = text.replace("to: [support@example.com]", "to: [support@example.com, t2@example.com]")
    settings.write_text(text, encoding="utf-8")
    _git(work, "commit", "-qam", "more recipients")
    incident(work)
    _git(work, "push", "-q", "origin", "main")

    def mailed() -> Counter[str]:
        return Counter(to for m in smtp.received for to in m.rcpt_tos)

    smtp.refuse("ben@example.com", "t2@example.com")
    code, report = notify(work)
    assert code == 1
    errors = {c["name"]: c["error"] for c in report["channels"] if c["error"]}
    assert set(errors) == {"subscribers", "support-mail"}
    assert "ben@example.com: 550 5.1.1" in errors["subscribers"]
    assert "t2@example.com: 550 5.1.1" in errors["support-mail"]
    assert "ann@" not in errors["subscribers"] and "cat@" not in errors["subscribers"]
    once = {"ann@example.com": 2, "cat@example.com": 2, "support@example.com": 2}
    assert mailed() == once
    # still refused, from a fresh clone (the state went through the remote): nobody again
    code, report = notify(clone(origin, tmp_path / "second"))
    assert code == 1
    assert mailed() == once
    # accepted at last: the refused ones alone get their two, in order, and the others nothing
    smtp.refuse()
    code, report = notify(clone(origin, tmp_path / "third"))
    assert code == 0, report
    assert sent(report)["subscribers"] == ["public_update", "resolved"]
    assert sent(report)["support-mail"] == ["public_update", "resolved"]
    assert mailed() == {**once, "ben@example.com": 2, "t2@example.com": 2}
    ben = [m.message for m in smtp.received if m.rcpt_tos == ["ben@example.com"]]
    assert [m["X-Incidents-Event"] for m in ben] == ["public_update", "resolved"]
    team = [m.message for m in smtp.received if m.rcpt_tos == ["t2@example.com"]]
    assert {m["To"] for m in team} == {"support@example.com, t2@example.com"}
    code, report = notify(clone(origin, tmp_path / "fourth"))
    assert code == 0 and all(not c["sent"] for c in report["channels"])
    assert mailed() == {**once, "ben@example.com": 2, "t2@example.com": 2}


def test_mail_stopped_midway_through_a_notice_does_not_repeat_it_to_those_who_got_it(
    origin: Path, tmp_path: Path, servers: tuple[HttpRecorder, SmtpServer]
) -> None:
    _, smtp = servers
    work = clone(origin, tmp_path / "work")
    (work / "subscribers.txt").write_text("ann@example.com\nben@example.com\ncat@example.com\n")
    _git(work, "commit", "-qam", "three subscribers")
    incident(work)
    smtp.fail_data("ben@example.com")  # the server fails the send itself: the channel stops
    code, report = notify(work, "--channel", "subscribers")
    assert code == 1 and "451 4.3.0" in report["channels"][0]["error"]
    assert [m.rcpt_tos for m in smtp.received] == [["ann@example.com"]]
    smtp.fail_data()
    code, report = notify(work, "--channel", "subscribers")
    assert code == 0
    to = [(m.rcpt_tos[0], m.message["X-Incidents-Event"]) for m in smtp.received]
    assert to == [
        ("ann@example.com", "public_update"),  # the first run's one message, not repeated
        ("ben@example.com", "public_update"),
        ("cat@example.com", "public_update"),
        ("ann@example.com", "resolved"),
        ("ben@example.com", "resolved"),
        ("cat@example.com", "resolved"),
    ]


def test_the_state_travels_through_the_remote_to_a_fresh_clone(
    origin: Path, tmp_path: Path, servers: tuple[HttpRecorder, SmtpServer]
) -> None:
    http, smtp = servers
    first = clone(origin, tmp_path / "first")
    incident(first)
    _git(first, "push", "-q", "origin", "main")
    code, _ = notify(first)
    assert code == 0
    count = (len(http.requests), len(smtp.received))
    refs = _git(
        tmp_path / "origin.git", "for-each-ref", "--format=%(refname)", "refs/incidents/notified/"
    )
    assert "refs/incidents/notified/ops-slack" in refs.split()
    second = clone(origin, tmp_path / "second")
    code, report = notify(second)
    assert code == 0
    assert all(not c["sent"] for c in report["channels"])
    assert (len(http.requests), len(smtp.received)) == count
    # news made on the second clone reaches the channels once, from a third clone too
    assert (
        run_cli(
            "reopen",
            "INC-0001",
            "--reason",
            "errors again",
            "--at",
            "2026-03-01T14:50:00Z",
            cwd=second,
        ).code
        == 0
    )
    _git(second, "push", "-q", "origin", "main")
    third = clone(origin, tmp_path / "third")
    code, report = notify(third)
    assert code == 0
    assert sent(report)["ops-slack"] == ["reopened"]
    # the site shows it open again, so the public hears that, without the internal reason
    assert sent(report)["status-hook"] == ["reopened"]
    body = http.requests[-1].body.decode()
    assert "errors again" not in "".join(r.body.decode() for r in http.at("/hook"))
    assert body


def test_dry_run_sends_and_remembers_nothing(
    origin: Path, tmp_path: Path, servers: tuple[HttpRecorder, SmtpServer]
) -> None:
    http, smtp = servers
    repo = clone(origin, tmp_path / "a")
    incident(repo)
    code, report = notify(repo, "--dry-run", "--channel", "status-hook")
    assert code == 0
    (hook,) = report["channels"]
    assert hook["requests"][0]["body"]["incident"]["id"] == "INC-0001"
    assert hook["requests"][0]["headers"]["X-Incidents-Signature-256"].startswith("sha256=")
    assert http.requests == [] and smtp.received == []
    assert _git(repo, "for-each-ref", "refs/incidents/") == ""


def test_a_missing_secret_fails_only_its_channel(
    origin: Path,
    tmp_path: Path,
    servers: tuple[HttpRecorder, SmtpServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    http, _ = servers
    monkeypatch.delenv("DISCORD_URL")
    repo = clone(origin, tmp_path / "a")
    incident(repo)
    result = run_cli("notify", "--as-of", AS_OF, cwd=repo)
    assert result.code == 1
    assert "community: the environment variable DISCORD_URL (url_env) is not set" in result.err
    assert http.at("/slack")
    assert "http://127.0.0.1" not in result.err + result.out  # URLs are secrets


def test_an_unreachable_remote_sends_nothing(
    origin: Path, tmp_path: Path, servers: tuple[HttpRecorder, SmtpServer]
) -> None:
    http, smtp = servers
    repo = clone(origin, tmp_path / "a")
    incident(repo)
    _git(repo, "remote", "set-url", "origin", str(tmp_path / "gone.git"))
    result = run_cli("notify", "--as-of", AS_OF, cwd=repo)
    assert result.code == 1
    assert result.err.startswith("git fetch from origin failed: ")
    assert "nothing was sent" in result.err
    assert http.requests == [] and smtp.received == []


def test_unknown_channel_is_refused(origin: Path, tmp_path: Path) -> None:
    repo = clone(origin, tmp_path / "a")
    result = run_cli("notify", "--channel", "nope", cwd=repo)
    assert result.code == 2
    assert result.err.startswith("--channel nope: no such channel in notify: (status-hook,")


# --- comms -----------------------------------------------------------------------------------


def test_comms_at_the_edges_of_update_every(repo: Path) -> None:
    assert (
        run_cli(
            "declare", "Slow API", "--severity", "high", "--at", "2026-03-01T14:00:00Z", cwd=repo
        ).code
        == 0
    )
    assert run_cli("ack", "INC-0001", "--at", "2026-03-01T14:02:00Z", cwd=repo).code == 0
    # no public update at all: quiet once the 15m ack window has passed
    assert run_cli("comms", "--as-of", "2026-03-01T14:15:00Z", cwd=repo).code == 0
    late = run_cli("comms", "--as-of", "2026-03-01T14:15:01Z", cwd=repo)
    assert late.code == 1
    assert "INC-0001 high: no public update yet" in late.out
    assert (
        run_cli(
            "update",
            "INC-0001",
            "--status",
            "investigating",
            "--message",
            "Looking.",
            "--at",
            "2026-03-01T14:20:00Z",
            cwd=repo,
        ).code
        == 0
    )
    # high: update_every 1h
    assert run_cli("comms", "--as-of", "2026-03-01T15:20:00Z", cwd=repo).code == 0
    quiet = run_cli("comms", "--as-of", "2026-03-01T15:20:01Z", "--format", "json", cwd=repo)
    assert quiet.code == 1
    (found,) = json.loads(quiet.out)
    assert found["incident"] == "INC-0001" and found["update_every_seconds"] == 3600
    github = run_cli("comms", "--as-of", "2026-03-01T15:20:01Z", "--format", "github", cwd=repo)
    assert github.out.startswith("::error file=incidents/INC-0001.yaml,line=")


def test_notify_reminds_internal_channels_once_per_interval(
    origin: Path, tmp_path: Path, servers: tuple[HttpRecorder, SmtpServer]
) -> None:
    _http, _ = servers
    repo = clone(origin, tmp_path / "a")
    assert (
        run_cli(
            "declare", "Slow API", "--severity", "high", "--at", "2026-03-01T14:00:00Z", cwd=repo
        ).code
        == 0
    )
    assert run_cli("ack", "INC-0001", "--at", "2026-03-01T14:02:00Z", cwd=repo).code == 0
    assert (
        run_cli(
            "update",
            "INC-0001",
            "--status",
            "investigating",
            "--message",
            "Looking.",
            "--at",
            "2026-03-01T14:20:00Z",
            cwd=repo,
        ).code
        == 0
    )

    def run(as_of: str) -> list[str]:
        result = run_cli("notify", "--json", "--as-of", as_of, "--channel", "ops-slack", cwd=repo)
        assert result.code == 0, result.err
        return [s["event"] for s in json.loads(result.out)["channels"][0]["sent"]]

    assert run("2026-03-01T15:00:00Z") == ["declared", "acknowledged", "public_update"]
    assert run("2026-03-01T15:20:01Z") == ["update_due"]
    assert run("2026-03-01T15:50:00Z") == []
    assert run("2026-03-01T16:20:01Z") == ["update_due"]


def test_the_site_leak_test_holds_for_every_public_channel(
    origin: Path, tmp_path: Path, servers: tuple[HttpRecorder, SmtpServer]
) -> None:
    """The status site's leak fixtures (markers in every internal field, a private incident,
    one never announced, a draft postmortem) reach no public channel."""
    from tests.test_site import (
        DRAFT_POSTMORTEM,
        HIDDEN_INCIDENT,
        SECRET_INCIDENT,
        UNANNOUNCED,
        commit_all,
        write,
    )
    from tests.test_site import MARK as SITE_MARK

    http, smtp = servers
    repo = clone(origin, tmp_path / "a")
    code, _ = notify(repo)  # a first run: the state starts here, so all that follows is news
    assert code == 0
    write(repo, "incidents/INC-0001.yaml", SECRET_INCIDENT)
    write(repo, "incidents/INC-0002.yaml", HIDDEN_INCIDENT)
    write(repo, "incidents/INC-0003.yaml", UNANNOUNCED)
    write(repo, "postmortems/INC-0001.md", DRAFT_POSTMORTEM)
    commit_all(repo)
    code, report = notify(repo, "--as-of", "2026-03-05T00:00:00Z")
    assert code == 0, report
    # the resolved update is told once, by the resolved notice
    assert sent(report)["status-hook"] == ["public_update", "resolved"]
    assert sent(report)["community"] == ["public_update", "resolved"]
    assert "declared" in sent(report)["ops-slack"]  # internal channels hear all three
    public = [r.body for p in ("/hook", "/discord", "/public-slack") for r in http.at(p)]
    public += [m.data for m in smtp.received if m.rcpt_tos != ["support@example.com"]]
    assert public
    for data in public:
        assert SITE_MARK.lower().encode() not in data.lower()
        for person in (b"alice", b"bob", b"carol"):
            assert person not in data
    # the postmortem, once published and public, is news for the public too
    published = DRAFT_POSTMORTEM.replace("status: draft", "status: published").replace(
        f"{SITE_MARK} summary of an unpublished postmortem", "The provider failed."
    )
    write(
        repo,
        "postmortems/INC-0001.md",
        published.replace("due:", "published_at: 2026-03-04T00:00:00Z\ndue:", 1),
    )
    commit_all(repo, "publish the postmortem")
    checked = run_cli("validate", "postmortems/INC-0001.md", cwd=repo).out
    assert "schema" not in checked and "front matter" not in checked, checked
    http.clear()
    code, report = notify(repo, "--as-of", "2026-03-05T00:00:00Z")
    assert code == 0, report
    assert sent(report)["status-hook"] == ["postmortem_published"]
    (hook,) = [r for r in http.at("/hook")]
    assert hook.json()["incident"]["status"] == "postmortem"
    assert hook.json()["notice"]["text"] == "The provider failed."
    assert not any(SITE_MARK.encode() in r.body for r in http.requests if r.path != "/slack")


def test_an_unacknowledged_incident_escalates_once_per_tier(
    origin: Path, tmp_path: Path, servers: tuple[HttpRecorder, SmtpServer]
) -> None:
    http, _ = servers
    repo = clone(origin, tmp_path / "a")
    declared = run_cli(
        "declare",
        "Database down",
        "--severity",
        "critical",
        "--at",
        "2026-03-01T14:00:00Z",
        cwd=repo,
    )
    assert declared.code == 0, declared.err

    def run(as_of: str) -> list[str]:
        result = run_cli("notify", "--json", "--as-of", as_of, "--channel", "ops-slack", cwd=repo)
        assert result.code == 0, result.err
        return [s["event"] for s in json.loads(result.out)["channels"][0]["sent"]]

    assert run("2026-03-01T14:04:00Z") == ["declared"]
    assert run("2026-03-01T14:06:00Z") == ["escalation_due", "update_due"]
    assert run("2026-03-01T14:09:00Z") == []
    assert run("2026-03-01T14:11:00Z") == ["escalation_due"]  # the next tier; same silence
    assert run("2026-03-01T14:35:01Z") == ["escalation_due", "update_due"]
    texts = [r.json()["text"] for r in http.at("/slack")]
    assert texts.count("INC-0001 escalation due: Database down") == 3


def test_maintenance_is_announced_started_and_ended_with_component_updates(
    origin: Path, tmp_path: Path, servers: tuple[HttpRecorder, SmtpServer]
) -> None:
    http, _ = servers
    repo = clone(origin, tmp_path / "a")
    assert notify(repo, "--as-of", "2026-03-01T00:00:00Z")[0] == 0
    (repo / "maintenance").mkdir()
    (repo / "maintenance" / "db-upgrade.yaml").write_text(
        "id: db-upgrade\ntitle: Database upgrade\nstart: 2026-03-02T02:00:00Z\n"
        "end: 2026-03-02T03:00:00Z\ncomponents: [database]\nmessage: Writes pause briefly.\n"
    )
    _git(repo, "add", "maintenance")
    _git(repo, "commit", "-qm", "maintenance window")
    runs = [
        "2026-03-01T12:00:00Z",
        "2026-03-02T02:00:00Z",
        "2026-03-02T02:30:00Z",
        "2026-03-02T03:00:00Z",
        "2026-03-02T04:00:00Z",
    ]
    told = [sent(notify(repo, "--as-of", at)[1])["status-hook"] for at in runs]
    assert told == [
        ["maintenance_announced"],
        ["maintenance_started"],
        [],
        ["maintenance_ended"],
        [],
    ]
    bodies = [r.json() for r in http.at("/hook")]
    assert bodies[0]["incident"]["status"] == "scheduled"
    updates = [b["component_update"] for b in bodies if "component_update" in b]
    assert [(u["component_id"], u["old_status"], u["new_status"]) for u in updates] == [
        ("database", "operational", "under_maintenance"),
        ("database", "under_maintenance", "operational"),
    ]


def test_validate_checks_the_channels(repo: Path) -> None:
    settings = repo / "incidents.yaml"
    original = settings.read_text()
    # A secret in the repository is a schema problem (rules wait until the schema passes).
    settings.write_text(
        original + "notify:\n"
        "  - {name: leak, type: slack, audience: public, url: https://hooks.example.com/x}\n"
    )
    result = run_cli("validate", cwd=repo)
    assert result.code == 1
    start = settings.read_text().splitlines().index("notify:") + 1
    lines = result.out.splitlines()
    assert any(line.startswith(f"incidents.yaml:{start + 1}:") and "url" in line for line in lines)
    # Then the rules across channels: unique names, known components.
    settings.write_text(
        original + "notify:\n"
        "  - {name: ops, type: slack, audience: internal, url_env: A}\n"
        "  - {name: ops, type: slack, audience: public, url_env: B, components: [nope]}\n"
    )
    result = run_cli("validate", cwd=repo)
    assert result.code == 1
    lines = result.out.splitlines()
    assert f"incidents.yaml:{start + 2}:6: notify[1].name: duplicate channel name 'ops'" in lines
    assert any(
        line.startswith(f"incidents.yaml:{start + 2}:") and "unknown component 'nope'" in line
        for line in lines
    ), lines


def test_an_amended_update_is_not_told_again_and_a_new_one_is(
    origin: Path, tmp_path: Path, servers: tuple[HttpRecorder, SmtpServer]
) -> None:
    repo = clone(origin, tmp_path / "a")
    incident(repo)
    code, _ = notify(repo)
    assert code == 0
    amended = run_cli(
        "amend", "INC-0001", "U1", "--message", "Card payments fail for some.", cwd=repo
    )
    assert amended.code == 0, amended.err
    code, report = notify(repo)
    assert code == 0 and all(not c["sent"] for c in report["channels"]), report
    posted = run_cli(
        "reopen",
        "INC-0001",
        "--reason",
        "errors are back",
        "--at",
        "2026-03-01T14:50:00Z",
        cwd=repo,
    )
    assert posted.code == 0, posted.err
    code, report = notify(repo)
    assert sent(report)["community"] == ["reopened"]


def test_a_record_that_does_not_validate_stops_no_channel_and_no_comms(
    origin: Path, tmp_path: Path, servers: tuple[HttpRecorder, SmtpServer]
) -> None:
    repo = clone(origin, tmp_path / "a")
    incident(repo)
    broken = repo / "incidents" / "INC-0002.yaml"
    broken.write_text(
        "id: INC-0002\ntitle: Hand-made\nphase: detected\nsource: internal\nseverity: [x]\n"
        "components: 5\ntimeline: 7\ndetected_at: 2026-03-01T14:30:00Z\n"
    )
    _git(repo, "add", "incidents/INC-0002.yaml")
    _git(repo, "commit", "-qm", "a hand edit gone wrong")
    code, report = notify(repo)
    assert code == 0, report
    assert sent(report)["ops-slack"] == [
        "declared",
        "acknowledged",
        "role_assigned",
        "public_update",
        "resolved",
    ]
    comms = run_cli("comms", "--as-of", AS_OF, cwd=repo)
    assert comms.code in (0, 1), comms.err
