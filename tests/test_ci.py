"""What CI installs: the CLI kept in .incidents/, `incidents ci update`, `--cli SPEC`, and the
supply chain of the workflows (actions pinned to commits, Dependabot)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import git
import pytest
import yaml

from .conftest import ROOT, run_cli

SHA_PIN = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout


def _wheel_of(repo: Path) -> Path:
    (wheel,) = (repo / ".incidents").glob("incidents-*.whl")
    return wheel


def _pretend_an_older_cli(repo: Path) -> None:
    """The repository as an older CLI left it: its wheel, its pins."""
    folder = repo / ".incidents"
    _wheel_of(repo).unlink()
    (folder / "incidents-0.0.9-py3-none-any.whl").write_bytes(b"PK an older wheel")
    requirements = folder / "requirements.txt"
    requirements.write_text(
        requirements.read_text().replace("incidents-0.1.0-py3", "incidents-0.0.9-py3")
    )
    (folder / "constraints.txt").write_text("click==8.0.0\n")
    _git(repo, "add", "-A", ".incidents")
    _git(repo, "commit", "-q", "-m", "The CLI of last year")


def test_init_keeps_the_running_cli_and_its_pins_in_the_repository(repo: Path) -> None:
    from incidents_cli.store.cli_wheel import build_cli_wheel

    wheel = _wheel_of(repo)
    assert wheel.name == "incidents-0.1.0-py3-none-any.whl"
    assert wheel.read_bytes() == build_cli_wheel().data, "the same CLI gives the same bytes"
    requirements = (repo / ".incidents" / "requirements.txt").read_text()
    lines = [line for line in requirements.splitlines() if not line.startswith("#")]
    assert lines == ["--constraint constraints.txt", f"./.incidents/{wheel.name}"]
    constraints = (repo / ".incidents" / "constraints.txt").read_text()
    assert f"click=={metadata.version('click')}\n" in constraints
    assert f"jsonschema=={metadata.version('jsonschema')}\n" in constraints
    assert "incidents==" not in constraints
    committed = _git(repo, "ls-files").split()
    assert {".incidents/requirements.txt", ".incidents/constraints.txt"} <= set(committed)
    assert f".incidents/{wheel.name}" in committed
    assert _git(repo, "status", "--porcelain") == ""
    for workflow in (repo / ".github" / "workflows").glob("*.yml"):
        text = workflow.read_text()
        assert "python -m pip install --requirement .incidents/requirements.txt" in text
        assert "0.1.0" not in text, "the version is written in one place only"


def test_the_kept_wheel_has_what_hatchling_builds(repo: Path, tmp_path: Path) -> None:
    """Same files, same contents, as `pip wheel .` of this source (RECORD and WHEEL aside)."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (built,) = tmp_path.glob("incidents-*.whl")
    ours = zipfile.ZipFile(_wheel_of(repo))
    theirs = zipfile.ZipFile(built)
    assert sorted(ours.namelist()) == sorted(theirs.namelist())
    info = "incidents-0.1.0.dist-info"
    differ = {n for n in ours.namelist() if ours.read(n) != theirs.read(n)}
    # METADATA is the installed one: under `pip install -e .` its long description is the
    # README as it was at install time; the fields themselves must be the same.
    assert differ - {f"{info}/METADATA"} == {f"{info}/RECORD", f"{info}/WHEEL"}
    fields = [z.read(f"{info}/METADATA").decode().split("\n\n")[0] for z in (ours, theirs)]
    assert fields[0] == fields[1]
    assert ours.testzip() is None


def test_ci_update_after_an_upgrade_changes_only_the_kept_cli_in_one_commit(repo: Path) -> None:
    _pretend_an_older_cli(repo)
    before = _git(repo, "rev-parse", "HEAD").strip()
    # A person's unrelated work, staged and not, is left as it is.
    settings = repo / "incidents.yaml"
    settings.write_text(settings.read_text() + "# my edit\n")
    (repo / "runbooks" / "new.md").write_text("draft\n")
    _git(repo, "add", "runbooks/new.md")

    result = run_cli("ci", "update", cwd=repo)
    assert result.code == 0, result.err
    assert _git(repo, "rev-parse", "HEAD~1").strip() == before
    changed = _git(repo, "show", "--name-status", "--format=", "HEAD").split("\n")
    assert sorted(filter(None, changed)) == [
        "A\t.incidents/incidents-0.1.0-py3-none-any.whl",
        "D\t.incidents/incidents-0.0.9-py3-none-any.whl",
        "M\t.incidents/constraints.txt",
        "M\t.incidents/requirements.txt",
    ]
    assert "incidents 0.1.0" in _git(repo, "log", "-1", "--format=%s")
    assert _git(repo, "status", "--porcelain").splitlines() == [
        " M incidents.yaml",
        "A  runbooks/new.md",
    ]
    assert "committed" in result.out

    again = run_cli("ci", "update", cwd=repo)
    assert again.code == 0, again.err
    assert _git(repo, "rev-parse", "HEAD~1").strip() == before, "running twice changes nothing"
    assert "Nothing to do" in again.out


def test_init_with_a_cli_spec_writes_the_choice_in_one_place(tmp_path: Path, repo: Path) -> None:
    other = tmp_path / "pinned"
    result = run_cli("init", str(other), "--cli", "incidents==0.2.0")
    assert result.code == 0, result.err
    requirements = (other / ".incidents" / "requirements.txt").read_text()
    assert [line for line in requirements.splitlines() if not line.startswith("#")] == [
        "incidents==0.2.0"
    ]
    assert sorted(p.name for p in (other / ".incidents").iterdir()) == ["requirements.txt"]
    # The workflows are the same files whatever the choice: it is written once, there.
    for workflow in (repo / ".github" / "workflows").iterdir():
        assert (other / ".github" / "workflows" / workflow.name).read_bytes() == (
            workflow.read_bytes()
        )
    grep = subprocess.run(
        ["git", "grep", "-l", "0.2.0"], cwd=other, capture_output=True, text=True, check=False
    )
    assert grep.stdout.split() == [".incidents/requirements.txt"]


def test_ci_update_switches_to_a_git_url_and_back(repo: Path) -> None:
    url = "git+https://github.com/example/incidents@v0.2.0"
    result = run_cli("ci", "update", "--cli", url, cwd=repo)
    assert result.code == 0, result.err
    requirements = (repo / ".incidents" / "requirements.txt").read_text()
    assert requirements.splitlines()[-1] == f"incidents @ {url}"
    assert sorted(p.name for p in (repo / ".incidents").iterdir()) == ["requirements.txt"]
    assert _git(repo, "status", "--porcelain") == ""
    count = _git(repo, "rev-list", "--count", "HEAD")

    kept = run_cli("ci", "update", cwd=repo)
    assert kept.code == 0 and _git(repo, "rev-list", "--count", "HEAD") == count
    assert (repo / ".incidents" / "requirements.txt").read_text() == requirements

    back = run_cli("ci", "update", "--vendor", cwd=repo)
    assert back.code == 0, back.err
    assert _wheel_of(repo).is_file()
    assert (repo / ".incidents" / "constraints.txt").is_file()
    assert _git(repo, "status", "--porcelain") == ""


@pytest.mark.parametrize(
    "spec", ["0.2.0", "requests==2.0", "incidents==0.2.0; python_version<'3'", "not a spec"]
)
def test_a_cli_spec_that_is_not_the_incidents_package_is_refused(repo: Path, spec: str) -> None:
    head = _git(repo, "rev-parse", "HEAD")
    result = run_cli("ci", "update", "--cli", spec, cwd=repo)
    assert result.code == 2
    assert result.err.count("\n") == 1 and "--cli" in result.err
    assert _git(repo, "rev-parse", "HEAD") == head
    assert _git(repo, "status", "--porcelain") == ""


def test_ci_update_refuses_while_its_files_have_uncommitted_changes(repo: Path) -> None:
    _pretend_an_older_cli(repo)
    constraints = repo / ".incidents" / "constraints.txt"
    constraints.write_text("click==8.0.0\nmine==1\n")
    result = run_cli("ci", "update", cwd=repo)
    assert result.code == 2
    assert ".incidents/constraints.txt has uncommitted changes" in result.err
    assert constraints.read_text() == "click==8.0.0\nmine==1\n"
    assert (repo / ".incidents" / "incidents-0.0.9-py3-none-any.whl").is_file()


def test_a_refused_commit_leaves_the_files_as_they_were(repo: Path) -> None:
    _pretend_an_older_cli(repo)
    head = _git(repo, "rev-parse", "HEAD")
    snapshot = {p.name: p.read_bytes() for p in (repo / ".incidents").iterdir()}
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'no commits today' >&2\nexit 1\n")
    hook.chmod(0o755)
    result = run_cli("ci", "update", cwd=repo)
    assert result.code != 0
    assert _git(repo, "rev-parse", "HEAD") == head
    assert {p.name: p.read_bytes() for p in (repo / ".incidents").iterdir()} == snapshot
    assert _git(repo, "status", "--porcelain") == ""


def _uses(document: object) -> list[str]:
    """Every `uses:` value anywhere in a parsed workflow or action."""
    found: list[str] = []
    if isinstance(document, dict):
        for key, value in document.items():
            if key == "uses" and isinstance(value, str):
                found.append(value)
            else:
                found.extend(_uses(value))
    elif isinstance(document, list):
        for value in document:
            found.extend(_uses(value))
    return found


def test_every_action_is_pinned_to_a_full_commit_with_its_version_named(repo: Path) -> None:
    files = [
        *sorted((repo / ".github" / "workflows").glob("*.yml")),
        *sorted((ROOT / ".github" / "workflows").glob("*.yml")),
        ROOT / "action.yml",
    ]
    seen = 0
    for path in files:
        text = path.read_text()
        for uses in _uses(yaml.safe_load(text)):
            assert SHA_PIN.match(uses), f"{path.name}: {uses} is not pinned to a commit"
            comment = re.search(re.escape(uses) + r" # (v\d+(\.\d+)*)$", text, re.M)
            assert comment, f"{path.name}: {uses} has no version comment"
            seen += 1
    assert seen >= 12


def test_checkout_keeps_credentials_only_where_a_job_pushes_and_permissions_are_read_only(
    repo: Path,
) -> None:
    for path in sorted((repo / ".github" / "workflows").glob("*.yml")):
        spec = yaml.safe_load(path.read_text())
        assert spec["permissions"] == {"contents": "read"}, path.name
        for name, job in spec["jobs"].items():
            pushes = (job.get("permissions") or {}).get("contents") == "write"
            for step in job["steps"]:
                if str(step.get("uses", "")).startswith("actions/checkout@") and not pushes:
                    assert step["with"]["persist-credentials"] is False, f"{path.name} {name}"


def test_a_job_that_builds_the_site_checks_out_the_whole_history(repo: Path) -> None:
    """maintenance.ics numbers a window's changes (SEQUENCE) by the commits that changed its
    record: in actions/checkout's default shallow clone every window would stay at 0, and
    calendars would keep their first copy of a moved window."""
    builders = 0
    for path in sorted((repo / ".github" / "workflows").glob("incidents-*.yml")):
        for name, job in yaml.safe_load(path.read_text())["jobs"].items():
            runs = " ".join(str(step.get("run", "")) for step in job["steps"])
            if "incidents site build" not in runs:
                continue
            builders += 1
            checkouts = [
                step
                for step in job["steps"]
                if str(step.get("uses", "")).startswith("actions/checkout@")
            ]
            assert checkouts and all(c["with"].get("fetch-depth") == 0 for c in checkouts), (
                f"{path.name} {name}"
            )
    assert builders >= 1


def test_a_shallow_clone_cannot_number_a_windows_changes_which_is_why(tmp_path: Path) -> None:
    """What the test above guards against, for real: the same commit built from a full
    clone and from a shallow one gives a moved window SEQUENCE 1 and 0."""
    repo = tmp_path / "repo"
    assert run_cli("init", str(repo)).code == 0
    start = "2030-01-10T02:00:00Z"
    made = run_cli(
        "maintenance",
        "new",
        "Database upgrade",
        "--start",
        start,
        "--end",
        "2030-01-10T03:00:00Z",
        "--component",
        "api",
        "--by",
        "ana",
        cwd=repo,
    )
    assert made.code == 0, made.err
    moved = run_cli(
        "maintenance",
        "update",
        "MNT-0001",
        "--start",
        "2030-01-11T02:00:00Z",
        "--end",
        "2030-01-11T03:00:00Z",
        "--by",
        "ana",
        cwd=repo,
    )
    assert moved.code == 0, moved.err
    sequences = []
    for depth in ([], ["--depth", "1"]):
        clone = tmp_path / f"clone{len(depth)}"
        subprocess.run(["git", "clone", "-q", *depth, f"file://{repo}", str(clone)], check=True)
        built = run_cli(
            "site", "build", "--out", "site", "--as-of", "2030-01-01T00:00:00Z", cwd=clone
        )
        assert built.code == 0, built.err
        ics = (clone / "site" / "maintenance.ics").read_text(encoding="utf-8")
        sequences.append(re.findall(r"^SEQUENCE:(\d+)", ics, re.M))
    assert sequences == [["1"], ["0"]]


def test_init_writes_a_dependabot_config_for_the_actions(repo: Path) -> None:
    config = yaml.safe_load((repo / ".github" / "dependabot.yml").read_text())
    assert config["version"] == 2
    (update,) = config["updates"]
    assert update["package-ecosystem"] == "github-actions"
    assert update["directory"] == "/"
    assert ".github/dependabot.yml" in _git(repo, "ls-files").split()


def test_the_kept_requirements_name_no_index_for_the_cli(repo: Path) -> None:
    """The wheel is named by its path: pip reads it from the clone, never from an index."""
    g = git.Repo(repo)
    text = g.git.show("HEAD:.incidents/requirements.txt")
    assert f"./.incidents/{_wheel_of(repo).name}" in text.splitlines()
    assert "--index-url" not in text and "--extra-index-url" not in text


def test_the_composite_action_installs_the_cli_of_its_own_source(tmp_path: Path) -> None:
    """`uses: OWNER/incidents@REF`: the action's run: steps, with github.action_path at this
    source, install the CLI into the Python on PATH and report its version."""
    from incidents_cli import __version__

    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    output = tmp_path / "output"
    output.write_text("")
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "GITHUB_OUTPUT": str(output),
    }
    for step in action["runs"]["steps"]:
        if "run" not in step:
            assert step["uses"].startswith("actions/setup-python@")
            continue
        assert step["shell"] == "bash"
        step_env = dict(env)
        for key, value in (step.get("env") or {}).items():
            assert value == "${{ github.action_path }}"
            step_env[key] = str(ROOT)
        done = subprocess.run(
            ["bash", "-eo", "pipefail", "-c", step["run"]],
            cwd=tmp_path,
            env=step_env,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert output.read_text() == f"version={__version__}\n"


def test_a_repository_made_before_ci_update_takes_the_new_workflows_on_request(
    repo: Path,
) -> None:
    """Made by a CLI that pinned a version in each workflow and kept no .incidents/."""
    workflow = repo / ".github" / "workflows" / "incidents-check.yml"
    shipped = workflow.read_bytes()
    workflow.write_text(
        workflow.read_text().replace(
            "python -m pip install --requirement .incidents/requirements.txt",
            'python -m pip install "incidents==0.1.0"',
        )
    )
    _git(repo, "rm", "-q", "-r", ".incidents")
    _git(repo, "commit", "-q", "-a", "-m", "As an older CLI made it")

    first = run_cli("ci", "update", cwd=repo)
    assert first.code == 0, first.err
    names = _git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert all(name.startswith(".incidents/") for name in names) and len(names) == 3
    assert workflow.read_bytes() != shipped, "workflows change only when asked"

    second = run_cli("ci", "update", "--workflows", cwd=repo)
    assert second.code == 0, second.err
    names = _git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert names == [".github/workflows/incidents-check.yml"]
    assert workflow.read_bytes() == shipped
    assert "Nothing to do" in run_cli("ci", "update", "--workflows", cwd=repo).out
    assert _git(repo, "status", "--porcelain") == ""


def test_ci_update_workflows_follows_the_secrets_the_settings_name(repo: Path) -> None:
    workflow = repo / ".github" / "workflows" / "incidents-notify.yml"
    assert "secrets." not in workflow.read_text()  # the starter settings name none
    settings = repo / "incidents.yaml"
    settings.write_text(
        settings.read_text()
        + "notify:\n  - {name: ops, type: slack, audience: internal, url_env: OPS_URL}\n"
    )
    _git(repo, "commit", "-q", "-a", "-m", "a channel")
    assert "Nothing to do" in run_cli("ci", "update", cwd=repo).out  # workflows: on request
    result = run_cli("ci", "update", "--workflows", cwd=repo)
    assert result.code == 0, result.err
    names = _git(repo, "show", "--name-only", "--format=", "HEAD").split()
    assert names == [".github/workflows/incidents-notify.yml"]
    assert "        env:\n          OPS_URL: ${{ secrets.OPS_URL }}\n" in workflow.read_text()
    assert "Nothing to do" in run_cli("ci", "update", "--workflows", cwd=repo).out
    # the channel renamed its variable: the old one is no longer passed
    settings.write_text(settings.read_text().replace("OPS_URL", "OPS_WEBHOOK"))
    _git(repo, "commit", "-q", "-a", "-m", "renamed")
    assert run_cli("ci", "update", "--workflows", cwd=repo).code == 0
    assert "OPS_URL" not in workflow.read_text()
    assert "OPS_WEBHOOK: ${{ secrets.OPS_WEBHOOK }}" in workflow.read_text()
    # settings that do not validate are refused: the workflow would pass the wrong secrets
    settings.write_text(settings.read_text().replace("url_env: OPS_WEBHOOK", "url_env: 'no!'"))
    _git(repo, "commit", "-q", "-a", "-m", "broken")
    refused = run_cli("ci", "update", "--workflows", cwd=repo)
    assert refused.code == 2 and refused.err.startswith("incidents.yaml:"), refused.err
    assert _git(repo, "status", "--porcelain") == ""


def test_validate_scope_site_reports_problems_outside_the_site_as_warnings(repo: Path) -> None:
    runbook = repo / "runbooks" / "bad-deploy-rollback.md"
    runbook.write_text(runbook.read_text().replace("owner: on-call", "owner: 42"))
    strict = run_cli("validate", cwd=repo)
    assert strict.code == 1
    assert strict.out.startswith("runbooks/bad-deploy-rollback.md:")
    assert "(warning)" not in strict.out

    site = run_cli("validate", "--scope", "site", cwd=repo)
    assert site.code == 0, site.err
    assert site.out.startswith("runbooks/bad-deploy-rollback.md:")
    assert site.out.rstrip().endswith("(warning)")
    assert "all records are valid (1 warning outside the site)" in site.err

    settings = repo / "incidents.yaml"
    settings.write_text(settings.read_text().replace("id_prefix: INC", "id_prefix: 7"))
    broken = run_cli("validate", "--scope", "site", "--format", "json", cwd=repo)
    assert broken.code == 1
    levels = {(f["path"], f["level"]) for f in json.loads(broken.out)}
    assert levels == {
        ("incidents.yaml", "error"),
        ("runbooks/bad-deploy-rollback.md", "warning"),
    }


def test_site_build_reports_exactly_what_validate_scope_site_finds(
    repo: Path, tmp_path: Path
) -> None:
    """The publish workflow runs site build alone: it must judge and report as the validate
    step it replaced did (errors where the site is built from, warnings elsewhere)."""
    assert run_cli("declare", "Checkout errors", "--severity", "high", cwd=repo).code == 0
    incident = repo / "incidents" / "INC-0001.yaml"
    incident.write_text(incident.read_text().replace("severity: high", "severity: urgent"))
    runbook = repo / "runbooks" / "bad-deploy-rollback.md"
    runbook.write_text(runbook.read_text().replace("owner: on-call", "owner: 42"))
    validated = run_cli("validate", "--scope", "site", "--format", "github", cwd=repo)
    assert validated.code == 1
    built = run_cli("site", "build", "--format", "github", "--out", str(tmp_path / "s"), cwd=repo)
    assert built.code == 1
    annotations = [line for line in built.out.splitlines() if line.startswith("::")]
    assert annotations == validated.out.splitlines()
    assert {a.split(" ")[0] for a in annotations} == {"::error", "::warning"}
    text = run_cli("site", "build", "--out", str(tmp_path / "t"), cwd=repo)
    assert text.code == 1 and "::" not in text.out
    assert "incidents/INC-0001.yaml:" in text.err and "(left out of the site)" in text.err
    assert "runbooks/bad-deploy-rollback.md:" in text.err and "(warning)" in text.err
    # settings with an error: nothing is built, and the annotation says why
    settings = repo / "incidents.yaml"
    settings.write_text(settings.read_text().replace("id_prefix: INC", "id_prefix: 7"))
    refused = run_cli("site", "build", "--format", "github", "--out", str(tmp_path / "u"), cwd=repo)
    assert refused.code == 2 and refused.out.startswith("::error file=incidents.yaml,")
    assert not (tmp_path / "u").exists()


def test_init_again_keeps_the_repositorys_choice(repo: Path) -> None:
    assert run_cli("ci", "update", "--cli", "incidents==0.2.0", cwd=repo).code == 0
    head = _git(repo, "rev-parse", "HEAD")
    again = run_cli("init", str(repo))
    assert again.code == 0, again.err
    assert "skipped  .incidents/requirements.txt (exists)" in again.out
    assert sorted(p.name for p in (repo / ".incidents").iterdir()) == ["requirements.txt"]
    assert _git(repo, "rev-parse", "HEAD") == head
