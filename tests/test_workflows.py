"""The incident repository's workflows: actionlint-clean, and their run: steps really work.

Each job runs step by step (workflow_runner.py) in a fresh clone of a sample repository made
by `incidents init`, GitHub's variables set, and `gh` replaced by a recording stand-in. The
job's own install step installs the CLI, for real, from the wheel that init keeps in the
clone's .incidents/ folder, into a new virtual environment; the later steps use that CLI.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import git
import pytest
import yaml

from .conftest import ROOT, run_cli
from .external import missing
from .fakes.github_api import FakeGitHub
from .test_postmortems import ITEMS, publish, resolved_incident
from .workflow_runner import JobResult, install_gh_standin, run_job


def _actionlint() -> list[str]:
    """actionlint, with shellcheck for the run: scripts (both are in the test extras)."""
    found = [
        shutil.which(n, path=str(Path(sys.executable).parent)) for n in ("actionlint", "shellcheck")
    ]
    if None in found:
        pytest.fail("actionlint and shellcheck are part of the test extras; install '.[test]'")
    return [str(found[0]), f"-shellcheck={found[1]}"]


def test_actionlint_is_clean_here_and_in_an_initialized_repository(repo: Path) -> None:
    ours = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    theirs = sorted((repo / ".github" / "workflows").glob("*.yml"))
    assert {p.name for p in theirs} == {
        "incidents-alert.yml",
        "incidents-check.yml",
        "incidents-notify.yml",
        "incidents-overdue.yml",
        "incidents-publish.yml",
    }
    result = subprocess.run(
        [*_actionlint(), *map(str, ours + theirs)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_notify_step_gets_one_line_per_secret_the_settings_name_and_stays_clean(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "status"
    folder.mkdir()
    assert run_cli("init", str(tmp_path / "starter")).code == 0
    settings = (tmp_path / "starter" / "incidents.yaml").read_text()
    (folder / "incidents.yaml").write_text(
        settings
        + """notify:
  - {name: hook, type: webhook, audience: public, url_env: HOOK_URL, secret_env: HOOK_KEY}
  - {name: ops, type: slack, audience: internal, url_env: SLACK_WEBHOOK_URL}
  - {name: ops2, type: slack, audience: internal, url_env: SLACK_WEBHOOK_URL}
  - name: mail
    type: email
    audience: support
    to: [support@example.com]
    from: status@example.com
    host: smtp.example.com
    username_env: SMTP_USER
    password_env: SMTP_PASSWORD
"""
    )
    assert run_cli("init", str(folder)).code == 0  # keeps that incidents.yaml, follows it
    path = folder / ".github" / "workflows" / "incidents-notify.yml"
    workflow = yaml.safe_load(path.read_text())
    (step,) = [s for s in workflow["jobs"]["notify"]["steps"] if s.get("name") == "Notify"]
    names = ["HOOK_KEY", "HOOK_URL", "SLACK_WEBHOOK_URL", "SMTP_PASSWORD", "SMTP_USER"]
    assert step["env"] == {name: f"${{{{ secrets.{name} }}}}" for name in names}
    assert "SLACK_WEBHOOK_URL: ${{ secrets.SLACK_WEBHOOK_URL }}\n" in path.read_text()
    for shipped in [*(ROOT / ".github" / "workflows").glob("*.yml"), path]:
        assert "toJSON(secrets)" not in shipped.read_text()
    result = subprocess.run([*_actionlint(), str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _fresh_venv(folder: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    return folder


def _installed_from(venv: Path) -> str:
    """Where pip installed the incidents CLI of ``venv`` from (its direct_url.json)."""
    (record,) = venv.glob("lib/python*/site-packages/incidents-*.dist-info/direct_url.json")
    return str(json.loads(record.read_text())["url"])


# The install step runs with no package index at all: the CLI can only come from the clone.
NO_INDEX = {"PIP_NO_INDEX": "1", "PIP_CONFIG_FILE": os.devnull}


@pytest.fixture(scope="session")
def cli_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment with the CLI's pinned dependencies and not the CLI: each
    job's install step installs the CLI into it from the clone's .incidents/ folder."""
    from incidents_cli.store.cli_wheel import dependency_pins

    base = tmp_path_factory.mktemp("runner")
    venv = _fresh_venv(base / "venv")
    pins = base / "pins.txt"
    pins.write_text("".join(f"{pin}\n" for pin in dependency_pins()))
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-r", str(pins)],
        check=True,
        capture_output=True,
    )
    return venv


def _sample(tmp_path: Path, overdue: bool = True) -> Path:
    origin = tmp_path / "origin"
    assert run_cli("init", str(origin)).code == 0
    iid = resolved_incident(origin)
    assert (
        run_cli("postmortem", iid, "--at", "2026-03-01T12:00:00Z", "--by", "alice", cwd=origin).code
        == 0
    )
    path = origin / "postmortems" / f"{iid}.md"
    items = (
        ITEMS
        if overdue
        else ITEMS.replace("2026-03-10", "2099-03-10").replace("2026-04-01", "2099-04-01")
    )
    path.write_text(
        publish(path.read_text())
        .replace(ITEMS, items)
        .replace("due: 2026-04-01", "due: 2099-04-01")
    )
    g = git.Repo(origin)
    g.index.add([f"postmortems/{iid}.md"])
    g.index.commit("Publish the postmortem")
    return origin


class Runner:
    def __init__(self, tmp_path: Path, venv: Path, pip_env: dict[str, str] | None = None) -> None:
        self.tmp = tmp_path
        self.venv = venv
        self.pip_env = NO_INDEX if pip_env is None else pip_env
        self.bin = tmp_path / "standins"
        install_gh_standin(self.bin, sys.executable)
        self.log = tmp_path / "gh-log.jsonl"
        self.store = tmp_path / "gh-issues.json"
        self.runs = 0

    def clone(self, origin: Path) -> Path:
        self.runs += 1
        work = self.tmp / f"work{self.runs}"
        git.Repo.clone_from(origin, work)
        return work

    def run(
        self,
        origin: Path,
        workflow: str,
        job: str,
        event: dict[str, object] | None = None,
        secrets: dict[str, str] | None = None,
        **github: str,
    ) -> JobResult:
        work = self.clone(origin)
        return self.run_in(work, workflow, job, event=event, secrets=secrets, **github)

    def run_in(
        self,
        work: Path,
        workflow: str,
        job: str,
        event: dict[str, object] | None = None,
        secrets: dict[str, str] | None = None,
        **github: str,
    ) -> JobResult:
        env = {
            "GITHUB_TOKEN": "test-token",
            "GITHUB_REPOSITORY": "example/status",
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_RUN_ID": str(1000 + self.runs),
            "GITHUB_EVENT_NAME": "schedule",
            "GITHUB_REF": "refs/heads/main",
            "GH_STANDIN_LOG": str(self.log),
            "GH_STANDIN_STORE": str(self.store),
            **github,
        }
        return run_job(
            work / ".github" / "workflows" / workflow,
            job,
            work,
            github=env,
            path_prefix=[self.bin, self.venv / "bin"],
            overrides=self.pip_env,
            scratch=self.tmp / f"scratch{self.runs}",
            event=event,
            secrets=secrets,
        )

    def gh_calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def issues(self) -> list[dict[str, object]]:
        return json.loads(self.store.read_text()) if self.store.exists() else []


@pytest.fixture
def runner(tmp_path: Path, cli_venv: Path) -> Runner:
    return Runner(tmp_path, cli_venv)


def test_overdue_work_fails_the_job_and_keeps_one_tracking_issue(
    tmp_path: Path, runner: Runner
) -> None:
    origin = _sample(tmp_path)
    first = runner.run(origin, "incidents-overdue.yml", "overdue")
    assert first.status == "failure"
    assert [s.name for s in first.steps if s.code] == ["Fail while anything is overdue"]
    text = (origin / "postmortems" / "INC-0001.md").read_text().splitlines()
    line = text.index("  - id: A1") + 1
    assert first.annotations[0].startswith(
        f"::error file=postmortems/INC-0001.md,line={line},col=1,title=Overdue action item::"
        "INC-0001 A1 (owner carol): Alert on pool saturation - due 2026-03-10T00:00:00Z"
    )
    assert "| action item | INC-0001 | A1: Alert on pool saturation | carol |" in first.summary
    assert [c[:2] for c in runner.gh_calls()] == [["issue", "list"], ["issue", "create"]]
    issues = runner.issues()
    assert len(issues) == 1 and issues[0]["state"] == "open"
    assert "A1: Alert on pool saturation" in str(issues[0]["body"])

    second = runner.run(origin, "incidents-overdue.yml", "overdue")
    assert second.status == "failure"
    assert [c[:2] for c in runner.gh_calls()][2:] == [["issue", "list"], ["issue", "edit"]]
    assert len(runner.issues()) == 1, "never duplicated"

    done = run_cli(
        "actions", "done", "INC-0001", "A1", "--link", "https://example.com/pr/9", cwd=origin
    )
    assert done.code == 0, done.err
    third = runner.run(origin, "incidents-overdue.yml", "overdue")
    assert third.status == "success", [(s.name, s.stderr) for s in third.steps]
    assert third.annotations == []
    assert [c[:2] for c in runner.gh_calls()][4:] == [["issue", "list"], ["issue", "close"]]
    assert runner.issues()[0]["state"] == "closed"


def test_nothing_overdue_means_no_issue_and_a_green_job(tmp_path: Path, runner: Runner) -> None:
    origin = _sample(tmp_path, overdue=False)
    result = runner.run(origin, "incidents-overdue.yml", "overdue")
    assert result.status == "success"
    assert [c[:2] for c in runner.gh_calls()] == [["issue", "list"]]
    assert "Nothing to follow up." in result.summary


def test_publish_builds_the_site_for_pages(tmp_path: Path, runner: Runner) -> None:
    origin = _sample(tmp_path, overdue=False)
    result = runner.run(origin, "incidents-publish.yml", "build", GITHUB_EVENT_NAME="push")
    assert result.status == "success", [(s.name, s.stderr) for s in result.steps]
    assert result.annotations == []
    (site,) = result.uploaded
    assert (site / "index.html").is_file()
    summary = json.loads((site / "api/v2/summary.json").read_text())
    assert summary["page"]["url"] == "https://example.github.io/status"
    assert "Status page built" in result.summary
    deploy = runner.run(origin, "incidents-publish.yml", "deploy")
    assert deploy.status == "success"


def test_notify_tells_a_channel_once_across_fresh_clones(tmp_path: Path, runner: Runner) -> None:
    from tests.fakes.http_recorder import HttpRecorder

    origin = _sample(tmp_path, overdue=False)
    settings = origin / "incidents.yaml"
    settings.write_text(
        settings.read_text() + "notify:\n  - name: ops\n    type: slack\n    audience: internal\n"
        "    url_env: SLACK_OPS_WEBHOOK\n"
    )
    g = git.Repo(origin)
    g.index.add(["incidents.yaml"])
    g.index.commit("notify the ops channel")
    # a new channel's secret reaches the step once the workflow is refreshed, and no other
    assert run_cli("ci", "update", "--workflows", cwd=origin).code == 0
    workflow = yaml.safe_load((origin / ".github/workflows/incidents-notify.yml").read_text())
    (step,) = [s for s in workflow["jobs"]["notify"]["steps"] if s.get("name") == "Notify"]
    assert step["env"] == {"SLACK_OPS_WEBHOOK": "${{ secrets.SLACK_OPS_WEBHOOK }}"}
    with HttpRecorder() as server:
        secrets = {"SLACK_OPS_WEBHOOK": server.url("/ops"), "UNRELATED": "x"}
        work = runner.clone(origin)
        first = runner.run_in(work, "incidents-notify.yml", "notify", secrets=secrets)
        assert first.status == "success", [(s.name, s.stdout, s.stderr) for s in first.steps]
        assert server.at("/ops") == []  # the sample's incident is older than a first run's day
        assert run_cli("declare", "Checkout errors", "--severity", "high", cwd=origin).code == 0
        second = runner.run(origin, "incidents-notify.yml", "notify", secrets=secrets)
        assert second.status == "success", [(s.name, s.stderr) for s in second.steps]
        (declared,) = server.at("/ops")
        assert declared.json()["text"] == "INC-0002 declared: Checkout errors"
        third = runner.run(origin, "incidents-notify.yml", "notify", secrets=secrets)
        assert third.status == "success"
        assert len(server.at("/ops")) == 1  # a fresh clone each time: the state came along
    assert "refs/incidents/notified/ops" in g.git.for_each_ref("refs/incidents/")
    assert "### Notify as of" in first.summary


def test_publish_restores_the_record_cache_and_only_the_default_branch_saves_it(
    tmp_path: Path, runner: Runner
) -> None:
    origin = _sample(tmp_path, overdue=False)
    elsewhere = runner.run(
        origin, "incidents-publish.yml", "build", GITHUB_REF="refs/heads/feature"
    )
    assert elsewhere.status == "success", [(s.name, s.stderr) for s in elsewhere.steps]
    assert elsewhere.cache_saved == []  # a branch's run cannot seed the default branch's cache
    first = runner.run(origin, "incidents-publish.yml", "build", GITHUB_EVENT_NAME="push")
    assert first.status == "success", [(s.name, s.stderr) for s in first.steps]
    assert first.cache_restored == []
    (key,) = first.cache_saved
    assert key.startswith("incidents-records-")
    second = runner.run(origin, "incidents-publish.yml", "build", GITHUB_EVENT_NAME="push")
    assert second.status == "success", [(s.name, s.stderr) for s in second.steps]
    assert second.cache_restored == [key]
    assert list((runner.tmp / f"work{runner.runs}" / ".git" / "incidents-cache").glob("*.json"))


def test_publish_fails_on_an_invalid_record(tmp_path: Path, runner: Runner) -> None:
    origin = _sample(tmp_path, overdue=False)
    path = origin / "incidents" / "INC-0001.yaml"
    path.write_text(path.read_text().replace("severity: high", "severity: urgent"))
    g = git.Repo(origin)
    g.index.add(["incidents/INC-0001.yaml"])
    g.index.commit("typo")
    result = runner.run(origin, "incidents-publish.yml", "build")
    assert result.status == "failure"
    assert result.annotations[0].startswith(
        "::error file=incidents/INC-0001.yaml,line=3,col=1,title=severity::"
    )
    assert result.uploaded == []


def test_publish_goes_on_with_a_broken_runbook_and_on_call_file_as_warnings(
    tmp_path: Path, runner: Runner
) -> None:
    """What the site is not built from must not hold back a status update; the pull-request
    check stays strict about it."""
    origin = _sample(tmp_path, overdue=False)
    runbook = origin / "runbooks" / "bad-deploy-rollback.md"
    runbook.write_text(runbook.read_text().replace("owner: on-call", "owner: 42"))
    oncall = origin / "oncall.yaml"
    oncall.write_text(
        "rotations:\n  - id: primary\n    members: [alice]\n"
        "    start: 2026-01-05T09:00:00Z\n    shift: weekly\n"
    )
    g = git.Repo(origin)
    g.index.add(["runbooks/bad-deploy-rollback.md", "oncall.yaml"])
    g.index.commit("Edits that break a runbook and the rotation")

    published = runner.run(origin, "incidents-publish.yml", "build", GITHUB_EVENT_NAME="push")
    assert published.status == "success", [(s.name, s.stderr) for s in published.steps]
    warned = {a.split(",")[0] for a in published.annotations}
    assert warned == {
        "::warning file=runbooks/bad-deploy-rollback.md",
        "::warning file=oncall.yaml",
    }
    assert published.uploaded

    checked = runner.run(
        origin,
        "incidents-check.yml",
        "validate",
        GITHUB_EVENT_NAME="pull_request",
        GITHUB_BASE_REF="main",
    )
    assert checked.status == "failure"
    assert {a.split(",")[0] for a in checked.annotations} == {
        "::error file=runbooks/bad-deploy-rollback.md",
        "::error file=oncall.yaml",
    }


def test_pull_request_check_annotates_and_summarizes_action_items(
    tmp_path: Path, runner: Runner
) -> None:
    origin = _sample(tmp_path, overdue=False)
    work = runner.clone(origin)
    g = git.Repo(work)
    g.git.switch("-c", "postmortem-review")
    path = work / "postmortems" / "INC-0001.md"
    path.write_text(path.read_text().replace("    owner: alice\n", "", 1))
    g.index.add(["postmortems/INC-0001.md"])
    g.index.commit("Review the postmortem")
    result = runner.run_in(
        work,
        "incidents-check.yml",
        "validate",
        GITHUB_EVENT_NAME="pull_request",
        GITHUB_BASE_REF="main",
    )
    assert result.status == "failure"
    line = path.read_text().splitlines().index("  - id: A2") + 1
    assert result.annotations == [
        f"::error file=postmortems/INC-0001.md,line={line},col=5,"
        "title=action_items[1].owner::missing required field"
    ]
    assert "### Action items" in result.summary
    # a postmortem that does not validate is a finding, not input to the follow-up (#13):
    # its items come back once the annotation above is fixed
    assert "A1: Alert on pool saturation" not in result.summary
    path.write_text(path.read_text().replace("  - id: A2\n", "  - id: A2\n    owner: alice\n", 1))
    g.index.add(["postmortems/INC-0001.md"])
    g.index.commit("Fix the owner")
    fixed = runner.run_in(
        work,
        "incidents-check.yml",
        "validate",
        GITHUB_EVENT_NAME="pull_request",
        GITHUB_BASE_REF="main",
    )
    assert fixed.status == "success", fixed.annotations
    assert "| action item | INC-0001 | A1: Alert on pool saturation | carol |" in fixed.summary


def test_pre_commit_hook_rejects_an_invalid_record(tmp_path: Path) -> None:
    """A repository made by init, with the pre-commit framework, refuses a bad commit."""
    pre_commit = shutil.which("pre-commit", path=str(Path(sys.executable).parent))
    if pre_commit is None:
        pytest.fail("pre-commit is part of the test extras; install '.[test]'")
    source = tmp_path / "tool"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(source)], check=True)
    # The hook is installed from a commit of this repository, as a team would pin a tag;
    # uncommitted work of this checkout is carried over so the test sees it.
    for rel in subprocess.run(
        ["git", "ls-files", "-m", "-o", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split():
        if (ROOT / rel).is_file():
            (source / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, source / rel)
    src = git.Repo(source)
    src.git.add("-A")
    if src.is_dirty():
        src.index.commit("test snapshot")
    rev = src.head.commit.hexsha
    repo = tmp_path / "team"
    assert run_cli("init", str(repo)).code == 0
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {source}\n    rev: {rev}\n    hooks:\n      - id: incidents-validate\n"
    )
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-cache")}
    subprocess.run([pre_commit, "install"], cwd=repo, check=True, env=env, capture_output=True)
    bad = repo / "incidents" / "INC-0001.yaml"
    bad.write_text(
        "id: INC-0001\ntitle: x\nphase: detected\nsource: monitor\n"
        "detected_at: 2026-03-01T10:00:00\n"
    )
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    refused = subprocess.run(
        ["git", "commit", "-m", "bad"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert refused.returncode != 0
    assert (
        "incidents/INC-0001.yaml:5:1: detected_at: '2026-03-01T10:00:00' has no UTC offset"
        in refused.stdout + refused.stderr
    )
    bad.write_text(bad.read_text().replace("10:00:00\n", "10:00:00Z\n"))
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    accepted = subprocess.run(
        ["git", "commit", "-m", "good"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr


def test_the_install_step_installs_the_cli_that_the_repository_keeps(
    tmp_path: Path, runner: Runner
) -> None:
    """Into a new virtual environment, with pip as the machine has it (dependencies from the
    index or its cache); the CLI itself is the wheel in the clone's .incidents/ folder."""
    origin = _sample(tmp_path, overdue=False)
    venv = _fresh_venv(tmp_path / "new-venv")
    fresh = Runner(tmp_path / "fresh", venv, pip_env={})
    result = fresh.run(origin, "incidents-publish.yml", "build", GITHUB_EVENT_NAME="push")
    assert result.status == "success", [(s.name, s.stdout[-2000:], s.stderr) for s in result.steps]
    wheel = next((tmp_path / "fresh" / "work1" / ".incidents").glob("incidents-*.whl"))
    assert _installed_from(venv) == wheel.as_uri()
    assert result.uploaded and (result.uploaded[0] / "index.html").is_file()


def test_every_job_installs_the_cli_from_the_clone_with_no_index(
    tmp_path: Path, runner: Runner
) -> None:
    origin = _sample(tmp_path, overdue=False)
    for workflow, job in (
        ("incidents-publish.yml", "build"),
        ("incidents-overdue.yml", "overdue"),
        ("incidents-check.yml", "validate"),
    ):
        result = runner.run(origin, workflow, job, GITHUB_BASE_REF="main")
        install = next(s for s in result.steps if s.name == "Install the incidents CLI")
        assert install.code == 0, install.stdout + install.stderr
        assert result.status == "success", [(s.name, s.stderr) for s in result.steps]
    url = _installed_from(runner.venv)
    assert url.startswith("file://") and url.endswith(
        "/.incidents/incidents-0.1.0-py3-none-any.whl"
    )


SPY = """#!{python}
import json, os, sys
with open({log!r}, "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
os.execv({real!r}, [{real!r}, *sys.argv[1:]])
"""


def test_the_check_passes_each_changed_file_as_one_name(tmp_path: Path, runner: Runner) -> None:
    """Names with spaces, quotes and letters git would quote reach the CLI intact."""
    origin = _sample(tmp_path, overdue=False)
    work = runner.clone(origin)
    g = git.Repo(work)
    g.git.switch("-c", "notes")
    odd = 'postmortems/notes on "INC-0001" é.md'
    (work / odd).write_text("# notes\n")
    path = work / "postmortems" / "INC-0001.md"
    path.write_text(path.read_text() + "\nMore detail.\n")
    g.git.add("-A")
    g.index.commit("Notes")
    log = tmp_path / "spy.jsonl"
    spy = runner.bin / "incidents"
    spy.write_text(
        SPY.format(python=sys.executable, log=str(log), real=str(runner.venv / "bin" / "incidents"))
    )
    spy.chmod(0o755)
    result = runner.run_in(
        work,
        "incidents-check.yml",
        "validate",
        GITHUB_EVENT_NAME="pull_request",
        GITHUB_BASE_REF="main",
    )
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    (actions,) = [c for c in calls if c[:1] == ["actions"]]
    assert actions == [
        "actions",
        "--format",
        "markdown",
        "--path",
        "postmortems/INC-0001.md",
        "--path",
        odd,
    ]
    assert "| action item | INC-0001 | A1: Alert on pool saturation | carol |" in result.summary


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
    runner: Runner,
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


ALERTS = ROOT / "tests" / "data" / "alerts"


def _dispatch(client_payload: object) -> dict[str, object]:
    """A repository_dispatch event as GitHub records it for the run."""
    return {
        "action": "alert",
        "branch": "main",
        "client_payload": client_payload,
        "repository": {"full_name": "example/status"},
        "sender": {"login": "monitor-bot"},
    }


def test_alert_workflow_ingests_dispatched_payloads_and_pushes(
    tmp_path: Path, runner: Runner
) -> None:
    origin = tmp_path / "origin"
    assert run_cli("init", str(origin)).code == 0
    remote = tmp_path / "remote.git"
    git.Repo.clone_from(origin, remote, bare=True)
    firing = json.loads((ALERTS / "alertmanager-firing-one-region.json").read_text())
    firing["alerts"][0]["annotations"]["summary"] = "API errors $(touch pwned) `touch pwned2` '\""
    first = runner.run(
        remote,
        "incidents-alert.yml",
        "ingest",
        _dispatch(firing),
        GITHUB_EVENT_NAME="repository_dispatch",
    )
    assert first.status == "success", [(s.name, s.stdout, s.stderr) for s in first.steps]
    ingested = next(s for s in first.steps if s.name == "Ingest the alert")
    assert json.loads(ingested.stdout) == [{"id": "INC-0001", "action": "declared", "alerts": 1}]
    assert "### Alert ingested" in first.summary
    record = yaml.safe_load(git.Repo(remote).git.show("main:incidents/INC-0001.yaml"))
    assert record["source"] == "monitor"
    assert record["title"] == "API errors $(touch pwned) `touch pwned2` '\"", "data, never code"
    assert record["alert"]["group_key"] == firing["groupKey"]
    work = tmp_path / f"work{runner.runs}"
    assert not (work / "pwned").exists() and not (work / "pwned2").exists()
    assert any(a.startswith("::error file=incidents/INC-0001.yaml") for a in first.annotations), (
        "the unacknowledged page is visible in the run"
    )

    grafana = json.loads((ALERTS / "grafana-firing.json").read_text())
    second = runner.run(
        remote,
        "incidents-alert.yml",
        "ingest",
        _dispatch({"format": "grafana", "payload": grafana}),
        GITHUB_EVENT_NAME="repository_dispatch",
    )
    assert second.status == "success", [(s.name, s.stdout, s.stderr) for s in second.steps]
    tree = git.Repo(remote).commit("main").tree
    assert sorted(b.name for b in tree["incidents"].blobs) == [
        ".gitkeep",
        "INC-0001.yaml",
        "INC-0002.yaml",
    ]

    again = runner.run(
        remote,
        "incidents-alert.yml",
        "ingest",
        _dispatch(firing),
        GITHUB_EVENT_NAME="repository_dispatch",
    )
    assert again.status == "success"
    ingested = next(s for s in again.steps if s.name == "Ingest the alert")
    assert json.loads(ingested.stdout)[0]["action"] == "unchanged"

    bad = runner.run(
        remote,
        "incidents-alert.yml",
        "ingest",
        _dispatch({"format": "nagios", "payload": {}}),
        GITHUB_EVENT_NAME="repository_dispatch",
    )
    assert bad.status == "failure"
    assert "::error::unknown alert format 'nagios'" in bad.stdout + "".join(
        s.stderr for s in bad.steps
    )


def _readme_relay() -> str:
    """The Alertmanager relay exactly as README.md shows it."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    after = readme.split("**Alertmanager** cannot set its webhook's body", 1)[1]
    block = after.split("```python\n", 1)[1].split("```", 1)[0]
    return textwrap.dedent(block)


def test_the_readme_relay_carries_a_real_alertmanager_alert_to_the_alert_workflow(
    tmp_path: Path, runner: Runner
) -> None:
    """Alertmanager (Debian's, for real) -> the README's relay -> GitHub's dispatch endpoint
    (the fake, in GitHub's shapes) -> the installed alert workflow: an incident is declared."""
    from .alertmanager_harness import alert, alertmanager_binary, running_alertmanager

    if alertmanager_binary() is None:
        missing("Prometheus Alertmanager", "apt-get install prometheus-alertmanager")
    code = _readme_relay()
    port = _free_port()
    assert code.count('("127.0.0.1", 9099)') == 1
    code = code.replace('("127.0.0.1", 9099)', f'("127.0.0.1", {port})')
    origin = tmp_path / "origin"
    assert run_cli("init", str(origin)).code == 0
    remote = tmp_path / "remote.git"
    git.Repo.clone_from(origin, remote, bare=True)
    with FakeGitHub(owner="example", name="status", token="monitor-token").serve() as github:
        env = {
            **os.environ,
            "DISPATCH_URL": f"{github.url}/repos/example/status/dispatches",
            "GITHUB_TOKEN": "monitor-token",
        }
        relay = subprocess.Popen(
            [sys.executable, "-c", code], env=env, stderr=subprocess.PIPE, text=True
        )
        try:
            _wait_for_port(port, relay)
            start = datetime.now(UTC) - timedelta(minutes=5)
            with running_alertmanager(webhook_url=f"http://127.0.0.1:{port}/") as manager:
                manager.post([alert("eu-west", starts_at=start)])
                deadline = time.monotonic() + 60
                while not github.dispatches and time.monotonic() < deadline:
                    time.sleep(0.1)
        finally:
            relay.terminate()
            _, err = relay.communicate(timeout=10)
    assert len(github.dispatches) == 1, err
    (request,) = github.writes()
    assert request.path == "/repos/example/status/dispatches"
    assert request.authorization == "Bearer monitor-token"
    assert request.accept == "application/vnd.github+json"
    (event,) = github.dispatches
    assert event["event_type"] == "alert"
    assert event["client_payload"]["status"] == "firing"
    result = runner.run(
        remote,
        "incidents-alert.yml",
        "ingest",
        _dispatch(event["client_payload"]),
        GITHUB_EVENT_NAME="repository_dispatch",
    )
    assert result.status == "success", [(s.name, s.stdout, s.stderr) for s in result.steps]
    ingested = next(s for s in result.steps if s.name == "Ingest the alert")
    assert json.loads(ingested.stdout) == [{"id": "INC-0001", "action": "declared", "alerts": 1}]
    record = yaml.safe_load(git.Repo(remote).git.show("main:incidents/INC-0001.yaml"))
    assert record["source"] == "monitor" and record["regions"] == ["eu-west"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the relay exited: {process.communicate()[1]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the relay never listened")
