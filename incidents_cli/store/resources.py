"""Where the shipped schemas, templates, starter runbooks and workflows are.

In an installed package they live in ``incidents_cli/_data``; in a source checkout they
are the top-level folders of the repository.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # incidents_cli/
_KINDS = {
    "schemas": "schemas",
    "templates": "templates",
    "runbooks": "runbooks",
    "workflows": ".github/workflows",
    "locales": "locales",
}
DATA_KINDS = tuple(_KINDS)  # in the package: incidents_cli/_data/<kind>/


@cache
def data_dir(kind: str) -> Path:
    """The folder of one kind of shipped data: schemas, templates, runbooks, workflows."""
    installed = _PACKAGE / "_data" / kind
    if installed.is_dir():
        return installed
    source = _PACKAGE.parent / _KINDS[kind]
    if source.is_dir():
        return source
    raise FileNotFoundError(f"the installed package has no {kind} folder: reinstall incidents")


def user_cache_dir() -> Path:
    """The user's cache folder for the tool (validators, templates, the error log)."""
    import os

    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "incidents"


def incident_workflows() -> list[Path]:
    """The workflow files an incident repository runs (not this tool's own CI)."""
    return sorted(data_dir("workflows").glob("incidents-*.yml"))
