"""The lifecycle commands: declare, ack, severity, assign, investigate, note, update,
scope, amend, retract, resolve, reopen, postmortem (and postmortem publish), close."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from incidents_cli.cli import params
from incidents_cli.cli.shared import (
    SEVERITY_CHOICE,
    State,
    common,
    pass_state,
    report,
    transition_options,
)
from incidents_cli.core.vocabulary import NOTE_KINDS, RESOLUTION_ACTIONS, SOURCES, UPDATE_STATUSES

if TYPE_CHECKING:
    from datetime import datetime


def _suggest_runbooks(state: State, record: dict[str, Any], as_json: bool) -> None:
    from incidents_cli.usecases.followup import runbooks_for

    found = runbooks_for(state.root(), record)
    if found and not as_json:
        click.echo("Runbooks that may help:")
        for runbook in found:
            click.echo(f"  {runbook.rel}  {runbook.title}")


@click.command()
@click.argument("title")
@click.option("--severity", type=SEVERITY_CHOICE, help="If already known; else set it at ack.")
@click.option(
    "--component",
    "components",
    multiple=True,
    metavar="ID",
    help="Affected component.",
    shell_complete=params.complete_components,
)
@click.option("--region", "regions", multiple=True, metavar="REGION", help="Affected region.")
@click.option(
    "--source",
    type=click.Choice(SOURCES),
    default="internal",
    show_default=True,
    help="How it was detected.",
)
@click.option("--summary", metavar="TEXT", help="Internal summary of what is known.")
@transition_options
@pass_state
def declare(
    state: State,
    title: str,
    severity: str | None,
    components: tuple[str, ...],
    regions: tuple[str, ...],
    source: str,
    summary: str | None,
    by: str | None,
    at: datetime | None,
    as_json: bool,
    push: bool | None,
) -> int:
    """Open an incident in phase detected and print its id."""
    from incidents_cli.usecases import transitions as commands

    outcome = commands.declare(
        common(state, by, at, push),
        title,
        severity=severity,
        components=components,
        regions=regions,
        source=source,
        summary=summary,
    )
    code = report(outcome, as_json, f"Declared {outcome.change.incident_id}: {title.strip()}")
    _suggest_runbooks(state, outcome.change.record, as_json)
    return code


@click.command()
@click.argument("incident_id", metavar="ID", type=params.OPEN_INCIDENT)
@click.option("--severity", type=SEVERITY_CHOICE, help="Set the severity (required if unset).")
@transition_options
@pass_state
def ack(
    state: State,
    incident_id: str,
    severity: str | None,
    by: str | None,
    at: datetime | None,
    as_json: bool,
    push: bool | None,
) -> int:
    """Acknowledge an incident: it moves to acknowledged."""
    from incidents_cli.usecases import transitions as commands

    outcome = commands.ack(common(state, by, at, push), incident_id, severity)
    record = outcome.change.record
    code = report(outcome, as_json, f"{incident_id} acknowledged as {record['severity']}")
    _suggest_runbooks(state, record, as_json)
    return code


@click.command("severity")
@click.argument("incident_id", metavar="ID", type=params.OPEN_INCIDENT)
@click.argument("level", type=SEVERITY_CHOICE)
@transition_options
@pass_state
def severity_command(
    state: State,
    incident_id: str,
    level: str,
    by: str | None,
    at: datetime | None,
    as_json: bool,
    push: bool | None,
) -> int:
    """Change an open incident's severity (kept in the timeline)."""
    from incidents_cli.usecases import transitions as commands

    outcome = commands.severity(common(state, by, at, push), incident_id, level)
    return report(outcome, as_json, f"{incident_id} is now {level}")


@click.command()
@click.argument("incident_id", metavar="ID", type=params.OPEN_INCIDENT)
@click.option(
    "--commander", metavar="NAME", help="Incident commander.", shell_complete=params.complete_people
)
@click.option(
    "--comms", metavar="NAME", help="Communications lead.", shell_complete=params.complete_people
)
@click.option(
    "--responder",
    "responders",
    multiple=True,
    metavar="NAME",
    help="Responder.",
    shell_complete=params.complete_people,
)
@transition_options
@pass_state
def assign(
    state: State,
    incident_id: str,
    commander: str | None,
    comms: str | None,
    responders: tuple[str, ...],
    by: str | None,
    at: datetime | None,
    as_json: bool,
    push: bool | None,
) -> int:
    """Record roles: commander, communications lead, responders."""
    from incidents_cli.usecases import transitions as commands

    outcome = commands.assign(
        common(state, by, at, push),
        incident_id,
        commander=commander,
        communications=comms,
        responders=responders,
    )
    return report(outcome, as_json, f"{incident_id} roles updated")


@click.command()
@click.argument("incident_id", metavar="ID", type=params.OPEN_INCIDENT)
@transition_options
@pass_state
def investigate(
    state: State,
    incident_id: str,
    by: str | None,
    at: datetime | None,
    as_json: bool,
    push: bool | None,
) -> int:
    """Move an acknowledged incident to investigating."""
    from incidents_cli.usecases import transitions as commands

    outcome = commands.investigate(common(state, by, at, push), incident_id)
    return report(outcome, as_json, f"{incident_id} investigating")


@click.command()
@click.argument("incident_id", metavar="ID", type=params.OPEN_INCIDENT)
@click.argument("text")
@click.option("--evidence", multiple=True, metavar="REF", help="Log query, dashboard, link...")
@click.option(
    "--kind",
    default="note",
    show_default=True,
    type=click.Choice(NOTE_KINDS),
    help="What sort of entry.",
)
@click.option(
    "--runbook",
    metavar="SLUG",
    help="Record that this runbook was used.",
    shell_complete=params.complete_runbooks,
)
@transition_options
@pass_state
def note(
    state: State,
    incident_id: str,
    text: str,
    evidence: tuple[str, ...],
    kind: str,
    runbook: str | None,
    by: str | None,
    at: datetime | None,
    as_json: bool,
    push: bool | None,
) -> int:
    """Add an internal timeline entry (never published)."""
    from incidents_cli.usecases import transitions as commands

    outcome = commands.note(
        common(state, by, at, push),
        incident_id,
        text,
        kind=kind,
        evidence=evidence,
        runbook=runbook,
    )
    return report(outcome, as_json, f"{incident_id} {kind} added")


@click.command()
@click.argument("incident_id", metavar="ID", type=params.OPEN_INCIDENT)
@click.option(
    "--status",
    required=True,
    type=click.Choice(UPDATE_STATUSES),
    help="Public status this update announces.",
)
@click.option("--message", required=True, metavar="TEXT", help="The public message.")
@click.option(
    "--component",
    "components",
    multiple=True,
    metavar="ID=STATUS",
    help="Component status, e.g. api=partial_outage.",
)
@click.option("--eta", type=params.ETA, help="Estimated resolution time (e.g. 2h, 14:30, in 45m).")
@transition_options
@pass_state
def update(
    state: State,
    incident_id: str,
    status: str,
    message: str,
    components: tuple[str, ...],
    eta: datetime | None,
    by: str | None,
    at: datetime | None,
    as_json: bool,
    push: bool | None,
) -> int:
    """Post a public status update (published on the status page)."""
    from incidents_cli.usecases import transitions as commands

    outcome = commands.update(
        common(state, by, at, push),
        incident_id,
        status=status,
        message=message,
        components=components,
        eta=eta,
    )
    return report(outcome, as_json, f"{incident_id} public update posted ({status})")


@click.command()
@click.argument("incident_id", metavar="ID", type=params.OPEN_INCIDENT)
@click.option(
    "--action",
    required=True,
    type=click.Choice(RESOLUTION_ACTIONS),
    help="What fixed it.",
)
@click.option("--summary", required=True, metavar="TEXT", help="What was done.")
@click.option(
    "--verified-in",
    "verified_in",
    multiple=True,
    metavar="REGION",
    help="Region where monitors confirm recovery (every affected region is needed).",
)
@click.option("--workaround", is_flag=True, help="The root cause is not fixed yet.")
@click.option("--follow-up", "follow_up", metavar="TEXT", help="The permanent fix to come.")
@click.option(
    "--message",
    metavar="TEXT",
    help="The public update posted with it (default: 'This incident has been resolved.').",
)
@click.option(
    "--component",
    "components",
    multiple=True,
    metavar="ID=STATUS",
    help="Component status in that update (default: each affected one operational).",
)
@click.option(
    "--no-public-update",
    "no_public_update",
    is_flag=True,
    help="Post no public update (by default one is posted if the incident has any).",
)
@transition_options
@pass_state
def resolve(
    state: State,
    incident_id: str,
    action: str,
    summary: str,
    verified_in: tuple[str, ...],
    workaround: bool,
    follow_up: str | None,
    message: str | None,
    components: tuple[str, ...],
    no_public_update: bool,
    by: str | None,
    at: datetime | None,
    as_json: bool,
    push: bool | None,
) -> int:
    """Resolve once recovery is verified in every affected region."""
    from incidents_cli.usecases import transitions as commands

    outcome = commands.resolve(
        common(state, by, at, push),
        incident_id,
        action=action,
        summary=summary,
        verified_in=verified_in,
        workaround=workaround,
        follow_up=follow_up,
        message=message,
        components=components,
        public_update=not no_public_update,
    )
    return report(outcome, as_json, f"{incident_id} resolved")


@click.command()
@click.argument("incident_id", metavar="ID", type=params.ANY_INCIDENT)
@click.option("--reason", required=True, metavar="TEXT", help="Why it is not resolved.")
@click.option(
    "--message",
    metavar="TEXT",
    help="The public update posted with it (default: 'We are investigating this issue again.').",
)
@click.option(
    "--component",
    "components",
    multiple=True,
    metavar="ID=STATUS",
    help="Component status in that update (default: as before the resolution).",
)
@click.option(
    "--no-public-update",
    "no_public_update",
    is_flag=True,
    help="Post no public update (by default one is posted if the incident has any).",
)
@transition_options
@pass_state
def reopen(
    state: State,
    incident_id: str,
    reason: str,
    message: str | None,
    components: tuple[str, ...],
    no_public_update: bool,
    by: str | None,
    at: datetime | None,
    as_json: bool,
    push: bool | None,
) -> int:
    """Take a resolved incident back to investigating."""
    from incidents_cli.usecases import transitions as commands

    outcome = commands.reopen(
        common(state, by, at, push),
        incident_id,
        reason,
        message=message,
        components=components,
        public_update=not no_public_update,
    )
    return report(outcome, as_json, f"{incident_id} reopened")


@click.command()
@click.argument("incident_id", metavar="ID", type=params.OPEN_INCIDENT)
@click.option("--add-component", "add_components", multiple=True, metavar="ID")
@click.option("--remove-component", "remove_components", multiple=True, metavar="ID")
@click.option("--add-region", "add_regions", multiple=True, metavar="REGION")
@click.option("--remove-region", "remove_regions", multiple=True, metavar="REGION")
@click.option("--title", metavar="TEXT", help="A new public title.")
@click.option("--public", "make_public", is_flag=True, help="Show it on the status page.")
@click.option("--private", "make_private", is_flag=True, help="Keep it off the status page.")
@transition_options
@pass_state
def scope(
    state: State,
    incident_id: str,
    add_components: tuple[str, ...],
    remove_components: tuple[str, ...],
    add_regions: tuple[str, ...],
    remove_regions: tuple[str, ...],
    title: str | None,
    make_public: bool,
    make_private: bool,
    by: str | None,
    at: datetime | None,
    as_json: bool,
    push: bool | None,
) -> int:
    """Change components, regions, title or visibility.

    Each change is a timeline entry; all of them are one commit.
    """
    from incidents_cli.core.errors import RefusedError
    from incidents_cli.usecases import transitions as commands

    if make_public and make_private:
        raise RefusedError("--public and --private: choose one")
    outcome = commands.scope(
        common(state, by, at, push),
        incident_id,
        add_components=add_components,
        remove_components=remove_components,
        add_regions=add_regions,
        remove_regions=remove_regions,
        title=title,
        public=True if make_public else False if make_private else None,
    )
    return report(outcome, as_json, f"{incident_id} scope changed")


@click.command()
@click.argument("incident_id", metavar="ID", type=params.ANY_INCIDENT)
@click.argument("ref", metavar="REF")
@click.option("--message", required=True, metavar="TEXT", help="The corrected text.")
@transition_options
@pass_state
def amend(
    state: State,
    incident_id: str,
    ref: str,
    message: str,
    by: str | None,
    at: datetime | None,
    as_json: bool,
    push: bool | None,
) -> int:
    """Correct a note or public update (REF from `show`: N3, U2)."""
    from incidents_cli.usecases import transitions as commands

    outcome = commands.amend(common(state, by, at, push), incident_id, ref, message)
    return report(outcome, as_json, f"{incident_id} {ref.upper()} amended")


@click.command()
@click.argument("incident_id", metavar="ID", type=params.ANY_INCIDENT)
@click.argument("ref", metavar="REF")
@click.option("--reason", required=True, metavar="TEXT", help="Why it is withdrawn.")
@transition_options
@pass_state
def retract(
    state: State,
    incident_id: str,
    ref: str,
    reason: str,
    by: str | None,
    at: datetime | None,
    as_json: bool,
    push: bool | None,
) -> int:
    """Withdraw a note or public update (it leaves the site)."""
    from incidents_cli.usecases import transitions as commands

    outcome = commands.retract(common(state, by, at, push), incident_id, ref, reason)
    return report(outcome, as_json, f"{incident_id} {ref.upper()} retracted")


class _PostmortemGroup(click.Group):
    """`postmortem ID` drafts one (the `start` subcommand); `postmortem publish ID`
    publishes it."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["start", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_PostmortemGroup)
def postmortem() -> None:
    """Draft postmortems/ID.md (phase postmortem); `publish` it.

    `incidents postmortem ID` drafts it; `incidents postmortem publish ID` publishes it.
    """


@postmortem.command("start")
@click.argument("incident_id", metavar="ID", type=params.ANY_INCIDENT)
@click.option(
    "--branch",
    is_flag=True,
    help="Commit to a new branch postmortem/ID (for a pull request) instead of this one.",
)
@transition_options
@pass_state
def postmortem_start(
    state: State,
    incident_id: str,
    branch: bool,
    by: str | None,
    at: datetime | None,
    as_json: bool,
    push: bool | None,
) -> int:
    """Draft postmortems/ID.md; the incident moves to postmortem.

    The draft has the four questions as sections, pre-filled from the incident's record.
    """
    from incidents_cli.usecases import transitions as commands

    outcome = commands.postmortem(common(state, by, at, push), incident_id, branch=branch)
    path = outcome.change.record.get("postmortem")
    if branch:
        for notice in outcome.notices:
            click.echo(f"note: {notice}", err=True)
        click.echo(
            f"{incident_id} postmortem draft {path} committed to branch postmortem/{incident_id} "
            f"(commit {outcome.commit[:12]}); your branch and files are unchanged."
        )
        click.echo(f"Push it for review: git push -u origin postmortem/{incident_id}")
        return 0
    return report(outcome, as_json, f"{incident_id} postmortem started: {path}")


@postmortem.command("publish")
@click.argument("incident_id", metavar="ID", type=params.ANY_INCIDENT)
@transition_options
@pass_state
def postmortem_publish(
    state: State,
    incident_id: str,
    by: str | None,
    at: datetime | None,
    as_json: bool,
    push: bool | None,
) -> int:
    """Check the publish rules, then mark it published (status and published_at)."""
    from incidents_cli.usecases import transitions as commands

    outcome = commands.publish_postmortem(common(state, by, at, push), incident_id)
    return report(outcome, as_json, f"{incident_id} postmortem published")


@click.command()
@click.argument("incident_id", metavar="ID", type=params.ANY_INCIDENT)
@transition_options
@pass_state
def close(
    state: State,
    incident_id: str,
    by: str | None,
    at: datetime | None,
    as_json: bool,
    push: bool | None,
) -> int:
    """Close an incident (after its postmortem, where one is due)."""
    from incidents_cli.usecases import transitions as commands

    outcome = commands.close(common(state, by, at, push), incident_id)
    return report(outcome, as_json, f"{incident_id} closed")
