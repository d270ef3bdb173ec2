"""Where each kind of record lives in an incident repository, and one record file as read.

Pure: names and paths only. Reading the files is store/layout.py's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from incidents_cli.core.document import Document
from incidents_cli.core.errors import InputFileError, RefusedError

SETTINGS_FILE = "incidents.yaml"
ONCALL_FILE = "oncall.yaml"
INCIDENTS_DIR = "incidents"
POSTMORTEMS_DIR = "postmortems"
RUNBOOKS_DIR = "runbooks"
MAINTENANCE_DIR = "maintenance"

KINDS = ("settings", "oncall", "incident", "postmortem", "runbook", "maintenance")


def classify(rel: str) -> str | None:
    """Which kind of record a repository-relative path is, or None."""
    parts = rel.split("/")
    if rel == SETTINGS_FILE:
        return "settings"
    if rel == ONCALL_FILE:
        return "oncall"
    if len(parts) == 2 and not parts[1].startswith("."):
        folder, name = parts
        if folder == INCIDENTS_DIR and name.endswith((".yaml", ".yml")):
            return "incident"
        if folder == POSTMORTEMS_DIR and name.endswith(".md"):
            return "postmortem"
        if folder == RUNBOOKS_DIR and name.endswith(".md"):
            return "runbook"
        if folder == MAINTENANCE_DIR and name.endswith((".yaml", ".yml")):
            return "maintenance"
    return None


# The incident id pattern of the schema: ids become file names, so nothing else may pass.
INCIDENT_ID_PATTERN = r"[A-Za-z][A-Za-z0-9]*-[0-9]+"


def is_incident_id(value: object) -> bool:
    import re

    return isinstance(value, str) and re.fullmatch(INCIDENT_ID_PATTERN, value) is not None


def checked_incident_id(value: str) -> str:
    """``value`` if it is an incident id (like INC-0001); else the refusal."""
    if not is_incident_id(value):
        from incidents_cli.core.text import escape_for_terminal, shorten

        raise RefusedError(
            f"{shorten(escape_for_terminal(repr(value)))} is not an incident id "
            "(letters, a hyphen and a number, like INC-0001)"
        )
    return value


def incident_rel(incident_id: str) -> str:
    return f"{INCIDENTS_DIR}/{checked_incident_id(incident_id)}.yaml"


def maintenance_rel(window_id: str) -> str:
    return f"{MAINTENANCE_DIR}/{window_id}.yaml"


def postmortem_rel(incident_id: str) -> str:
    return f"{POSTMORTEMS_DIR}/{checked_incident_id(incident_id)}.md"


@dataclass
class RecordFile:
    """One record file: its parsed document, or the error that stopped the parse."""

    kind: str
    rel: str
    doc: Document | None
    error: InputFileError | None = None
    body: str = ""
    body_line: int = 0
    known_valid: bool = False
    """True when the cache remembers that this exact content passed its schema."""

    @property
    def data(self) -> Any:
        return self.doc.data if self.doc is not None else None

    @property
    def stem(self) -> str:
        name = self.rel.rsplit("/", 1)[-1]
        return name.rsplit(".", 1)[0]
