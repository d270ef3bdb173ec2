"""`incidents init`: make an incident repository, never overwriting a file."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from incidents_cli import __version__
from incidents_cli.core.errors import SetupError
from incidents_cli.core.records import INCIDENTS_DIR, ONCALL_FILE, POSTMORTEMS_DIR, SETTINGS_FILE
from incidents_cli.store.git import Repo, run_git
from incidents_cli.store.resources import data_dir
from incidents_cli.store.yamlio import replace_if_unchanged
from incidents_cli.usecases.ci import (
    REQUIREMENTS_FILE,
    VENDOR_DIR,
    ci_files,
    cli_requirement,
    workflow_files,
)


@dataclass
class InitResult:
    root: Path
    created: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    commit: str | None = None
    git_initialized: bool = False
    rotation: list[str] = field(default_factory=list)
    """Who the starter rotation lists (the people of an incidents.yaml that was there);
    empty: the rotation is a commented example."""

    def next_steps(self) -> list[str]:
        """The two or three things a team edits first, in order."""
        steps = []
        if SETTINGS_FILE in self.created:
            steps.append(
                f"{SETTINGS_FILE}: your components (the status page lists them) and your "
                "people (handles used in records), instead of the examples"
            )
        if ONCALL_FILE in self.created:
            steps.append(
                f"{ONCALL_FILE}: check the order and start of the rotation "
                f"({', '.join(self.rotation)})"
                if self.rotation
                else f"{ONCALL_FILE}: uncomment the rotation and list who takes shifts"
            )
        if any(rel.startswith("runbooks/") for rel in self.created):
            steps.append(
                "runbooks/: link the starter runbooks to your components (`components:`), "
                "or delete the ones you do not need"
            )
        return steps


def starter_oncall(template: str, members: list[str], timezone: str = "UTC") -> str:
    """The starter oncall.yaml: its example rotation and escalation uncommented and listing
    ``members`` (the people init found), or left as a commented example when there are none
    (so replacing the example people in incidents.yaml never breaks it)."""
    if not members:
        return template
    lines = template.splitlines()
    out: list[str] = []
    block = ""
    for line in lines:
        if line == "rotations: []":
            out.append("rotations:")
            block = "rotation"
            continue
        if line == "# escalation:":
            block = "escalation"
        if block == "rotation" and line.startswith("#  "):
            line = line[1:]
            line = re.sub(r"members: \[.*\]", f"members: [{', '.join(members)}]", line)
            line = line.replace("timezone: UTC", f"timezone: {timezone}")
        elif block == "escalation" and line.startswith("#   # Further tiers"):
            block = ""
        elif block == "escalation" and line.startswith("# "):
            line = line[2:]
        elif not line.startswith("#"):
            block = ""
        out.append(line)
    text = "\n".join(out) + "\n"
    return text.replace(
        "# Uncomment the rotation below and list your people's handles (from people in\n"
        "# incidents.yaml) in shift order.\n",
        "# The rotation lists the people of incidents.yaml; put them in shift order.\n",
    )


@dataclass(frozen=True)
class _Found:
    """What an incidents.yaml that is already there says that the new files follow."""

    members: list[str] = field(default_factory=list)
    timezone: str = "UTC"
    secrets: tuple[str, ...] = ()


def _found(folder: Path) -> _Found:
    """The handles of an incidents.yaml that is already there, its time zone, and the
    secrets its notify channels name (for the notify workflow)."""
    from incidents_cli.core.notifications import secret_names
    from incidents_cli.store.layout import load_settings

    if not (folder / SETTINGS_FILE).is_file():
        return _Found()
    try:
        settings = load_settings(folder)
    except SetupError:
        return _Found()
    return _Found(list(settings.people), settings.timezone, secret_names(settings.notify))


def starter_files(
    cli: str | None = None,
    members: list[str] | None = None,
    timezone: str = "UTC",
    secrets: tuple[str, ...] = (),
) -> dict[str, str | bytes]:
    """Every file `init` writes, by path relative to the new repository. ``cli``: the pip
    requirement or git URL CI installs the CLI with (default: this CLI, kept in the
    repository; see usecases/ci.py); ``secrets``: what the notify workflow passes (the
    starter incidents.yaml names none)."""
    init = data_dir("templates") / "init"
    files: dict[str, str | bytes] = {
        SETTINGS_FILE: (init / "incidents.yaml").read_text(encoding="utf-8"),
        ONCALL_FILE: starter_oncall(
            (init / "oncall.yaml").read_text(encoding="utf-8"), members or [], timezone
        ),
        "README.md": (init / "README.md").read_text(encoding="utf-8"),
        ".gitignore": (init / "gitignore").read_text(encoding="utf-8"),
        f"{INCIDENTS_DIR}/.gitkeep": "",
        f"{POSTMORTEMS_DIR}/.gitkeep": "",
    }
    for runbook in sorted(data_dir("runbooks").glob("*.md")):
        files[f"runbooks/{runbook.name}"] = runbook.read_text(encoding="utf-8")
    files.update(workflow_files(secrets))
    files.update(ci_files(None if cli is None else cli_requirement(cli)))
    return files


def _refuse_git_folder(folder: Path) -> None:
    """Never a repository, settings and workflows among git's own files: the rule `site build
    --out` follows, and git's own answer from the nearest folder that exists (a git folder
    kept apart from its work tree has any name)."""
    from incidents_cli.store.git import Repo
    from incidents_cli.store.root import inside_git_folder

    try:
        real = folder.resolve()  # as the kernel will follow it when init writes
    except (RuntimeError, OSError):  # a loop of links: making the folder says so
        return
    nearest = real
    while not nearest.is_dir() and nearest.parent != nearest:
        nearest = nearest.parent
    if inside_git_folder(real) or Repo.is_git_folder(nearest):
        raise SetupError(f"{folder}: is inside git's own folder; give a folder of its own")


def init_repository(folder: Path, standalone: bool = False, cli: str | None = None) -> InitResult:
    """Make the incident repository in ``folder``: in the git repository it is part of, or
    (``standalone``, or when there is none) in a repository of its own. ``cli``: see
    ``starter_files``."""
    Repo.refuse_line_breaks(folder)
    _refuse_git_folder(folder)
    found = _found(folder)
    # refuses a bad --cli before anything
    files = starter_files(cli, found.members, found.timezone, found.secrets)
    if (folder / REQUIREMENTS_FILE).exists():
        # The repository has chosen its CLI already: `incidents ci update` changes that.
        files = {rel: data for rel, data in files.items() if not rel.startswith(VENDOR_DIR)}
        files[REQUIREMENTS_FILE] = ""
    folder.mkdir(parents=True, exist_ok=True)
    folder = folder.resolve()
    result = InitResult(folder, rotation=found.members)
    if not Repo.is_repo(folder) or (standalone and Repo.at(folder).top != folder):
        repo = Repo.init(folder)
        result.git_initialized = True
    else:
        repo = Repo.at(folder)
        if run_git(folder, "check-ignore", "-q", ".", check=False).returncode == 0:
            raise SetupError(
                f"{folder} is ignored by the .gitignore of the repository around it "
                f"({repo.top}); run `git init {folder}` first, or choose another folder"
            )
    # Fail before writing anything if git could not commit.
    if run_git(folder, "var", "GIT_COMMITTER_IDENT", check=False).returncode != 0:
        raise SetupError(
            'git does not know who you are: run `git config --global user.name "Your Name"` '
            "and `git config --global user.email you@example.com`, then run init again"
        )
    prefix = folder.relative_to(repo.top).as_posix() if folder != repo.top else ""
    for rel, text in files.items():
        target = folder / rel
        # only where there is no such file, even one saved a moment ago: never overwritten
        if target.exists() or not replace_if_unchanged(target, None, text):
            result.skipped.append(rel)
            continue
        result.created.append(rel)
    if result.created:
        paths = [f"{prefix}/{rel}" if prefix else rel for rel in result.created]
        try:
            result.commit = repo.commit_paths(
                paths,
                "Initialize incident repository\n\n"
                f"Made by `incidents init` (incidents {__version__}).\n",
            )
        except Exception:
            for rel in result.created:  # removed only if it still holds what init wrote
                text = files[rel]
                ours = text.encode("utf-8") if isinstance(text, str) else text
                replace_if_unchanged(folder / rel, ours, None)
            raise
    return result
