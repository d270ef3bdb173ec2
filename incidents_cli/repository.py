"""The layout of an incident repository and reading its records from disk."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from incidents_cli import yamlio
from incidents_cli.errors import InputFileError, SetupError
from incidents_cli.settings import Settings, settings_from_data

SETTINGS_FILE = "incidents.yaml"
ONCALL_FILE = "oncall.yaml"
INCIDENTS_DIR = "incidents"
POSTMORTEMS_DIR = "postmortems"
RUNBOOKS_DIR = "runbooks"
MAINTENANCE_DIR = "maintenance"

KINDS = ("settings", "oncall", "incident", "postmortem", "runbook", "maintenance")


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


def incident_rel(incident_id: str) -> str:
    return f"{INCIDENTS_DIR}/{incident_id}.yaml"


def postmortem_rel(incident_id: str) -> str:
    return f"{POSTMORTEMS_DIR}/{incident_id}.md"


@dataclass
class Record:
    """One record file: its parsed document, or the error that stopped the parse."""

    kind: str
    rel: str
    doc: yamlio.Document | None
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


def read_record(root: Path, rel: str, kind: str, raw: bytes | None = None) -> Record:
    """Read and parse one record (``raw``: its bytes, if the caller has read them already);
    a file that does not parse is a Record with an error."""
    try:
        text = yamlio.read_text(root / rel, rel) if raw is None else yamlio.decode(raw, rel)
        if kind in ("postmortem", "runbook"):
            doc, body, body_line = yamlio.parse_front_matter(text, rel)
            return Record(kind, rel, doc, body=body, body_line=body_line)
        return Record(kind, rel, yamlio.parse(text, rel))
    except InputFileError as exc:
        return Record(kind, rel, None, error=exc)


def record_paths(root: Path, kinds: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """(relative path, kind) of every record file in the repository (or of these kinds)."""
    out: list[tuple[str, str]] = []
    for name, kind in ((SETTINGS_FILE, "settings"), (ONCALL_FILE, "oncall")):
        if (kinds is None or kind in kinds) and (root / name).is_file():
            out.append((name, kind))
    for folder, suffixes, kind in (
        (INCIDENTS_DIR, (".yaml", ".yml"), "incident"),
        (POSTMORTEMS_DIR, (".md",), "postmortem"),
        (RUNBOOKS_DIR, (".md",), "runbook"),
        (MAINTENANCE_DIR, (".yaml", ".yml"), "maintenance"),
    ):
        if kinds is None or kind in kinds:
            out.extend(
                (f"{folder}/{name}", kind) for name in yamlio.file_names(root / folder, suffixes)
            )
    return out


def load_settings(root: Path) -> Settings:
    """The repository's settings; a broken settings file stops the command with its error."""
    record = read_record(root, SETTINGS_FILE, "settings")
    if record.error is not None:
        raise SetupError(f"{record.error.message} (fix it, then run `incidents validate`)")
    return settings_from_data(record.data)


def load_schedule(root: Path, settings: Settings) -> Any:
    """The on-call schedule from oncall.yaml, or None if the repository has none."""
    from incidents_cli.oncall import schedule_from_data

    if not (root / ONCALL_FILE).is_file():
        return None
    record = read_record(root, ONCALL_FILE, "oncall")
    if record.error is not None:
        raise SetupError(f"{record.error.message} (fix it, then run `incidents validate`)")
    return schedule_from_data(record.data, settings.timezone)
