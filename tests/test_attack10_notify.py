"""Attack round 10 on `incidents notify`: settings of the wrong type."""

from __future__ import annotations

import subprocess
from pathlib import Path

import git
import pytest
import yaml

from tests.conftest import run_cli
from tests.fakes.http_recorder import HttpRecorder
from tests.fakes.smtp_server import SmtpServer
from tests.test_notify_cli import AS_OF, _git, clone, incident, origin, servers

from .console_helpers import run_script

__all__ = ["origin", "servers"]  # the fixtures, used by name


@pytest.mark.parametrize("field", ["components", "people"])
def test_a_settings_field_of_the_wrong_type_stops_notify_in_one_line(
    repo: Path, field: str
) -> None:
    path = repo / "incidents.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data[field] = 5
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    g = git.Repo(repo)
    g.index.add(["incidents.yaml"])
    g.index.commit("a hand edit gone wrong")
    result = run_script(repo, "notify", "--dry-run")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("incidents.yaml:"), result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr


@pytest.mark.parametrize("port", [99999999999999999999, 70000, 0, True])
def test_an_smtp_port_out_of_range_is_no_bug(repo: Path, port: int) -> None:
    declared = run_script(
        repo, "declare", "Checkout down", "--severity", "high", "--at", "2026-03-01T14:00:00Z"
    )
    assert declared.returncode == 0, declared.stderr
    path = repo / "incidents.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["notify"] = [
        {
            "name": "ops-mail",
            "type": "email",
            "audience": "internal",
            "to": ["ops@example.com"],
            "from": "status@example.com",
            "host": "127.0.0.1",
            "port": port,
            "security": "none",
        }
    ]
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    g = git.Repo(repo)
    g.index.add(["incidents.yaml"])
    g.index.commit("a mail channel")
    result = run_script(repo, "notify", "--as-of", "2026-03-01T14:01:00Z")
    assert "unexpected error" not in result.stderr, result.stderr
    # refused as validate refuses it, not sent to another port (smtplib takes 0 as 25)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("incidents.yaml:"), result.stderr
    assert "notify[0].port" in result.stderr, result.stderr


def test_a_deeply_nested_channel_state_is_no_bug(repo: Path) -> None:
    path = repo / "incidents.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["notify"] = [
        {"name": "ops", "type": "slack", "audience": "internal", "url_env": "SLACK_URL"}
    ]
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    g = git.Repo(repo)
    g.index.add(["incidents.yaml"])
    g.index.commit("a chat channel")
    state = "[" * 100_000 + "]" * 100_000

    def run(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=repo, input=state, capture_output=True, text=True, check=True
        ).stdout.strip()

    blob = run("hash-object", "-w", "--stdin")
    tree = subprocess.run(
        ["git", "mktree"],
        cwd=repo,
        input=f"100644 blob {blob}\tstate.json\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    commit = run("commit-tree", tree, "-m", "state")
    run("update-ref", "refs/incidents/notified/ops", commit)
    result = run_script(repo, "notify", "--dry-run", SLACK_URL="http://127.0.0.1:9/hook")
    assert "unexpected error" not in result.stderr, result.stderr
    assert result.returncode in (0, 1, 2), result.stderr


def test_a_deeply_nested_claim_on_the_remote_is_no_bug(repo: Path, tmp_path: Path) -> None:
    path = repo / "incidents.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["notify"] = [
        {"name": "ops", "type": "slack", "audience": "internal", "url_env": "SLACK_URL"}
    ]
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    g = git.Repo(repo)
    g.index.add(["incidents.yaml"])
    g.index.commit("a chat channel")
    declared = run_script(
        repo, "declare", "Checkout down", "--severity", "high", "--at", "2026-03-01T14:00:00Z"
    )
    assert declared.returncode == 0, declared.stderr
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(origin)], check=True)
    subprocess.run(["git", "remote", "add", "origin", str(origin)], cwd=repo, check=True)
    subprocess.run(["git", "fetch", "-q", "origin"], cwd=repo, check=True)

    def run(*args: str, stdin: str = "") -> str:
        return subprocess.run(
            ["git", *args], cwd=origin, input=stdin, capture_output=True, text=True, check=True
        ).stdout.strip()

    blob = run("hash-object", "-w", "--stdin", stdin="[" * 100_000 + "]" * 100_000)
    tree = run("mktree", stdin=f"100644 blob {blob}\tclaim.json\n")
    run("update-ref", "refs/incidents/notify-claims/ops", run("commit-tree", tree, "-m", "c"))
    result = run_script(
        repo, "notify", "--as-of", "2026-03-01T14:01:00Z", SLACK_URL="http://127.0.0.1:9/hook"
    )
    assert "unexpected error" not in result.stderr, result.stderr
    assert result.returncode in (0, 1, 2), result.stderr


@pytest.mark.parametrize("rel", ["oncall.yaml", "incidents.yaml"])
def test_a_file_that_is_not_utf8_stops_notify_in_one_line(repo: Path, rel: str) -> None:
    path = repo / "incidents.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["notify"] = [
        {"name": "ops", "type": "slack", "audience": "internal", "url_env": "SLACK_URL"}
    ]
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    latin1 = repo / rel
    latin1.write_bytes(latin1.read_bytes() + b"# Ren\xe9e joins in May\n")
    g = git.Repo(repo)
    g.index.add(["incidents.yaml", "oncall.yaml"])
    g.index.commit("a channel, and a note saved in Latin-1")
    assert run_script(repo, "oncall").stderr.startswith(f"{rel}:")
    result = run_script(repo, "notify", "--dry-run", SLACK_URL="http://127.0.0.1:9/hook")
    assert "unexpected error" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"{rel}:"), result.stderr


def test_a_subscriber_list_that_is_not_utf8_fails_only_its_channel(repo: Path) -> None:
    declared = run_script(
        repo, "declare", "Checkout down", "--severity", "high", "--at", "2026-03-01T14:00:00Z"
    )
    assert declared.returncode == 0, declared.stderr
    updated = run_script(
        repo,
        "update",
        "INC-0001",
        "--status",
        "investigating",
        "--message",
        "We are looking into it.",
        "--at",
        "2026-03-01T14:01:00Z",
    )
    assert updated.returncode == 0, updated.stderr
    path = repo / "incidents.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["notify"] = [
        {
            "name": "subscribers",
            "type": "email",
            "audience": "public",
            "subscribers": "subscribers.txt",
            "from": "status@example.com",
            "host": "127.0.0.1",
            "port": 9,
            "security": "none",
        }
    ]
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    (repo / "subscribers.txt").write_bytes(b"ann@example.com\nRen\xe9e <renee@example.com>\n")
    g = git.Repo(repo)
    g.index.add(["incidents.yaml", "subscribers.txt"])
    g.index.commit("subscribers, exported from an old tool")
    assert run_script(repo, "validate").returncode == 0
    result = run_script(repo, "notify", "--as-of", "2026-03-01T14:02:00Z")
    assert "unexpected error" not in result.stderr, result.stderr
    assert result.returncode in (1, 2), result.stderr
    assert "subscribers" in result.stderr, result.stderr


def test_a_subscriber_list_that_is_not_utf8_leaves_the_other_channels_told(
    origin: Path, tmp_path: Path, servers: tuple[HttpRecorder, SmtpServer]
) -> None:
    http, smtp = servers
    repo = clone(origin, tmp_path / "a")
    (repo / "subscribers.txt").write_bytes(b"ann@example.com\nRen\xe9e <renee@example.com>\n")
    _git(repo, "commit", "-qam", "subscribers, exported from an old tool")
    incident(repo)
    result = run_cli("notify", "--as-of", AS_OF, cwd=repo)
    assert result.code == 1, result.err
    assert "subscribers: subscribers.txt:2: the subscriber list is not UTF-8" in result.err
    assert "unexpected error" not in result.err
    assert http.at("/slack")  # the other channels are told
    assert not [m for m in smtp.received if "ann@example.com" in m.rcpt_tos]
