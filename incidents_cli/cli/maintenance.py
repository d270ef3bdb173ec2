"""`incidents maintenance`: announce, update, call off and list scheduled maintenance."""

from __future__ import annotations

from datetime import datetime

import click

from incidents_cli.cli import params
from incidents_cli.cli.shared import (
    State,
    as_of_time,
    invocation,
    pass_state,
    transition_options,
    warn_unreadable,
)


@click.group()
def maintenance() -> None:
    """Scheduled maintenance: announce, update, cancel, list."""


@maintenance.command("new")
@click.argument("title")
@click.option("--start", required=True, type=params.START, help="When the window starts.")
@click.option("--end", required=True, type=params.END, help="When the window ends.")
@click.option(
    "--component",
    "components",
    multiple=True,
    required=True,
    metavar="ID",
    help="A component under maintenance (repeat for more).",
)
@click.option("--message", metavar="TEXT", help="The public message (Markdown).")
@transition_options
@pass_state
def maintenance_new(
    state: State,
    title: str,
    start: datetime,
    end: datetime,
    components: tuple[str, ...],
    message: str | None,
    by: str | None,
    at: datetime | None,
    as_json: bool,
    push: bool | None,
) -> int:
    """Announce a maintenance window; it gets the next id (MNT-0001, ...)."""
    from incidents_cli.cli.shared import report
    from incidents_cli.usecases import maintenance as usecase

    outcome = usecase.new(
        invocation(state, by, at, push),
        title,
        start=start,
        end=end,
        components=components,
        message=message,
    )
    data = outcome.change.record
    return report(outcome, as_json, f"Scheduled {data['id']}: {data['title']}")


@maintenance.command("update")
@click.argument("window_id", metavar="ID")
@click.option("--message", metavar="TEXT", help="A public update about the window.")
@click.option("--start", type=params.START, help="Move the start.")
@click.option("--end", type=params.END, help="Move the end.")
@transition_options
@pass_state
def maintenance_update(
    state: State,
    window_id: str,
    message: str | None,
    start: datetime | None,
    end: datetime | None,
    by: str | None,
    at: datetime | None,
    as_json: bool,
    push: bool | None,
) -> int:
    """Post an update about a window, or move it."""
    from incidents_cli.cli.shared import report
    from incidents_cli.usecases import maintenance as usecase

    outcome = usecase.update(
        invocation(state, by, at, push), window_id, message=message, start=start, end=end
    )
    return report(outcome, as_json, f"{window_id} updated")


@maintenance.command("cancel")
@click.argument("window_id", metavar="ID")
@click.option("--reason", required=True, metavar="TEXT", help="Why it is called off (public).")
@transition_options
@pass_state
def maintenance_cancel(
    state: State,
    window_id: str,
    reason: str,
    by: str | None,
    at: datetime | None,
    as_json: bool,
    push: bool | None,
) -> int:
    """Call a window off: it leaves the status page."""
    from incidents_cli.cli.shared import report
    from incidents_cli.usecases import maintenance as usecase

    outcome = usecase.cancel(invocation(state, by, at, push), window_id, reason)
    return report(outcome, as_json, f"{window_id} cancelled")


@maintenance.command("list")
@click.option(
    "--as-of", "as_of", type=params.AS_OF, help="Judge each window's state as of this time."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def maintenance_list(state: State, as_of: datetime | None, as_json: bool) -> int:
    """Every window, soonest first, with its state."""
    import json

    from incidents_cli.core.maintenance import rows_text
    from incidents_cli.usecases import maintenance as usecase

    found, unreadable = usecase.listing(state.directory, as_of_time(as_of))
    if as_json:
        click.echo(
            json.dumps([{**r._asdict(), "components": list(r.components)} for r in found], indent=2)
        )
    else:
        click.echo(rows_text(found), nl=False)
    warn_unreadable(unreadable, "maintenance file(s)", "they are not listed")
    return 0
