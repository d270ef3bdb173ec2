"""Shared steps of the #15 lifecycle tests: a repository walked to a phase, commit checks,
and a built site read back as feeds and JSON."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import feedparser
import git

from .conftest import run_cli


def ok(repo: Path, *args: str) -> str:
    """Run a command that must succeed; its stdout."""
    result = run_cli(*args, cwd=repo)
    assert result.code == 0, (args, result.err)
    assert "Traceback" not in result.err
    return result.out


def record(repo: Path, iid: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ok(repo, "show", iid, "--json"))
    return data


def head(repo: Path) -> str:
    return git.Repo(repo).head.commit.hexsha


def last_commit(repo: Path) -> tuple[str, dict[str, str], list[str], str]:
    """Subject, trailers, changed files and parent of HEAD."""
    out = subprocess.run(
        ["git", "log", "-1", "--format=%s%x1f%(trailers:only,unfold)%x1f%P"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    subject, raw, parent = out.strip("\n").split("\x1f")
    pairs = dict(line.split(": ", 1) for line in raw.strip().splitlines() if ": " in line)
    files = sorted(git.Repo(repo).head.commit.stats.files)
    return subject, pairs, files, parent.strip()


def assert_one_commit(repo: Path, before: str, **trailers: str) -> tuple[str, list[str]]:
    """HEAD is exactly one commit on ``before``, with these trailers, and the tree is clean;
    `validate` passes. Returns the subject and the files of the commit."""
    subject, pairs, files, parent = last_commit(repo)
    assert parent == before, "exactly one commit"
    for name, value in trailers.items():
        assert pairs.get(name.replace("_", "-")) == value, (name, pairs)
    assert "Actor" in pairs
    assert git.Repo(repo).git.status("--porcelain") == ""
    validated = run_cli("validate", cwd=repo)
    assert validated.code == 0, validated.out + validated.err
    return subject, files


def investigating(repo: Path, *, severity: str = "medium", public: bool = True) -> str:
    """INC-0001 on api in eu-west, investigating, with one public update if ``public``."""
    ok(
        repo,
        "declare",
        "Checkout is slow",
        "--component",
        "api",
        "--region",
        "eu-west",
        "--severity",
        severity,
        "--at",
        "2026-03-01T10:00:00Z",
    )
    ok(repo, "ack", "INC-0001", "--at", "2026-03-01T10:02:00Z", "--by", "alice")
    ok(repo, "assign", "INC-0001", "--commander", "alice", "--at", "2026-03-01T10:03:00Z")
    ok(repo, "investigate", "INC-0001", "--at", "2026-03-01T10:04:00Z")
    if public:
        ok(
            repo,
            "update",
            "INC-0001",
            "--status",
            "investigating",
            "--message",
            "Checkout is slow for some customers.",
            "--component",
            "api=degraded_performance",
            "--at",
            "2026-03-01T10:05:00Z",
        )
    return "INC-0001"


def build_site(repo: Path, out: Path, as_of: str = "2026-03-10T00:00:00Z") -> Path:
    result = run_cli("site", "build", "--out", str(out), "--as-of", as_of, cwd=repo)
    assert result.code == 0, result.err
    return out


def site_files(out: Path) -> dict[str, str]:
    return {
        str(p.relative_to(out)): p.read_text(encoding="utf-8", errors="replace")
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


def feed_entries(out: Path) -> list[Any]:
    entries = []
    for name in ("history.atom", "history.rss"):
        feed = feedparser.parse((out / name).read_text())
        assert not feed.bozo, (name, feed.get("bozo_exception"))
        entries.append(feed.entries)
    assert len(entries[0]) == len(entries[1])
    return list(entries[0])


def api_incident(out: Path, iid: str) -> dict[str, Any]:
    data = json.loads((out / "api" / "v2" / "incidents.json").read_text())
    found = [i for i in data["incidents"] if i["id"] == iid]
    assert len(found) == 1
    incident: dict[str, Any] = found[0]
    return incident


def assert_api_matches_statuspage_v2(out: Path) -> None:
    """Every API file of the built site in the Statuspage v2 shapes (tests/data's schema)."""
    from .test_site_consumers import schema_errors

    api = out / "api" / "v2"
    errors: list[str] = []
    for path in sorted(api.rglob("*.json")):
        errors += schema_errors(path.relative_to(api).as_posix(), json.loads(path.read_text()))
    assert errors == []
