"""`incidents validate`: every record checked, every problem collected, then reported."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from incidents_cli.core.findings import Finding
from incidents_cli.core.records import RecordFile, classify
from incidents_cli.core.rules import check_repository
from incidents_cli.store.cache import read_all
from incidents_cli.store.layout import read_record
from incidents_cli.store.schemas import schema_findings

# What the status site is built from. `validate --scope site` (the publish workflow) fails
# only on problems there: a broken runbook or on-call file must not hold back a status update.
SITE_KINDS = frozenset({"settings", "incident", "postmortem", "maintenance"})
SCOPES = ("all", "site")


def findings_of(records: Sequence[RecordFile]) -> list[Finding]:
    """Every problem of these records: reading, schema, and the rules across them."""
    findings: list[Finding] = []
    for record in records:
        if record.error is not None:
            findings.append(Finding.from_error(record.error))
        else:
            assert record.doc is not None
            findings.extend(Finding.from_error(p) for p in record.doc.problems)
            findings.extend(schema_findings(record))
    findings.extend(check_repository(records))
    return findings


def findings_with(root: Path, rel: str, text: str) -> list[Finding]:
    """What `validate` would find in ``rel`` if it held ``text`` (the rest of the repository
    as it is): how `close` and `postmortem publish` judge a document by validate's rules."""
    kind = classify(rel)
    assert kind is not None, rel
    candidate = read_record(root, rel, kind, raw=text.encode("utf-8"))
    records = [r for r in read_all(root) if r.rel != rel] + [candidate]
    return sorted({f for f in findings_of(records) if f.path == rel})


def validate_repository(root: Path, only: Sequence[Path] = (), scope: str = "all") -> list[Finding]:
    """All findings of the repository at ``root``; with ``only``, those in these files.
    ``scope`` "site": findings in records the site is not built from become warnings.

    Cross-file rules need the whole repository, so everything is read either way.
    """
    records = read_all(root)
    findings = findings_of(records)
    if only:
        wanted: set[str] = set()
        about_paths: list[Finding] = []
        for path in only:
            absolute = path if path.is_absolute() else Path.cwd() / path
            try:
                rel = absolute.resolve().relative_to(root).as_posix()
            except ValueError:
                about_paths.append(Finding(str(path), 1, 1, "(file)", "is outside the repository"))
                continue
            if not absolute.exists():
                about_paths.append(Finding(rel, 1, 1, "(file)", "no such file"))
            elif classify(rel) is not None:
                wanted.add(rel)
        findings = [f for f in findings if f.path in wanted] + about_paths
    if scope == "site":
        findings = [
            f._replace(level="warning") if classify(f.path) not in (None, *SITE_KINDS) else f
            for f in findings
        ]
    return sorted(set(findings))
