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
from incidents_cli.core.errors import GitError, IncidentsError, RefusedError
from incidents_cli.store.cli_wheel import (
    DISTRIBUTION,
    build_cli_wheel,
    dependency_pins,
    installed_distribution,
)
from incidents_cli.store.git import Commit, Repo, blob_id
from incidents_cli.store.lock import signals_held
from incidents_cli.store.resources import data_dir, incident_workflows
from incidents_cli.store.yamlio import replace_if_unchanged

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
    # Each file's bytes are read once, before git is asked whether it has uncommitted
    # changes: an edit saved before git looks is refused by git, one saved after is found
    # by the compare-and-swap that writes it (never overwritten).
    requirements = _bytes(root / REQUIREMENTS_FILE)
    read: dict[str, bytes | None] = {REQUIREMENTS_FILE: requirements}
    if cli is not None:
        choice: str | None = cli_requirement(cli)
    elif vendor or requirements is None:
        choice = None
    else:
        choice = read_choice(requirements.decode("utf-8"))
    wanted = ci_files(choice)
    if workflows:
        wanted.update(workflow_files(settings_secrets(root)))
    result = CiUpdateResult(root, choice)
    for rel, data in wanted.items():
        if rel not in read:
            read[rel] = _bytes(root / rel)
        if read[rel] != data:
            result.written.append(rel)
    for rel in _owned(root):
        if rel not in wanted:
            read.setdefault(rel, _bytes(root / rel))
            if read[rel] is not None:
                result.removed.append(rel)
    if not result.written and not result.removed:
        return result

    repo = Repo.at(root)
    prefix = repo.folder_of(root)
    git_path = {rel: f"{prefix}/{rel}" if prefix else rel for rel in (*wanted, *result.removed)}
    touched = [git_path[rel] for rel in (*result.written, *result.removed)]
    tracked = repo.tracked(touched)
    dirty = repo.uncommitted(touched, tracked)
    if dirty:
        raise RefusedError(
            f"{sorted(dirty)[0]} has uncommitted changes: commit or discard them, "
            "then run `incidents ci update` again"
        )
    what = f"incidents {__version__}, kept in .incidents/" if choice is None else choice
    message = f"CI installs {what}\n\nMade by `incidents ci update` (incidents {__version__}).\n"
    changes: list[tuple[str, bytes | None]] = [(rel, wanted[rel]) for rel in result.written]
    changes += [(rel, None) for rel in result.removed]
    # Signals wait until the commit is made or the files are put back: cut in half, a
    # file could be left aside (see yamlio.replace_if_unchanged).
    with signals_held() as held:
        done = _swap_all(root, changes, read)
        try:
            made = repo.commit_exactly(touched, message, tracked)
            _refuse_not_as_written(repo, made, [(git_path[rel], new) for rel, new in changes])
        except BaseException:
            _put_back(root, done, read)
            raise
        result.commit = made.head
    if held.signal is not None:
        raise IncidentsError(
            f"interrupted after the commit: {what} is committed as {result.commit[:12]}",
            exit_code=130,
        )
    return result


def _bytes(path: Path) -> bytes | None:
    """The file's bytes, or None if there is no such file."""
    try:
        return path.read_bytes() if path.is_file() else None
    except FileNotFoundError:
        return None


def _swap_all(
    root: Path, changes: list[tuple[str, bytes | None]], read: dict[str, bytes | None]
) -> list[tuple[str, bytes | None]]:
    """Give each file its new bytes (None: remove it), only if it still holds what was
    read; the first that does not (a person saved it meanwhile) is left as saved, the ones
    done are put back, and the update is refused. The changes made, in order."""
    done: list[tuple[str, bytes | None]] = []
    try:
        for rel, new in changes:
            if not replace_if_unchanged(root / rel, read[rel], new, sync=False):
                raise RefusedError(
                    f"{rel} was changed while `incidents ci update` ran (saved by hand?); it "
                    f"is left as saved and nothing was committed: commit or undo that edit "
                    f"(see `git diff -- {rel}`), then run `incidents ci update` again"
                )
            done.append((rel, new))
    except BaseException:
        _put_back(root, done, read)
        raise
    return done


def _refuse_not_as_written(
    repo: Repo, made: Commit, changes: list[tuple[str, bytes | None]]
) -> None:
    """The commit must hold each file as written (or as git stores those bytes: a clean
    filter, an end-of-line conversion): one saved by hand between the write and git's read
    of it would be committed under this name. Else the commit is undone and refused."""
    for path, new in changes:
        got = made.blobs.get(path, "")
        if new is None:
            if got is None:
                continue
        elif got and (got == blob_id(new, made.head) or got == repo.stored_blob(path, new)):
            continue
        if not repo.undo_commit(made, [p for p, _ in changes]):
            raise GitError(
                f"{path} was changed (saved by hand?) while `incidents ci update` committed "
                f"it; it is committed as {made.head[:12]} and HEAD moved on since, so it was "
                "left as it is: fix it by hand (see `git log --stat`)"
            )
        raise RefusedError(
            f"{path} was changed (saved by hand?) while `incidents ci update` committed it; "
            "it is left as saved and nothing was committed: commit or undo that edit (see "
            f"`git diff -- {path}`), then run `incidents ci update` again"
        )


def _put_back(
    root: Path, done: list[tuple[str, bytes | None]], read: dict[str, bytes | None]
) -> None:
    """Each file changed put back as it was read, if it still holds what was written (one
    saved since is the person's: kept)."""
    for rel, new in reversed(done):
        replace_if_unchanged(root / rel, new, read[rel], sync=False)
