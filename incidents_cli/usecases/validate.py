"""`incidents validate`: every record checked, every problem collected, then reported."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from incidents_cli.core.findings import Finding
from incidents_cli.core.records import RecordFile, classify
from incidents_cli.store.checks import Checked, all_findings, check_all, check_record, reader
from incidents_cli.store.layout import read_record

# What the status site is built from. `validate --scope site` (the publish workflow) fails
# only on problems there: a broken runbook or on-call file must not hold back a status update.
SITE_KINDS = frozenset({"settings", "incident", "postmortem", "maintenance"})
SCOPES = ("all", "site")


def findings_of(records: Sequence[RecordFile]) -> list[Finding]:
    """Every problem of these records: reading, schema, and the rules (each record's own,
    and those across them). The rules run only on records that follow their schema: a
    record of the wrong shape is reported by the schema, and never handed to code that
    expects the right one."""
    return all_findings([check_record(r) for r in records], reader(Path(), records))


def findings_with(root: Path, rel: str, text: str) -> list[Finding]:
    """What `validate` would find in ``rel`` if it held ``text`` (the rest of the repository
    as it is): how `close` and `postmortem publish` judge a document by validate's rules."""
    kind = classify(rel)
    assert kind is not None, rel
    candidate = read_record(root, rel, kind, raw=text.encode("utf-8"))
    checked, _ = check_all(root)
    checked = [c for c in checked if c.rel != rel] + [check_record(candidate)]
    found = all_findings(checked, reader(root, [candidate]))
    return sorted({f for f in found if f.path == rel})


def validate_repository(
    root: Path,
    only: Sequence[Path] = (),
    scope: str = "all",
    checked: Sequence[Checked] | None = None,
    found: Sequence[Finding] | None = None,
) -> list[Finding]:
    """All findings of the repository at ``root`` (records and the repository's templates);
    with ``only``, those in these files (a folder means every file in it). ``scope`` "site":
    findings in records the site is not built from become warnings. ``checked``: the
    records as `check_all` gave them, if the caller has them already; ``found``: the
    findings of the records themselves (``all_findings`` of them), if it has those.

    Cross-file rules need the whole repository, so everything is checked either way (from
    the cache, for files that did not change).
    """
    from incidents_cli.site.render import template_findings

    if found is None:
        if checked is None:
            checked, _ = check_all(root)
        found = all_findings(checked, reader(root))
    findings = [*found, *template_findings(root)]
    if only:
        findings = _only(root, findings, only)
    if scope == "site":
        findings = [
            f._replace(level="warning") if classify(f.path) not in (None, *SITE_KINDS) else f
            for f in findings
        ]
    return sorted(set(findings))


def _only(root: Path, findings: list[Finding], only: Sequence[Path]) -> list[Finding]:
    """The findings in these files or folders, and a finding for each path that is not
    in the repository."""
    wanted: set[str] = set()
    folders: list[str] = []
    about_paths: list[Finding] = []
    for path in only:
        absolute = path if path.is_absolute() else Path.cwd() / path
        try:
            rel = absolute.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            about_paths.append(Finding(str(path), 1, 1, "(file)", "is outside the repository"))
            continue
        if not absolute.exists():
            about_paths.append(Finding(rel, 1, 1, "(file)", "no such file"))
        elif absolute.is_dir():
            folders.append("" if rel == "." else f"{rel}/")
        elif classify(rel) is not None or rel.startswith("templates/"):
            wanted.add(rel)
    return [
        f for f in findings if f.path in wanted or any(f.path.startswith(d) for d in folders)
    ] + about_paths
