"""`incidents validate`: every record checked, every problem collected, then reported."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from incidents_cli.findings import Finding
from incidents_cli.record_cache import read_all
from incidents_cli.repository import classify
from incidents_cli.rules import check_repository
from incidents_cli.validation import schema_findings


def validate_repository(root: Path, only: Sequence[Path] = ()) -> list[Finding]:
    """All findings of the repository at ``root``; with ``only``, those in these files.

    Cross-file rules need the whole repository, so everything is read either way.
    """
    records = read_all(root)
    findings: list[Finding] = []
    for record in records:
        if record.error is not None:
            error = record.error
            findings.append(
                Finding(error.path, error.line, error.column, error.field, error.detail)
            )
        else:
            assert record.doc is not None
            for problem in record.doc.problems:
                findings.append(
                    Finding(
                        problem.path, problem.line, problem.column, problem.field, problem.detail
                    )
                )
            findings.extend(schema_findings(record))
    findings.extend(check_repository(records))
    if only:
        wanted: set[str] = set()
        for path in only:
            absolute = path if path.is_absolute() else Path.cwd() / path
            try:
                rel = absolute.resolve().relative_to(root).as_posix()
            except ValueError:
                findings.append(Finding(str(path), 1, 1, "(file)", "is outside the repository"))
                continue
            if not absolute.exists():
                findings.append(Finding(rel, 1, 1, "(file)", "no such file"))
            elif classify(rel) is not None:
                wanted.add(rel)
        findings = [
            f
            for f in findings
            if f.path in wanted or f.message in ("is outside the repository", "no such file")
        ]
    return sorted(set(findings))
