"""What the command modules share: the state object, choices and the transition options."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from incidents_cli.core.vocabulary import PHASES, SEVERITIES

if TYPE_CHECKING:
    from pathlib import Path

    from incidents_cli.store.transaction import Outcome
    from incidents_cli.usecases.transitions import Common

FORMATS = ("text", "json", "github")
SEVERITY_CHOICE = click.Choice(SEVERITIES)
PHASE_CHOICE = click.Choice(PHASES)
F = TypeVar("F", bound=Callable[..., Any])


class State:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def root(self) -> Path:
        from incidents_cli.store.layout import find_root

        return find_root(self.directory)


pass_state = click.make_pass_decorator(State)


def incident_id_argument(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """An ID argument: an incident id, or a usage error (ids become file names)."""
    from incidents_cli.core.errors import RefusedError
    from incidents_cli.core.records import checked_incident_id

    try:
        return checked_incident_id(value)
    except RefusedError as exc:
        raise click.BadParameter(exc.message, ctx, param) from None


def transition_options(func: F) -> F:
    """--by, --at, --json and --push: the options every transition takes."""
    options = [
        click.option("--by", metavar="NAME", help="Who is doing this (default: git user.name)."),
        click.option(
            "--at",
            metavar="TIME",
            help="When it really happened (RFC 3339 with offset), to back-fill the record.",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print the resulting record as JSON."),
        click.option(
            "--push/--no-push",
            default=None,
            help="Push the commit; a rejected push is replayed on the remote state "
            "(default: the push setting).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def common(state: State, by: str | None, at: str | None, push: bool | None) -> Common:
    from incidents_cli.usecases.transitions import Common

    def on_wait(message: str) -> None:
        click.echo(f"incidents: {message}", err=True)

    return Common(state.directory, by=by, at=at, push=push, on_wait=on_wait)


def report(outcome: Outcome, as_json: bool, text: str) -> int:
    import json

    for notice in outcome.notices:
        click.echo(f"note: {notice}", err=True)
    if as_json:
        click.echo(json.dumps(outcome.change.record, indent=2, ensure_ascii=False))
    else:
        pushed = ", pushed" if outcome.pushed else ""
        click.echo(f"{text} (commit {outcome.commit[:12]}{pushed})")
    return 0


def as_of_time(value: str | None, option: str = "--as-of") -> Any:
    from incidents_cli.core.timeutil import now_utc, parse_time_option

    return parse_time_option(value, option) if value else now_utc()
