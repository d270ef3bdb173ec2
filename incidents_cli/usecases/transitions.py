"""One function per lifecycle command: options in, an Outcome (or records) out.

The click layer calls these; they build the event (who, when), pick the pure transition and
hand it to the transaction, which writes and commits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from incidents_cli.core import lifecycle
from incidents_cli.core.document import mapping
from incidents_cli.core.errors import RefusedError
from incidents_cli.core.lifecycle import Change, Event
from incidents_cli.core.records import incident_rel, postmortem_rel
from incidents_cli.core.settings import Settings
from incidents_cli.core.text import clip, control_character, unfit_character
from incidents_cli.core.timeutil import now_utc, parse_time_option
from incidents_cli.core.vocabulary import COMPONENT_STATUSES
from incidents_cli.store.git import Repo
from incidents_cli.store.root import find_root

if TYPE_CHECKING:  # imported by _run, while git answers
    from incidents_cli.store.transaction import Outcome, Workspace


class Invocation(NamedTuple):
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


def actor(root: Path, repo: Repo, by: str | None, settings: Settings | None = None) -> str:
    """Who is doing this: --by, else the handle of the person whose email (people[].emails
    in incidents.yaml) is git's user.email, else git's user.name."""
    if by:
        return by.strip()  # a blank --by is refused where the actor is checked
    if settings is None:
        from incidents_cli.store.layout import load_settings

        settings = load_settings(root)
    handle = settings.handle_for_email(repo.user_email())
    if handle:
        return handle
    name = repo.user_name()
    if not name:
        raise RefusedError("who is doing this? pass --by NAME, or set git config user.name")
    found = control_character(name, one_line=True)
    if found:  # git's setting, not --by: named as such (a Latin-1 .gitconfig, say)
        raise RefusedError(
            f"git config user.name: {unfit_character(found)} is not allowed in a name; "
            "pass --by NAME, or set user.name again"
        )
    return name


def _run(
    invocation: Invocation,
    make: Callable[[Workspace, Event], Change],
    branch: str | None = None,
    incident_id: str | None = None,
) -> Outcome:
    """Carry out one transition made by ``make`` (who and when from ``invocation``);
    ``incident_id``: the incident whose record alone it changes, if that is known now."""
    root = find_root(invocation.directory)
    answer = Repo.ask_at(root)
    # The transaction's modules (PyYAML, the schemas' checks, ...) are imported while git
    # finds the work tree: the first thing every transition asks it.
    from incidents_cli.store.layout import load_settings
    from incidents_cli.store.transaction import carry_out

    repo = answer()
    settings = None if invocation.by else load_settings(root, repo.git_dir)  # once, for both
    actor_name = actor(root, repo, invocation.by, settings)
    now = now_utc()
    at = _time(invocation.at, "--at") or now

    def step(workspace: Workspace) -> Change:
        event = Event(actor_name, at, workspace.settings, now)
        return make(workspace, event)

    return carry_out(
        root,
        step,
        actor=actor_name,
        push=invocation.push,
        repo=repo,
        new_branch=branch,
        on_wait=invocation.on_wait,
        settings=settings,
        paths=[incident_rel(incident_id)] if incident_id is not None else (),
    )


run = _run
"""For the other use cases whose changes go through the same transaction (maintenance,
runbook reviews)."""


def declare(
    invocation: Invocation,
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

    return _run(invocation, make)


def ack(invocation: Invocation, incident_id: str, severity: str | None) -> Outcome:
    return _run(
        invocation,
        lambda ws, ev: lifecycle.acknowledge(ws.incident(incident_id), ev, severity),
        incident_id=incident_id,
    )


def severity(invocation: Invocation, incident_id: str, level: str) -> Outcome:
    return _run(
        invocation,
        lambda ws, ev: lifecycle.change_severity(ws.incident(incident_id), ev, level),
        incident_id=incident_id,
    )


def assign(
    invocation: Invocation,
    incident_id: str,
    *,
    commander: str | None,
    communications: str | None,
    responders: Sequence[str],
) -> Outcome:
    return _run(
        invocation,
        lambda ws, ev: lifecycle.assign(
            ws.incident(incident_id),
            ev,
            commander=commander,
            communications=communications,
            responders=responders,
        ),
        incident_id=incident_id,
    )


def investigate(invocation: Invocation, incident_id: str) -> Outcome:
    return _run(
        invocation,
        lambda ws, ev: lifecycle.investigate(ws.incident(incident_id), ev),
        incident_id=incident_id,
    )


def note(
    invocation: Invocation,
    incident_id: str,
    text: str,
    *,
    kind: str,
    evidence: Sequence[str],
    runbook: str | None,
) -> Outcome:
    return _run(
        invocation,
        lambda ws, ev: lifecycle.note(
            ws.incident(incident_id),
            ev,
            text,
            kind=kind,
            evidence=evidence,
            runbook=runbook,
            known_runbooks=ws.runbook_slugs(),
        ),
        incident_id=incident_id,
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
    invocation: Invocation,
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
        invocation,
        lambda ws, ev: lifecycle.public_update(
            ws.incident(incident_id),
            ev,
            status=status,
            message=message,
            components=statuses,
            eta=eta_time,
        ),
        incident_id=incident_id,
    )


def resolve(
    invocation: Invocation,
    incident_id: str,
    *,
    action: str,
    summary: str,
    verified_in: Sequence[str],
    workaround: bool,
    follow_up: str | None,
    message: str | None = None,
    components: Sequence[str] = (),
    public_update: bool = True,
) -> Outcome:
    statuses = parse_component_statuses(components)
    return _run(
        invocation,
        lambda ws, ev: lifecycle.resolve(
            ws.incident(incident_id),
            ev,
            action=action,
            summary=summary,
            verified_in=verified_in,
            workaround=workaround,
            follow_up=follow_up,
            message=message,
            components=statuses,
            public_update=public_update,
        ),
        incident_id=incident_id,
    )


def reopen(
    invocation: Invocation,
    incident_id: str,
    reason: str,
    *,
    message: str | None = None,
    components: Sequence[str] = (),
    public_update: bool = True,
) -> Outcome:
    statuses = parse_component_statuses(components)
    return _run(
        invocation,
        lambda ws, ev: lifecycle.reopen(
            ws.incident(incident_id),
            ev,
            reason,
            message=message,
            components=statuses,
            public_update=public_update,
        ),
        incident_id=incident_id,
    )


def scope(
    invocation: Invocation,
    incident_id: str,
    *,
    add_components: Sequence[str] = (),
    remove_components: Sequence[str] = (),
    add_regions: Sequence[str] = (),
    remove_regions: Sequence[str] = (),
    title: str | None = None,
    public: bool | None = None,
) -> Outcome:
    return _run(
        invocation,
        lambda ws, ev: lifecycle.scope(
            ws.incident(incident_id),
            ev,
            add_components=add_components,
            remove_components=remove_components,
            add_regions=add_regions,
            remove_regions=remove_regions,
            title=title,
            public=public,
        ),
        incident_id=incident_id,
    )


def amend(invocation: Invocation, incident_id: str, ref: str, message: str) -> Outcome:
    return _run(
        invocation,
        lambda ws, ev: lifecycle.amend(ws.incident(incident_id), ev, ref, message),
        incident_id=incident_id,
    )


def retract(invocation: Invocation, incident_id: str, ref: str, reason: str) -> Outcome:
    return _run(
        invocation,
        lambda ws, ev: lifecycle.retract(ws.incident(incident_id), ev, ref, reason),
        incident_id=incident_id,
    )


def postmortem(invocation: Invocation, incident_id: str, *, branch: bool = False) -> Outcome:
    """Start the postmortem: the draft document and the phase move, in one commit."""
    from incidents_cli.core.postmortems import draft, draft_author
    from incidents_cli.site.render import Renderer
    from incidents_cli.store import yamlio

    rel = postmortem_rel(incident_id)

    def make(ws: Workspace, event: Event) -> Change:
        change = lifecycle.start_postmortem(ws.incident(incident_id), event, rel)
        if ws.exists(rel):
            change.notices.append(f"{rel} exists already; it was kept as it is")
        else:
            renderer = Renderer(ws.root)
            author = event.actor
            if not invocation.by:
                author = draft_author(change.record, ws.settings, event.actor)
            change.files[rel] = draft(
                change.record, ws.settings, author, renderer.render, yamlio.dump
            )
        return change

    return _run(invocation, make, branch=f"postmortem/{incident_id}" if branch else None)


def action_done(
    invocation: Invocation, incident_id: str, item_id: str, link: str | None
) -> Outcome:
    """Mark one action item of a postmortem done: one commit of the postmortem file."""
    from incidents_cli.core.timeutil import format_time
    from incidents_cli.store import yamlio

    rel = postmortem_rel(incident_id)

    def make(ws: Workspace, event: Event) -> Change:
        record = ws.incident(incident_id)
        path = ws.root / rel
        if not path.is_file():
            raise RefusedError(f"no postmortem {rel}; run `incidents postmortem {incident_id}`")
        ws.refuse_invalid(rel, "postmortem")
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
            clip(f"{incident_id} action item {item_id} done: {item.get('title', '')}", 100, ""),
            write_record=False,
        )
        change.files[rel] = f"---\n{new_front}---\n{body}"
        return change

    return _run(invocation, make)


def close(invocation: Invocation, incident_id: str) -> Outcome:
    """Close, judging the postmortem as git holds it (HEAD, or the index when a person staged
    it, and then it is committed with the close) by the rules `validate` applies."""
    from incidents_cli.usecases.validate import findings_with

    def make(ws: Workspace, event: Event) -> Change:
        record = ws.incident(incident_id)
        rel = str(record.get("postmortem") or postmortem_rel(incident_id))
        text, staged = ws.committed_text(rel)
        if text is None:
            return lifecycle.close(record, event, None)
        front = ws.front_matter(rel)
        status = str(front.get("status")) if front is not None else None
        found = findings_with(ws.root, rel, text) if status == "published" else []
        change = lifecycle.close(record, event, status, [f.text() for f in found])
        if staged:
            change.files[rel] = text
            change.staged = (rel,)
        return change

    return _run(invocation, make)


def publish_postmortem(invocation: Invocation, incident_id: str) -> Outcome:
    """`postmortem publish`: check the publish rules, then status published and published_at
    in the document and a timeline entry in the incident, in one commit."""
    from incidents_cli.core.timeutil import format_time
    from incidents_cli.store import yamlio
    from incidents_cli.usecases.validate import findings_with

    def make(ws: Workspace, event: Event) -> Change:
        record = ws.incident(incident_id)
        rel = str(record.get("postmortem") or postmortem_rel(incident_id))
        path = ws.root / rel
        if not path.is_file():
            raise RefusedError(f"no postmortem {rel}; run `incidents postmortem {incident_id}`")
        text = ws.text(rel)  # remembered: a save made since is never written over
        front, body, _ = yamlio.split_front_matter(text, rel)
        doc = yamlio.parse(front, rel, line_offset=1)
        if doc.problems:
            raise doc.problems[0]
        data = mapping(doc.data)
        if data.get("status") == "published":
            since = f" (at {data['published_at']})" if data.get("published_at") else ""
            raise RefusedError(f"{rel} is published already{since}")
        data["status"] = "published"
        data["published_at"] = format_time(event.at)
        new_text = f"---\n{yamlio.rewrite(front, data)}---\n{body}"
        found = findings_with(ws.root, rel, new_text)
        if found:
            raise lifecycle.refused_with(
                [f.text() for f in found],
                f"cannot publish {rel}: {len(found)} problem(s) above; nothing was changed",
            )
        change = lifecycle.publish_postmortem(record, event, rel)
        change.files[rel] = new_text
        return change

    return _run(invocation, make)
