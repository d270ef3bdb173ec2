"""The daily workflow's sync job, run step by step against the fake GitHub API."""

from __future__ import annotations

from pathlib import Path

import git
import yaml

from .conftest import ROOT
from .fakes.github_api import FakeGitHub
from .test_workflows import Runner, _sample, cli_env, runner  # noqa: F401 (fixtures)


def test_the_overdue_workflow_syncs_first_with_write_rights_only_there() -> None:
    spec = yaml.safe_load((ROOT / ".github/workflows/incidents-overdue.yml").read_text())
    assert spec["permissions"] == {"contents": "read"}
    jobs = spec["jobs"]
    assert jobs["sync"]["permissions"] == {"contents": "write", "issues": "write"}
    assert jobs["overdue"]["permissions"] == {"contents": "read", "issues": "write"}
    assert jobs["overdue"]["needs"] == "sync"
    assert "incidents actions sync --push" in jobs["sync"]["steps"][-1]["run"]


def test_the_sync_job_creates_the_issues_and_pushes_one_commit(
    tmp_path: Path,
    runner: Runner,  # noqa: F811
) -> None:
    origin = _sample(tmp_path, overdue=False)
    git.Repo(origin).git.config("receive.denyCurrentBranch", "updateInstead")
    before = git.Repo(origin).head.commit
    with FakeGitHub(owner="example", name="status").serve() as fake:
        result = runner.run(origin, "incidents-overdue.yml", "sync", GITHUB_API_URL=fake.url)
        assert result.status == "success", [(s.name, s.stderr) for s in result.steps]
        assert sorted(i["title"] for i in fake.issues.values()) == [
            "[INC-0001/A1] Alert on pool saturation",
            "[INC-0001/A2] Index check in CI",
        ]
        after = git.Repo(origin).head.commit
        assert list(after.parents) == [before]
        assert after.author.name == "github-actions[bot]"
        assert list(after.stats.files) == ["postmortems/INC-0001.md"]
        fake.clear()
        again = runner.run(origin, "incidents-overdue.yml", "sync", GITHUB_API_URL=fake.url)
        assert again.status == "success"
        assert fake.writes() == []
        assert git.Repo(origin).head.commit == after
