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


@cache
def code_digest() -> str:
    """A digest of this installation's code and schemas, part of the name of every cache
    (records, checks, views, pages, compiled templates): what another build of the tool
    wrote is never read, even where the version number stayed the same (a development
    install, or a wheel rebuilt after a fix: a fix to what may be published must take effect
    at once, not when the records next change). About 2 ms: the files are read as bytes."""
    import os
    import zlib

    digest = 0

    def walk(folder: str, prefix: str, suffix: str) -> None:
        nonlocal digest
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in ("__pycache__", "_data"):
                    walk(entry.path, f"{prefix}{entry.name}/", suffix)
            elif entry.name.endswith(suffix):
                digest = zlib.crc32(f"{prefix}{entry.name}\0".encode(), digest)
                with open(entry.path, "rb") as handle:  # noqa: PTH123
                    digest = zlib.crc32(handle.read(), digest)

    walk(str(_PACKAGE), "", ".py")
    walk(str(data_dir("schemas")), "schemas/", ".json")
    for installed in _shaping_libraries():
        digest = zlib.crc32(f"{installed}\0".encode(), digest)
    return f"{digest:08x}"


# The libraries whose behaviour shapes what a cache holds (parsed records, compiled
# validators and templates, rendered pages), by their distributions' normalized names.
_SHAPING_LIBRARIES = (
    "pyyaml",
    "yaml_rs",
    "jsonschema",
    "fastjsonschema",
    "markdown_it_py",
    "jinja2",
    "markupsafe",
)


def _shaping_libraries() -> list[str]:
    """The installed version of each library in ``_SHAPING_LIBRARIES``, as the name of its
    ``.dist-info`` folder (``jinja2-3.1.6.dist-info``), first on ``sys.path`` as an import
    finds it: an upgrade of one of them is a miss for every cache. Read from the folders'
    names, not with importlib.metadata, whose import alone costs more than every command's
    own start-up; and not from the files' times, which differ in every fresh virtual
    environment, such as each CI run's, where a restored cache must still be read."""
    import os
    import sys

    found: dict[str, str] = {}
    for entry in sys.path:
        if not entry.endswith(("site-packages", "dist-packages")):
            continue  # where pip and Debian install; not the working directory
        try:
            listed = os.listdir(entry)  # noqa: PTH208 (names only: no Path per entry)
            names = sorted(name for name in listed if name.endswith(".dist-info"))
        except OSError:
            continue
        for name in names:
            project = name.split("-", 1)[0].lower().replace(".", "_")
            if project in _SHAPING_LIBRARIES and project not in found:
                found[project] = name.lower()
    return [found[project] for project in _SHAPING_LIBRARIES if project in found]


def tool_key() -> str:
    """The tool's version and ``code_digest``: what names a cache's files."""
    from incidents_cli import __version__

    return f"{__version__}-{code_digest()}"
