"""The layout of an incident repository and reading its records from disk."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from incidents_cli.core.errors import InputFileError, SetupError
from incidents_cli.core.records import (
    INCIDENTS_DIR,
    MAINTENANCE_DIR,
    ONCALL_FILE,
    POSTMORTEMS_DIR,
    RUNBOOKS_DIR,
    SETTINGS_FILE,
    RecordFile,
)
from incidents_cli.core.settings import Settings, settings_from_data
from incidents_cli.store import yamlio
from incidents_cli.store.cache_files import read_cache_bytes
from incidents_cli.store.root import find_root as find_root  # where it always was

if TYPE_CHECKING:
    from incidents_cli.core.runbooks import Runbook


def read_record(
    root: Path, rel: str, kind: str, raw: bytes | None = None, *, places: bool = True
) -> RecordFile:
    """Read and parse one record (``raw``: its bytes, if the caller has read them already);
    a file that does not parse is a RecordFile with an error. ``places=False``: a reader
    that needs the data only (then the document may have no places: see
    ``yamlio.parse_unplaced``)."""
    if not rel.isascii() and name_not_utf8(rel) is not None:
        return _name_not_utf8_record(rel, kind)
    try:
        folder = rel.rpartition("/")[0]
        # never follow a path out of the repository (plain strings: a bulk read's thousands
        # of Path objects cost more than its reads)
        if folder and os.path.islink(f"{root}/{folder}"):  # noqa: PTH114
            raise InputFileError(
                rel, 1, 1, f"{folder}/ is a symlink; records must be in the repository itself"
            )
        text = yamlio.read_text(f"{root}/{rel}", rel) if raw is None else yamlio.decode(raw, rel)
        if kind in ("postmortem", "runbook"):
            doc, body, body_line = yamlio.parse_front_matter(text, rel, places=places)
            return RecordFile(kind, rel, doc, body=body, body_line=body_line)
        parse = yamlio.parse if places else yamlio.parse_unplaced
        return RecordFile(kind, rel, parse(text, rel))
    except InputFileError as exc:
        return RecordFile(kind, rel, None, error=exc)


def name_not_utf8(rel: str) -> str | None:
    """``rel`` written with the bytes of its name that are not UTF-8 escaped (``\\xe9``), if
    it has any: a name git or the file system gave as bytes of another encoding (a Latin-1
    era disk), which reach this program as lone surrogates (os.fsdecode, store/git.py)."""
    raw = rel.encode("utf-8", "surrogateescape")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "backslashreplace")
    return None


def _name_not_utf8_record(rel: str, kind: str) -> RecordFile:
    """A record whose file name is not UTF-8, never read: the name would reach the caches'
    keys, JSON files and the site, none of which can hold it. It is a finding under its
    name escaped, which holds no surrogate."""
    escaped = name_not_utf8(rel) or rel
    message = (
        "the file name is not UTF-8 (copied from a disk or archive in another encoding?); "
        "rename it (git mv)"
    )
    return RecordFile(kind, escaped, None, error=InputFileError(escaped, 1, 1, message))


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


def usable(record: RecordFile) -> bool:
    """Whether a record may be used by a command that reads records: it parsed, and it
    follows its schema. Anything else is a finding for `incidents validate`, never input
    to the rules, the views or the site (where it would crash them or be published)."""
    if record.error is not None or record.doc is None or record.doc.problems:
        return False
    if record.known_valid:
        return True
    from incidents_cli.store.schemas import is_valid

    return is_valid(record.kind, record.doc.data)


def load_settings(root: Path, git_dir: Path | None = None) -> Settings:
    """The repository's settings; a broken settings file stops the command with its error.

    ``git_dir`` (a transition has it): settings that passed every check are kept there by
    the blob id of the file's bytes, so the same bytes are not parsed and checked again
    (a tenth of a transition's own work). Any other bytes are read and checked as ever."""
    raw = _settings_bytes(root) if git_dir is not None else None
    kept = git_dir / SETTINGS_KEPT if git_dir is not None else None
    key = _settings_key(raw) if raw is not None else None
    if kept is not None and key is not None:
        data = _kept_settings(kept, key)
        if data is not None:
            return settings_from_data(data)
    record = read_record(root, SETTINGS_FILE, "settings", raw)
    _refuse_unusable(record)
    if kept is not None and key is not None:
        _keep_settings(kept, key, record.data)
    return settings_from_data(record.data)


def settings_from_bytes(root: Path, raw: bytes) -> Settings:
    """The settings of ``raw`` (the settings file as committed, say), a broken file refused
    as ``load_settings`` refuses it: code that reads settings expects the right shape."""
    record = read_record(root, SETTINGS_FILE, "settings", raw)
    _refuse_unusable(record)
    return settings_from_data(record.data)


SETTINGS_KEPT = "incidents-cache/settings-checked.json"
"""Under the git directory: the last settings that passed every check, with their key."""


def _settings_bytes(root: Path) -> bytes | None:
    """The settings file's bytes, where a cache entry may stand for them (a regular file
    in a regular folder; anything else is read, and refused, the usual way)."""
    import os

    path = root / SETTINGS_FILE
    if os.environ.get("INCIDENTS_NO_CACHE", "") not in ("", "0") or path.is_symlink():
        return None
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    return raw if len(raw) <= yamlio.MAX_FILE_BYTES else None


def _settings_key(raw: bytes) -> str:
    """The bytes' blob id, with ``tool_key`` (the tool's code and schemas: another build
    may check more)."""
    from incidents_cli.store.git import blob_id
    from incidents_cli.store.resources import tool_key

    return f"{tool_key()} {blob_id(raw)}"


def _kept_settings(kept: Path, key: str) -> dict[str, Any] | None:
    import json

    try:
        entry = json.loads(read_cache_bytes(kept))
    except (OSError, ValueError):
        return None  # none yet, or damaged: read the file
    if not isinstance(entry, dict) or entry.get("key") != key:
        return None
    data = entry.get("data")
    return data if isinstance(data, dict) else None


def _keep_settings(kept: Path, key: str, data: Any) -> None:
    """Keep settings that passed every check, if JSON gives exactly them back (string
    keys, no NaN): data only, never code."""
    import json

    try:
        text = json.dumps({"key": key, "data": data}, ensure_ascii=False)
        if json.loads(text)["data"] != data:
            return
        kept.parent.mkdir(parents=True, exist_ok=True)
        yamlio.write_atomic(kept, text, sync=False)
    except (OSError, TypeError, ValueError):
        pass  # not kept: read again next time, only slower


def _refuse_unusable(record: RecordFile) -> None:
    """A settings or on-call file that does not parse or follow its schema, or gives a
    duration longer than any time can hold, stops the command with its first problem (code
    that reads it expects the right shape)."""
    from incidents_cli.core.findings import Finding
    from incidents_cli.core.rules import duration_findings
    from incidents_cli.store.schemas import schema_findings

    if record.error is not None:
        raise SetupError(f"{record.error.message} (fix it, then run `incidents validate`)")
    assert record.doc is not None
    problems = [Finding.from_error(p) for p in record.doc.problems] + schema_findings(record)
    if not problems:  # the right shape: then no duration too long for a time to hold
        problems = list(duration_findings(record))
    if problems:
        raise SetupError(f"{problems[0].text()} (fix it, then run `incidents validate`)")


def load_schedule(root: Path, settings: Settings) -> Any:
    """The on-call schedule from oncall.yaml, or None if the repository has none."""
    from incidents_cli.core.oncall import schedule_from_data

    if not (root / ONCALL_FILE).is_file():
        return None
    record = read_record(root, ONCALL_FILE, "oncall")
    _refuse_unusable(record)
    return schedule_from_data(record.data, settings.timezone)


def load_runbooks(root: Path, *, refuse: bool = False) -> list[Runbook]:
    """Every runbook of the repository that parses and follows its schema. ``refuse``: one
    that does not stops the command with its first problem (`runbook stale`, which would
    otherwise say that a runbook it cannot judge is reviewed)."""
    from incidents_cli.core.runbooks import runbooks_from_records

    names = yamlio.file_names(root / RUNBOOKS_DIR, (".md",))
    records = [read_record(root, f"{RUNBOOKS_DIR}/{n}", "runbook") for n in names]
    kept = [record for record in records if usable(record)]
    if refuse and len(kept) < len(records):
        _refuse_unusable(next(record for record in records if not usable(record)))
    return runbooks_from_records(kept)


def load_maintenance(root: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Every maintenance window of the repository that is usable, and the files of the rest
    (`validate` says what is wrong with them)."""
    out = []
    unreadable = []
    for rel, kind in record_paths(root, ["maintenance"]):
        record = read_record(root, rel, kind)
        if usable(record) and isinstance(record.data, dict):
            out.append(record.data)
        else:
            unreadable.append(rel)
    return out, unreadable
