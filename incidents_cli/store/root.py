"""Finding the incident repository: the nearest folder with an incidents.yaml.

A module of its own, importing nothing heavy, because every command and every shell
completion starts here (store.layout brings the YAML library along).
"""

from __future__ import annotations

from pathlib import Path

from incidents_cli.core.errors import SetupError
from incidents_cli.core.records import SETTINGS_FILE


def find_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` that has an incidents.yaml."""
    start = start.resolve()
    if not start.is_dir():
        raise SetupError(f"{start}: no such folder")
    for folder in (start, *start.parents):
        if (folder / SETTINGS_FILE).is_file():
            return folder
    raise SetupError(
        f"{start}: no {SETTINGS_FILE} here or in any parent folder; "
        "run `incidents init` to make an incident repository"
    )


def inside_git_folder(real: Path) -> bool:
    """Whether ``real`` (a path with its links followed) is a folder named .git or lies in
    one: git's own folder, this repository's or another's (a linked worktree's), where no
    command makes or writes files of its own (`site build --out`, `init`)."""
    return ".git" in real.parts
