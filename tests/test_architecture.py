"""The layers of the package, as ARCHITECTURE.md draws them, checked from the imports.

Every import of every module (at the top or inside a function) is read with ast, so a
layer cannot be crossed by a late import either.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest

from incidents_cli.core import vocabulary

PACKAGE = Path(__file__).resolve().parent.parent / "incidents_cli"
SCHEMAS = PACKAGE.parent / "schemas"

# layer -> the layers of this package it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "store": {"core"},
    "site": {"core", "store"},
    "integrations": {"core"},
    "usecases": {"core", "store", "site", "integrations"},
    "cli": {"core", "usecases"},
}
# The CLI's own plumbing (the error log, finding the repository, the type of an outcome).
CLI_PLUMBING = {"cli/__init__.py", "cli/shared.py"}
# What core may import from outside the standard library: nothing.
THIRD_PARTY_IN_CORE: set[str] = set()


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            if node.module == "incidents_cli":
                found.extend((node.lineno, f"incidents_cli.{a.name}") for a in node.names)
    return found


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "_data" not in p.parts)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_each_module_imports_only_the_layers_below_it(path: Path) -> None:
    rel = path.relative_to(PACKAGE)
    if len(rel.parts) == 1:  # __init__.py, __main__.py: the entry points
        return
    layer = rel.parts[0]
    assert layer in ALLOWED, f"{rel}: a package that ARCHITECTURE.md does not describe"
    allowed = ALLOWED[layer] | {layer}
    if rel.as_posix() in CLI_PLUMBING:
        allowed = allowed | {"store"}
    problems = []
    for line, name in _imports(path):
        parts = name.split(".")
        if parts[0] == "incidents_cli":
            if len(parts) > 1 and parts[1] in ALLOWED and parts[1] not in allowed:
                problems.append(f"{rel}:{line}: {layer} imports {name}")
        elif (
            layer == "core"
            and parts[0] not in sys.stdlib_module_names
            and parts[0] not in THIRD_PARTY_IN_CORE
        ):
            problems.append(f"{rel}:{line}: core imports the library {name}")
    assert not problems, "\n".join(problems)


def _enum(schema: str, *where: str) -> list[str]:
    node = json.loads((SCHEMAS / f"{schema}.schema.json").read_text(encoding="utf-8"))
    for key in where:
        node = node[key]
    return list(node["enum"])


@pytest.mark.parametrize(
    ("words", "schema", "where"),
    [
        (vocabulary.PHASES, "incident", ("properties", "phase")),
        (vocabulary.SEVERITIES, "incident", ("properties", "severity")),
        (vocabulary.SOURCES, "incident", ("properties", "source")),
        (
            vocabulary.UPDATE_STATUSES,
            "incident",
            ("properties", "updates", "items", "properties", "status"),
        ),
        (
            vocabulary.COMPONENT_STATUSES,
            "incident",
            ("properties", "updates", "items", "properties", "components", "additionalProperties"),
        ),
        (
            vocabulary.RESOLUTION_ACTIONS,
            "incident",
            ("properties", "resolution", "properties", "action"),
        ),
        (vocabulary.POSTMORTEM_STATUSES, "postmortem", ("properties", "status")),
        (vocabulary.ALERT_FORMATS, "incident", ("properties", "alert", "properties", "format")),
        (
            vocabulary.ALERT_STATUSES,
            "incident",
            ("properties", "alert", "properties", "fingerprints", "items", "properties", "status"),
        ),
        (vocabulary.ALERT_STATUSES, "alert-generic", ("properties", "status")),
        (
            vocabulary.ACTION_ITEM_STATUSES,
            "postmortem",
            ("properties", "action_items", "items", "properties", "status"),
        ),
        (
            vocabulary.SEVERITIES,
            "settings",
            ("properties", "postmortem", "properties", "required_for", "items"),
        ),
        (
            vocabulary.CHANNEL_TYPES,
            "settings",
            ("properties", "notify", "items", "properties", "type"),
        ),
        (
            vocabulary.AUDIENCES,
            "settings",
            ("properties", "notify", "items", "properties", "audience"),
        ),
        (
            vocabulary.NOTIFY_EVENTS,
            "settings",
            ("properties", "notify", "items", "properties", "events", "items"),
        ),
        (
            vocabulary.SEVERITIES,
            "settings",
            ("properties", "notify", "items", "properties", "severities", "items"),
        ),
        (
            vocabulary.SMTP_SECURITY,
            "settings",
            ("properties", "notify", "items", "properties", "security"),
        ),
    ],
)
def test_the_vocabulary_equals_the_schemas_enums(
    words: tuple[str, ...], schema: str, where: tuple[str, ...]
) -> None:
    assert list(words) == _enum(schema, *where)


LONGEST_FUNCTION = 50


@pytest.mark.parametrize("layer", ["core", "site"])
def test_no_function_of_the_core_or_the_site_is_over_50_lines(layer: str) -> None:
    """Each reads on one screen; a longer one is split into named steps (the demo's script,
    in usecases/, may stay long: it reads as a list of steps)."""
    long = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > LONGEST_FUNCTION:
                    long.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {node.name}: {lines}")
    assert not long, "\n".join(long)
