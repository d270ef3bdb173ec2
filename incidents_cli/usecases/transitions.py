"""One function per lifecycle command: options in, an Outcome (or records) out.

The click layer calls these; they build the event (who, when), pick the pure transition and
hand it to the transaction, which writes and commits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from incidents_cli.core import lifecycle
from incidents_cli.core.document import mapping
from incidents_cli.core.errors import RefusedError
from incidents_cli.core.lifecycle import Change, Event
from incidents_cli.core.records import postmortem_rel
from incidents_cli.core.timeutil import now_utc, parse_time_option
from incidents_cli.core.vocabulary import COMPONENT_STATUSES
from incidents_cli.store.git import Repo
from incidents_cli.store.layout import find_root
from incidents_cli.store.transaction import Outcome, Workspace, carry_out


class Common(NamedTuple):
    """The options every transition takes."""

    directory: Path
    by: str | None = None
    at: datetime | str | None = None  # a str is read as RFC 3339 (the CLI gives datetimes)
    push: bool | None = None
    on_wait: Callable[[str], None] | None = None  # told once if another command holds the lock


def _time(value: datetime | str | None, option: str) -> datetime | None:
    if isinstance(value, str):
        return parse_time_option(value, option) if value else None
    return value


def _actor(common: Common, repo: Repo) -> str:
    if common.by:
        return common.by.strip()
    name = repo.user_name()
    if not name:
        raise RefusedError("who is doing this? pass --by NAME, or set git config user.name")
    return name


def _run(
    common: Common, make: Callable[[Workspace, Event], Change], branch: str | None = None
) -> Outcome:
    root = find_root(common.directory)
    repo = Repo.at(root)
    actor = _actor(common, repo)
    now = now_utc()
    at = _time(common.at, "--at") or now

    def step(workspace: Workspace) -> Change:
        event = Event(actor, at, workspace.settings, now)
        return make(workspace, event)

    return carry_out(
        root,
        step,
        actor=actor,
        push=common.push,
        repo=repo,
        new_branch=branch,
        on_wait=common.on_wait,
    )


def declare(
    common: Common,
    title: str,
    *,
    severity: str | None,
    components: Sequence[str],
    regions: Sequence[str],
    source: str,
    summary: str | None,
) -> Outcome:
    def make(ws: Workspace, event: Event) -> Change:
        from incidents_cli.core.oncall import primary_at
        from incidents_cli.store.layout import load_schedule

        incident_id = lifecycle.next_id(ws.incident_ids(), ws.settings.id_prefix)
        schedule = load_schedule(ws.root, ws.settings)
        on_duty = primary_at(schedule, event.at) if schedule is not None else None
        return lifecycle.declare(
            incident_id,
            title,
            event,
            severity=severity,
            components=components,
            regions=regions,
            source=source,
            summary=summary,
            primary=on_duty.person if on_duty is not None else None,
        )

    return _run(common, make)


def ack(common: Common, incident_id: str, severity: str | None) -> Outcome:
    return _run(
        common, lambda ws, ev: lifecycle.acknowledge(ws.incident(incident_id), ev, severity)
    )


def severity(common: Common, incident_id: str, level: str) -> Outcome:
    return _run(
        common, lambda ws, ev: lifecycle.change_severity(ws.incident(incident_id), ev, level)
    )


def assign(
    common: Common,
    incident_id: str,
    *,
    commander: str | None,
    communications: str | None,
    responders: Sequence[str],
) -> Outcome:
    return _run(
        common,
        lambda ws, ev: lifecycle.assign(
            ws.incident(incident_id),
            ev,
            commander=commander,
            communications=communications,
            responders=responders,
        ),
    )


def investigate(common: Common, incident_id: str) -> Outcome:
    return _run(common, lambda ws, ev: lifecycle.investigate(ws.incident(incident_id), ev))


def note(
    common: Common,
    incident_id: str,
    text: str,
    *,
    kind: str,
    evidence: Sequence[str],
    runbook: str | None,
) -> Outcome:
    return _run(
        common,
        lambda ws, ev: lifecycle.note(
            ws.incident(incident_id),
            ev,
            text,
            kind=kind,
            evidence=evidence,
            runbook=runbook,
            known_runbooks=ws.runbook_slugs(),
        ),
    )


def parse_component_statuses(pairs: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        component, sep, status = pair.partition("=")
        if not sep or not component or status not in COMPONENT_STATUSES:
            raise RefusedError(
                f"--component {pair!r}: write ID=STATUS with STATUS one of "
                f"{', '.join(COMPONENT_STATUSES)}"
            )
        out[component] = status
    return out


def update(
    common: Common,
    incident_id: str,
    *,
    status: str,
    message: str,
    components: Sequence[str],
    eta: datetime | str | None,
) -> Outcome:
    statuses = parse_component_statuses(components)
    eta_time = _time(eta, "--eta")
    return _run(
        common,
        lambda ws, ev: lifecycle.public_update(
            ws.incident(incident_id),
            ev,
            status=status,
            message=message,
            components=statuses,
            eta=eta_time,
        ),
    )


def resolve(
    common: Common,
    incident_id: str,
    *,
    action: str,
    summary: str,
    verified_in: Sequence[str],
    workaround: bool,
    follow_up: str | None,
) -> Outcome:
    return _run(
        common,
        lambda ws, ev: lifecycle.resolve(
            ws.incident(incident_id),
            ev,
            action=action,
            summary=summary,
            verified_in=verified_in,
            workaround=workaround,
            follow_up=follow_up,
        ),
    )


def reopen(common: Common, incident_id: str, reason: str) -> Outcome:
    return _run(common, lambda ws, ev: lifecycle.reopen(ws.incident(incident_id), ev, reason))


def postmortem(common: Common, incident_id: str, *, branch: bool = False) -> Outcome:
    """Start the postmortem: the draft document and the phase move, in one commit."""
    from incidents_cli.core.postmortems import draft
    from incidents_cli.site.render import Renderer
    from incidents_cli.store import yamlio

    rel = postmortem_rel(incident_id)

    def make(ws: Workspace, event: Event) -> Change:
        change = lifecycle.start_postmortem(ws.incident(incident_id), event, rel)
        if (ws.root / rel).exists():
            change.notices.append(f"{rel} exists already; it was kept as it is")
        else:
            renderer = Renderer(ws.root)
            change.files[rel] = draft(
                change.record, ws.settings, event.actor, renderer.render, yamlio.dump
            )
        return change

    return _run(common, make, branch=f"postmortem/{incident_id}" if branch else None)


def action_done(common: Common, incident_id: str, item_id: str, link: str | None) -> Outcome:
    """Mark one action item of a postmortem done: one commit of the postmortem file."""
    from incidents_cli.core.timeutil import format_time
    from incidents_cli.store import yamlio

    rel = postmortem_rel(incident_id)

    def make(ws: Workspace, event: Event) -> Change:
        record = ws.incident(incident_id)
        path = ws.root / rel
        if not path.is_file():
            raise RefusedError(f"no postmortem {rel}; run `incidents postmortem {incident_id}`")
        text = yamlio.read_text(path, rel)
        front, body, _ = yamlio.split_front_matter(text, rel)
        doc = yamlio.parse(front, rel, line_offset=1)
        if doc.problems:
            raise doc.problems[0]
        data = mapping(doc.data)
        items = data.get("action_items") or []
        found = [i for i in items if isinstance(i, dict) and i.get("id") == item_id]
        if not found:
            known = ", ".join(str(i.get("id")) for i in items if isinstance(i, dict)) or "none"
            raise RefusedError(f"{rel} has no action item {item_id!r} (items: {known})")
        item = found[0]
        if item.get("status") == "done":
            raise RefusedError(
                f"{incident_id} {item_id} is done already (since {item.get('done_at', '?')})"
            )
        item["status"] = "done"
        item["done_at"] = format_time(event.at)
        if link:
            item["link"] = link
        new_front = yamlio.rewrite(front, data)
        change = Change(
            record,
            "action-done",
            f"{incident_id} action item {item_id} done: {item.get('title', '')}"[:100],
            write_record=False,
        )
        change.files[rel] = f"---\n{new_front}---\n{body}"
        return change

    return _run(common, make)


def close(common: Common, incident_id: str) -> Outcome:
    def make(ws: Workspace, event: Event) -> Change:
        record = ws.incident(incident_id)
        rel = str(record.get("postmortem") or postmortem_rel(incident_id))
        front = ws.front_matter(rel)
        status = str(front.get("status")) if front is not None else None
        return lifecycle.close(record, event, status)

    return _run(common, make)
