"""Runs the `run:` steps of a GitHub Actions job locally, as GitHub's runner would.

Steps run in order with bash -eo pipefail, GitHub's environment variables and files
(GITHUB_OUTPUT, GITHUB_ENV, GITHUB_STEP_SUMMARY, GITHUB_PATH), `if:` conditions and
`${{ }}` expressions in step `env:` (an expression this runner does not know fails the
test: a workflow that would fail on GitHub must fail here). `uses:` steps are the official
actions the workflows rely on; each is stood in for by what it does here (the repository
is already checked out, Python is already set up) or recorded (Pages upload and deploy).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@dataclass
class StepResult:
    name: str
    code: int
    stdout: str
    stderr: str
    skipped: bool = False


@dataclass
class JobResult:
    status: str
    steps: list[StepResult] = field(default_factory=list)
    summary: str = ""
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    uploaded: list[Path] = field(default_factory=list)
    cache_saved: list[str] = field(default_factory=list)
    cache_restored: list[str] = field(default_factory=list)

    @property
    def stdout(self) -> str:
        return "".join(s.stdout for s in self.steps)

    @property
    def annotations(self) -> list[str]:
        return [line for line in self.stdout.splitlines() if line.startswith("::")]


def _read_kv(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if "=" in line:
                key, value = line.split("=", 1)
                out[key] = value
    return out


def run_job(
    workflow: Path,
    job_name: str,
    workdir: Path,
    *,
    github: dict[str, str],
    path_prefix: list[Path],
    overrides: dict[str, str] | None = None,
    scratch: Path,
    event: dict[str, Any] | None = None,
    secrets: dict[str, str] | None = None,
) -> JobResult:
    """``event``: the webhook event that triggered the run (``github.event``), as GitHub
    writes it to GITHUB_EVENT_PATH."""
    spec = yaml.safe_load(workflow.read_text())
    job = spec["jobs"][job_name]
    scratch.mkdir(parents=True, exist_ok=True)
    summary = scratch / "summary.md"
    summary.write_text("")
    env_file = scratch / "env"
    env_file.write_text("")
    env: dict[str, str] = {
        k: v for k, v in os.environ.items() if k in ("HOME", "LANG", "TMPDIR", "USER")
    }
    env["PATH"] = os.pathsep.join([*map(str, path_prefix), "/usr/bin", "/bin"])
    env.update(github)
    env.update(
        {
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "RUNNER_OS": "Linux",
            "GITHUB_WORKSPACE": str(workdir),
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_ENV": str(env_file),
        }
    )
    result = JobResult("success")
    event_path = scratch / "event.json"
    event_path.write_text(json.dumps(event or {}))
    env["GITHUB_EVENT_PATH"] = str(event_path)
    context = {
        "github": github,
        "steps": result.outputs,
        "event": event or {},
        "secrets": secrets or {},
    }
    for key, value in {**spec.get("env", {}), **job.get("env", {})}.items():
        env[key] = _evaluate(str(value), context, env)
    env.update(overrides or {})
    for index, step in enumerate(job["steps"]):
        name = step.get("name") or step.get("uses") or step.get("id") or f"step {index}"
        if not _should_run(step.get("if"), result.status, github, event):
            result.steps.append(StepResult(name, 0, "", "", skipped=True))
            continue
        if "uses" in step:
            code = _use(step, workdir, result, context, env)
            result.steps.append(StepResult(name, code, "", ""))
            if code:
                result.status = "failure"
            continue
        output = scratch / f"output-{index}"
        output.write_text("")
        step_env = dict(env)
        step_env.update(_read_kv(env_file))
        step_env["GITHUB_OUTPUT"] = str(output)
        for key, value in (step.get("env") or {}).items():
            step_env[key] = _evaluate(str(value), context, step_env)
        script = scratch / f"step-{index}.sh"
        script.write_text(step["run"])
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=workdir,
            env=step_env,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        result.steps.append(StepResult(name, proc.returncode, proc.stdout, proc.stderr))
        if "id" in step:
            result.outputs[step["id"]] = _read_kv(output)
        if proc.returncode != 0 and not step.get("continue-on-error"):
            result.status = "failure"
    result.summary = summary.read_text()
    return result


def _should_run(
    condition: Any,
    status: str,
    github: dict[str, str] | None = None,
    event: dict[str, Any] | None = None,
) -> bool:
    if condition is None:
        return status == "success"
    text = str(condition).strip()
    if text.startswith("${{"):
        text = text[3:-2].strip()
    if text == "github.ref_name == github.event.repository.default_branch":
        ref = (github or {}).get("GITHUB_REF", "")
        repository = (event or {}).get("repository") or {}
        default = repository.get("default_branch", "main") if isinstance(repository, dict) else ""
        return status == "success" and ref == f"refs/heads/{default}"
    if text == "always()":
        return True
    if text == "failure()":
        return status == "failure"
    if text == "success()":
        return status == "success"
    raise AssertionError(f"the runner does not know the condition {condition!r}")


def _evaluate(text: str, context: dict[str, Any], env: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        expr = match.group(1)
        if expr == "toJSON(secrets)":
            return json.dumps(context["secrets"], indent=2)
        secret = re.fullmatch(r"secrets\.([A-Za-z_][A-Za-z0-9_]*)", expr)
        if secret:  # a secret the repository does not have is the empty string
            return str(context["secrets"].get(secret.group(1), ""))
        to_json = re.fullmatch(r"toJSON\((github\.event(?:\.[A-Za-z_][\w-]*)*)\)", expr)
        if to_json:  # GitHub's toJSON: pretty-printed, two spaces
            value: Any = context["event"]
            for key in to_json.group(1).split(".")[2:]:
                value = value.get(key) if isinstance(value, dict) else None
            return json.dumps(value, indent=2)
        parts = expr.split(".")
        if parts[0] == "github" and len(parts) == 2:
            key = {
                "token": "GITHUB_TOKEN",
                "base_ref": "GITHUB_BASE_REF",
                "server_url": "GITHUB_SERVER_URL",
                "repository": "GITHUB_REPOSITORY",
                "run_id": "GITHUB_RUN_ID",
                "sha": "GITHUB_SHA",
            }.get(parts[1])
            if key is None:
                raise AssertionError(f"the runner does not know ${{{{ {expr} }}}}")
            return str(context["github"].get(key, ""))
        if parts[0] == "steps" and len(parts) == 4 and parts[2] == "outputs":
            return str(context["steps"].get(parts[1], {}).get(parts[3], ""))
        if parts[0] == "env" and len(parts) == 2:
            return env.get(parts[1], "")
        raise AssertionError(f"the runner does not know ${{{{ {expr} }}}}")

    return _EXPR.sub(one, text)


def _use(
    step: dict[str, Any],
    workdir: Path,
    result: JobResult,
    context: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
) -> int:
    action = str(step["uses"]).split("@")[0]
    if action in ("actions/cache/restore", "actions/cache/save"):
        # GitHub's cache service stood in for by a folder beside the job's work tree: one
        # folder per key; restore takes the exact key, else the newest with a restore prefix.
        options = {k: _evaluate(str(v), context or {}, env or {}) for k, v in step["with"].items()}
        store = workdir.parent / "actions-cache"
        path = workdir / options["path"]
        if action == "actions/cache/save":
            saved = store / options["key"]
            if path.is_dir() and not saved.exists():
                shutil.copytree(path, saved)
                result.cache_saved.append(options["key"])
            return 0
        prefix = options.get("restore-keys")
        newest = sorted(
            (c for c in store.glob(f"{prefix}*") if c.is_dir()) if prefix else [],
            key=lambda c: c.stat().st_mtime_ns,
            reverse=True,
        )
        candidates = [store / options["key"], *newest]
        for candidate in candidates:
            if candidate.is_dir():
                shutil.copytree(candidate, path, dirs_exist_ok=True)
                result.cache_restored.append(candidate.name)
                break
        return 0
    if action in ("actions/checkout", "actions/setup-python"):
        return 0  # the test cloned the repository; Python is on PATH
    if action == "actions/configure-pages":
        result.outputs[step.get("id", "pages")] = {
            "base_url": "https://example.github.io/status",
            "origin": "https://example.github.io",
        }
        return 0
    if action == "actions/upload-pages-artifact":
        path = workdir / step.get("with", {}).get("path", "_site")
        if not (path / "index.html").is_file():
            return 1
        result.uploaded.append(path)
        return 0
    if action == "actions/deploy-pages":
        return 0
    raise AssertionError(f"the runner does not stand in for {action}")


GH_STANDIN = '''#!{python}
"""A stand-in for the gh CLI: records every call, keeps issues in a JSON file."""
import json, os, re, sys
store = os.environ["GH_STANDIN_STORE"]
with open(os.environ["GH_STANDIN_LOG"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
issues = json.load(open(store)) if os.path.exists(store) else []
def opt(name):
    args = sys.argv
    return args[args.index(name) + 1] if name in args else None
def save():
    json.dump(issues, open(store, "w"))
if not os.environ.get("GH_TOKEN"):
    sys.exit("gh: GH_TOKEN is not set")
if sys.argv[1:3] == ["issue", "list"]:
    state = opt("--state") or "open"
    found = [i for i in issues if state == "all" or i["state"] == state]
    jq = opt("--jq") or ""
    wanted = re.search(r'select\\(\\.title == "([^"]*)"\\)', jq)
    if wanted:
        found = [i for i in found if i["title"] == wanted.group(1)]
        if ".[0].number" in jq:
            print(found[0]["number"] if found else "")
            sys.exit(0)
    print(json.dumps([{{"number": i["number"], "title": i["title"]}} for i in found]))
elif sys.argv[1:3] == ["issue", "create"]:
    number = len(issues) + 1
    issues.append({{"number": number, "title": opt("--title"), "state": "open",
                   "body": open(opt("--body-file")).read()}})
    save()
    print(f"https://github.com/example/status/issues/{{number}}")
elif sys.argv[1:3] == ["issue", "edit"]:
    issue = next(i for i in issues if i["number"] == int(sys.argv[3]))
    issue["body"] = open(opt("--body-file")).read()
    save()
elif sys.argv[1:3] == ["issue", "close"]:
    issue = next(i for i in issues if i["number"] == int(sys.argv[3]))
    issue["state"] = "closed"
    issue["comment"] = opt("--comment")
    save()
else:
    sys.exit("gh stand-in: unsupported call " + " ".join(sys.argv[1:]))
'''


def install_gh_standin(folder: Path, python: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    gh = folder / "gh"
    gh.write_text(GH_STANDIN.format(python=python))
    gh.chmod(0o755)
    return gh
