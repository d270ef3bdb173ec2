"""What CI installs: the incidents CLI that travels with the repository, and `ci update`.

The workflows that `init` installs all run one command, ``python -m pip install --requirement
.incidents/requirements.txt``. That file is the one place where a team's choice is written:
- by default, the wheel of the CLI that ran `init` or `ci update`, kept in .incidents/ and
  named by its path, so no package index is asked for the CLI (nothing to publish, no name
  that someone else could register); constraints.txt beside it pins the dependencies to the
  versions that CLI ran with;
- or a pip requirement (``incidents==0.2.0``) or a git URL, chosen with ``--cli SPEC``.
So an upgrade changes the files of .incidents/ and nothing else, in one reviewable commit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from incidents_cli import __version__
from incidents_cli.core.errors import RefusedError
from incidents_cli.store.cli_wheel import (
    DISTRIBUTION,
    build_cli_wheel,
    dependency_pins,
    installed_distribution,
)
from incidents_cli.store.git import Repo
from incidents_cli.store.resources import data_dir, incident_workflows
from incidents_cli.store.yamlio import write_atomic

VENDOR_DIR = ".incidents"
REQUIREMENTS_FILE = f"{VENDOR_DIR}/requirements.txt"
CONSTRAINTS_FILE = f"{VENDOR_DIR}/constraints.txt"
DEPENDABOT_FILE = ".github/dependabot.yml"
INSTALL_COMMAND = f"python -m pip install --requirement {REQUIREMENTS_FILE}"

_WHEEL_PREFIX = f"./{VENDOR_DIR}/{DISTRIBUTION}-"

_HEADER = f"""\
# The incidents CLI that this repository's workflows install, with
#   {INSTALL_COMMAND}
# run from the top of the repository. Written by `incidents init` and `incidents ci update`;
# choose another with `incidents ci update --cli SPEC` (a pip requirement or a git URL) or
# `incidents ci update --vendor` (the running CLI, kept in this folder).
"""

_VENDORED_NOTE = """\
# The CLI's own wheel is kept in this folder and named by its path, so no package index is
# asked for it; its dependencies come from the index at the versions in constraints.txt.
"""

_CONSTRAINTS_HEADER = """\
# The versions of the incidents CLI's dependencies, as installed where `incidents ci update`
# ran incidents {version}. Written by `incidents init` and `incidents ci update`.
"""


def cli_requirement(spec: str) -> str:
    """The pip requirement for ``--cli SPEC``: a requirement naming the incidents package
    (``incidents==0.2.0``, ``incidents @ git+https://...``) or a git URL
    (``git+https://github.com/OWNER/incidents@v0.2.0``)."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    text = spec.strip()
    if text.startswith("git+"):
        text = f"{DISTRIBUTION} @ {text}"
    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        requirement = None
    if (
        requirement is None
        or "\n" in text
        or canonicalize_name(requirement.name) != DISTRIBUTION
        or requirement.marker is not None
    ):
        raise RefusedError(
            f"--cli: {spec!r} is neither a pip requirement of the incidents package "
            "(incidents==0.2.0) nor a git URL (git+https://github.com/OWNER/incidents@v0.2.0)"
        )
    return str(requirement)


def read_choice(text: str) -> str | None:
    """The requirement written in requirements.txt, or None for the vendored wheel."""
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        if line.startswith(_WHEEL_PREFIX) and line.endswith(".whl"):
            return None
        return line
    return None


def ci_files(choice: str | None) -> dict[str, bytes]:
    """Every file of .incidents/ for ``choice`` (None: the running CLI, vendored)."""
    if choice is not None:
        return {REQUIREMENTS_FILE: f"{_HEADER}{choice}\n".encode()}
    dist = installed_distribution()
    wheel = build_cli_wheel()
    pins = "".join(f"{pin}\n" for pin in dependency_pins(dist))
    requirements = (
        f"{_HEADER}{_VENDORED_NOTE}--constraint constraints.txt\n./{VENDOR_DIR}/{wheel.filename}\n"
    )
    return {
        REQUIREMENTS_FILE: requirements.encode(),
        CONSTRAINTS_FILE: (_CONSTRAINTS_HEADER.format(version=__version__) + pins).encode(),
        f"{VENDOR_DIR}/{wheel.filename}": wheel.data,
    }


NOTIFY_WORKFLOW = ".github/workflows/incidents-notify.yml"
_SECRETS_HERE = "        # env: the secrets incidents.yaml names (see the top of this file)\n"
"""In the Notify step as shipped (no env:, which actionlint wants gone when empty); the
env: lines go after it."""


def with_secrets(workflow: str, secrets: Sequence[str]) -> str:
    """The notify workflow with exactly ``secrets`` (environment variable names, as the
    settings schema allows them) passed to its Notify step, each from the repository secret
    of the same name: the step never sees a secret that no channel names."""
    if workflow.count(_SECRETS_HERE) != 1:
        raise AssertionError(f"the shipped {NOTIFY_WORKFLOW} does not say where env: goes")
    if not secrets:
        return workflow
    for name in secrets:
        if not _SECRET_NAME.fullmatch(name):
            raise AssertionError(f"{name!r} is not a secret name (the settings schema says so)")
    lines = "".join(f"          {name}: ${{{{ secrets.{name} }}}}\n" for name in secrets)
    return workflow.replace(_SECRETS_HERE, f"{_SECRETS_HERE}        env:\n{lines}")


_SECRET_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def workflow_files(secrets: Sequence[str] = ()) -> dict[str, bytes]:
    """The workflows this CLI ships for an incident repository, the notify workflow passing
    ``secrets`` (`core.notifications.secret_names` of the settings), and the Dependabot
    config that keeps their actions current."""
    files = {f".github/workflows/{path.name}": path.read_bytes() for path in incident_workflows()}
    notify = files[NOTIFY_WORKFLOW].decode("utf-8")
    files[NOTIFY_WORKFLOW] = with_secrets(notify, secrets).encode("utf-8")
    files[DEPENDABOT_FILE] = (data_dir("templates") / "init" / "dependabot.yml").read_bytes()
    return files


def settings_secrets(root: Path) -> tuple[str, ...]:
    """The secrets the repository's notify channels name (none without an incidents.yaml);
    a settings file that does not validate is refused: the workflow would pass the wrong
    ones."""
    from incidents_cli.core.notifications import secret_names
    from incidents_cli.core.records import SETTINGS_FILE
    from incidents_cli.store.layout import load_settings

    if not (root / SETTINGS_FILE).is_file():
        return ()
    return secret_names(load_settings(root).notify)


def _owned(root: Path) -> list[str]:
    """The files of .incidents/ that `ci update` writes and may remove."""
    folder = root / VENDOR_DIR
    if not folder.is_dir():
        return []
    names = [REQUIREMENTS_FILE, CONSTRAINTS_FILE]
    names += [f"{VENDOR_DIR}/{p.name}" for p in folder.glob(f"{DISTRIBUTION}-*.whl") if p.is_file()]
    return sorted(n for n in set(names) if (root / n).is_file())


@dataclass
class CiUpdateResult:
    root: Path
    choice: str | None
    version: str = __version__
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    commit: str | None = None


def update_ci(
    root: Path, cli: str | None = None, vendor: bool = False, workflows: bool = False
) -> CiUpdateResult:
    """Make .incidents/ install the running CLI (or ``cli``, or what it names already), in
    one commit of exactly those files; nothing when they are current. ``workflows``: also
    replace the workflows and the Dependabot config with the ones this CLI ships, the notify
    workflow passing the secrets the settings name now."""
    if cli is not None and vendor:
        raise RefusedError("choose one: --cli SPEC or --vendor")
    requirements = root / REQUIREMENTS_FILE
    if cli is not None:
        choice: str | None = cli_requirement(cli)
    elif vendor or not requirements.is_file():
        choice = None
    else:
        choice = read_choice(requirements.read_text(encoding="utf-8"))
    wanted = ci_files(choice)
    if workflows:
        wanted.update(workflow_files(settings_secrets(root)))
    result = CiUpdateResult(root, choice)
    for rel, data in wanted.items():
        path = root / rel
        if not path.is_file() or path.read_bytes() != data:
            result.written.append(rel)
    result.removed = [rel for rel in _owned(root) if rel not in wanted]
    if not result.written and not result.removed:
        return result

    repo = Repo.at(root)
    prefix = root.resolve().relative_to(repo.top).as_posix() if root.resolve() != repo.top else ""
    git_path = {rel: f"{prefix}/{rel}" if prefix else rel for rel in (*wanted, *result.removed)}
    touched = [git_path[rel] for rel in (*result.written, *result.removed)]
    tracked = repo.tracked(touched)
    dirty = repo.uncommitted(touched, tracked)
    if dirty:
        raise RefusedError(
            f"{sorted(dirty)[0]} has uncommitted changes: commit or discard them, "
            "then run `incidents ci update` again"
        )
    before = {
        rel: (root / rel).read_bytes()
        for rel in (*result.written, *result.removed)
        if (root / rel).is_file()
    }
    what = f"incidents {__version__}, kept in .incidents/" if choice is None else choice
    message = f"CI installs {what}\n\nMade by `incidents ci update` (incidents {__version__}).\n"
    try:
        for rel in result.written:
            write_atomic(root / rel, wanted[rel], sync=False)
        for rel in result.removed:
            (root / rel).unlink()
        result.commit = repo.commit_paths(touched, message, tracked)
    except BaseException:
        for rel in (*result.written, *result.removed):
            if rel in before:
                write_atomic(root / rel, before[rel], sync=False)
            else:
                (root / rel).unlink(missing_ok=True)
        raise
    return result
