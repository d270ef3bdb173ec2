"""`incidents list` and `show`: the incidents people ask about, with their computed facts."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from incidents_cli.core import overview, refs
from incidents_cli.core.errors import RefusedError
from incidents_cli.core.records import incident_rel
from incidents_cli.core.runbooks import Runbook
from incidents_cli.core.settings import Settings, refuse_unknown
from incidents_cli.store.cache import incident_summaries
from incidents_cli.store.layout import load_settings, read_record
from incidents_cli.usecases.followup import runbooks_for


class Listing(NamedTuple):
    settings: Settings
    views: list[overview.View]
    unreadable: list[str]


class Shown(NamedTuple):
    settings: Settings
    view: overview.View
    record: dict[str, Any]
    runbooks: list[Runbook]


def list_incidents(
    root: Path,
    *,
    phases: Sequence[str],
    severities: Sequence[str],
    components: Sequence[str],
    include_closed: bool,
    since: datetime | None,
    as_of: datetime,
    whole_records: bool,
) -> Listing:
    """The chosen incidents, newest first. ``whole_records``: each view holds the whole
    record (for --json), not just the summary a table needs."""
    settings = load_settings(root)
    refuse_unknown("--component", components, settings.component_ids, "component")
    records, unreadable = incident_summaries(root)
    chosen = overview.select(
        records,
        phases=phases,
        severities=severities,
        components=components,
        include_closed=include_closed,
        since=since,
    )
    if whole_records:
        chosen = [read_record(root, str(r["_path"]), "incident").data for r in chosen]
    return Listing(settings, [overview.view(r, settings, as_of) for r in chosen], unreadable)


def show_incident(root: Path, incident_id: str, as_of: datetime) -> Shown:
    """One incident with its computed facts and the runbooks that may help."""
    settings = load_settings(root)
    rel = incident_rel(incident_id)
    record = read_record(root, rel, "incident")
    if record.error is not None:
        if not (root / rel).exists():
            raise RefusedError(f"no incident {incident_id} (see `incidents list --all`)")
        raise record.error
    from incidents_cli.core.findings import Finding
    from incidents_cli.store.schemas import schema_findings

    assert record.doc is not None
    problems = [Finding.from_error(p) for p in record.doc.problems] + schema_findings(record)
    if problems:  # the views expect a record of the right shape
        raise RefusedError(f"{problems[0].text()} (run `incidents validate`)")
    data = copy.deepcopy(record.data)
    refs.ensure_refs(data)  # the references the next transition stores, for older records
    return Shown(settings, overview.view(data, settings, as_of), data, runbooks_for(root, data))
