"""Detection: ingest a monitor's webhook payload."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from incidents_cli.cli import params
from incidents_cli.cli.shared import State, pass_state
from incidents_cli.core.vocabulary import ALERT_FORMATS

if TYPE_CHECKING:
    from datetime import datetime


@click.command()
@click.argument("alert_format", metavar="FORMAT", type=click.Choice(ALERT_FORMATS))
@click.argument("payload", metavar="[FILE|-]", default="-")
@click.option(
    "--push/--no-push",
    default=None,
    help="Push the commit; a rejected push is replayed on the remote state "
    "(default: the push setting).",
)
@click.option("--json", "as_json", is_flag=True, help="Print what happened as JSON.")
@click.option("--as-of", "as_of", type=params.AS_OF, help="Ingest as of this time (default: now).")
@click.option("--by", metavar="NAME", help="Who ingests (default: the monitor's name).")
@pass_state
def ingest(
    state: State,
    alert_format: str,
    payload: str,
    push: bool | None,
    as_json: bool,
    as_of: datetime | None,
    by: str | None,
) -> int:
    """Turn a monitor's webhook payload into transitions.

    FORMAT is alertmanager, grafana or generic; the payload is read from FILE (relative
    to -C, like git), or from standard input when FILE is - or left out. A firing alert
    group declares an incident, or adds its new regions and components to the open one; a
    resolved alert adds a note. The same payload twice makes no second commit.
    """
    import json

    from incidents_cli.core.errors import RefusedError
    from incidents_cli.usecases import ingest as usecase

    if payload == "-":
        import sys

        text = usecase.payload_text(sys.stdin.buffer, payload)
    else:
        try:
            # Relative to -C, as git and `validate` take paths.
            with (state.directory / payload).open("rb") as stream:
                text = usecase.payload_text(stream, payload)
        except OSError as exc:
            raise RefusedError(f"{payload}: cannot read the payload: {exc.strerror}") from None
    result = usecase.ingest(
        usecase.IngestOptions(
            state.directory, alert_format, text, payload, push=push, as_of=as_of, by=by
        )
    )
    for notice in result.notices:
        click.echo(f"note: {notice}", err=True)
    if as_json:
        click.echo(json.dumps([result.as_dict()], indent=2))
        return 0
    pushed = ", pushed" if result.pushed else ""
    commit = f" (commit {result.commit[:12]}{pushed})" if result.commit else ""
    if result.action == "declared":
        title = (result.record or {}).get("title", "")
        click.echo(f"Declared {result.id}: {title}{commit}")
    elif result.action == "updated":
        click.echo(f"Updated {result.id} from {result.alerts} alert(s){commit}")
    elif result.action == "pending":
        why = result.waiting or "waiting"
        click.echo(f"Pending, no incident yet: {why}{commit}")
    else:
        where = f" ({result.id})" if result.id else ""
        click.echo(f"Unchanged: nothing new in this payload{where}")
    if result.action == "declared" and result.record is not None:
        from incidents_cli.usecases.followup import runbooks_for

        found = runbooks_for(state.root(), result.record)
        if found:
            click.echo("Runbooks that may help:")
            for runbook in found:
                click.echo(f"  {runbook.rel}  {runbook.title}")
    return 0
