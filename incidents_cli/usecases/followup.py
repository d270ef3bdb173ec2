"""`incidents actions` and `runbook`: follow-through after incidents, read from the records.

The record cache and the follow-up rules are imported where they are used: every transition
imports this module only for the runbooks that match its incident.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from incidents_cli.core.errors import RefusedError
from incidents_cli.core.findings import Finding
from incidents_cli.core.runbooks import Runbook, Stale, matching, select, stale
from incidents_cli.core.settings import refuse_unknown
from incidents_cli.store.layout import load_runbooks, load_settings

if TYPE_CHECKING:
    from incidents_cli.core import followup


def follow_up_items(
    root: Path,
    *,
    as_of: datetime,
    overdue_only: bool,
    owner: str | None,
    paths: Sequence[str],
) -> list[followup.Item]:
    """Action items, missing or unpublished postmortems and runbook reviews, filtered."""
    from incidents_cli.core import followup
    from incidents_cli.store.cache import read_usable, snapshot, summary_records

    settings = load_settings(root)
    refuse_unknown("--owner", [owner] if owner else [], settings.people, "person")
    snap = snapshot(root)
    # Incidents as summaries: what follow-up needs of them, without every timeline.
    postmortem_records, left_out = read_usable(root, kinds=("postmortem",), snap=snap)
    records = postmortem_records + summary_records(root, snap)
    incidents = [r.data for r in records if r.kind == "incident" and isinstance(r.data, dict)]
    postmortems = {
        str(r.data.get("incident")): r.data
        for r in records
        if r.kind == "postmortem" and isinstance(r.data, dict)
    }
    due_reviews = stale(load_runbooks(root), incidents, postmortems, as_of)
    wanted = {Path(p).as_posix().removeprefix("./") for p in paths}

    def keep(item: followup.Item) -> bool:
        return (
            (not overdue_only or item.overdue)
            and (not owner or owner in item.owner.split(", "))
            and (not wanted or item.path in wanted)
        )

    invalid = _invalid_postmortems(root, left_out)
    return followup.collect(records, settings, as_of, due_reviews, keep, invalid)


def _invalid_postmortems(root: Path, rels: Sequence[str]) -> dict[str, Finding]:
    """The first problem of each postmortem that does not parse or follow its schema, by
    the incident it is for (its ``incident``, else its file name), as `validate` says it."""
    from incidents_cli.store.checks import check_record
    from incidents_cli.store.layout import read_record

    found: dict[str, Finding] = {}
    for rel in sorted(rels):
        record = read_record(root, rel, "postmortem")
        data = record.data if isinstance(record.data, dict) else {}
        incident = data.get("incident")
        problems = check_record(record).findings
        if problems:
            found.setdefault(
                str(incident) if isinstance(incident, str) else record.stem, problems[0]
            )
    return found


def runbooks_matching(root: Path, component: str | None, tag: str | None) -> list[Runbook]:
    if component:
        known = load_settings(root).component_ids
        refuse_unknown("--component", [component], known, "component")
    return select(load_runbooks(root), component, tag)


def runbook_by_slug(root: Path, slug: str) -> Runbook:
    runbooks = load_runbooks(root)
    for found in runbooks:
        if found.slug == slug:
            return found
    known = ", ".join(r.slug for r in runbooks) or "none"
    raise RefusedError(f"no runbook {slug!r} (runbooks: {known})")


def stale_runbooks(root: Path, as_of: datetime) -> list[Stale]:
    from incidents_cli.store.figures import stats_input

    incidents, postmortems, _ = stats_input(root)  # only the fields it reads, kept by blob id
    return stale(load_runbooks(root, refuse=True), incidents, postmortems, as_of)


def runbooks_for(root: Path, incident: dict[str, Any]) -> list[Runbook]:
    """The runbooks whose components or tags match an incident's components and title."""
    components = [str(c) for c in incident.get("components") or []]
    return matching(load_runbooks(root), components, str(incident.get("title", "")))
