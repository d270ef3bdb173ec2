"""What the command modules share: the state object, choices and the transition options."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

from incidents_cli.core.vocabulary import PHASES, SEVERITIES

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from incidents_cli.store.transaction import Outcome
    from incidents_cli.usecases.transitions import Invocation

FORMATS = ("text", "json", "github")
SEVERITY_CHOICE = click.Choice(SEVERITIES)
PHASE_CHOICE = click.Choice(PHASES)
F = TypeVar("F", bound=Callable[..., Any])


class State:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def root(self) -> Path:
        from incidents_cli.store.root import find_root

        return find_root(self.directory)


pass_state = click.make_pass_decorator(State)


def warn_unreadable(files: Sequence[str], what: str, unknown: str = "") -> None:
    """One warning line naming the records a reading command left out because they could
    not be read (they do not parse or follow their schema), and what is unknown for it."""
    if not files:
        return
    from incidents_cli.core.text import escape_for_terminal

    shown = ", ".join(files[:3]) + (", ..." if len(files) > 3 else "")
    click.echo(
        escape_for_terminal(
            f"warning: {len(files)} {what} could not be read ({shown})"
            + (f": {unknown}" if unknown else "")
            + "; run `incidents validate`"
        ),
        err=True,
    )


class PlacePath(click.Path):
    """A path a person gives (-C, a folder to make or write into, files to check), refused
    in one line before any work where the kernel could not take it: a name longer than its
    file system allows, a file where a folder is on the way, a loop of links, or, where a
    folder is meant, something else there (/dev/null). A relative path is taken from the -C
    folder, as the commands take it. Anything else (a folder still to be made, one not
    allowed) is left to the command, as before."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        import os

        given = os.fsdecode(value)
        state = ctx.find_object(State) if ctx is not None else None
        where = given if state is None else os.path.join(state.directory, given)  # noqa: PTH118
        try:  # click's own checks, on the path as the command will use it (not from the cwd)
            super().convert(where, param, ctx)
        except click.BadParameter as error:
            said = repr(click.format_filename(where))
            self.fail(error.message.replace(said, repr(click.format_filename(given))), param, ctx)
        problem = path_problem(where, folder=not self.file_okay)
        if problem is not None:
            self.fail(f"{given}: {problem}", param, ctx)
        return self.coerce_path_result(value)


def path_problem(path: str, *, folder: bool) -> str | None:
    """Why the kernel could never use ``path`` (``folder``: as a folder), or None."""
    import errno
    import os
    import stat

    try:
        mode = os.stat(path).st_mode  # noqa: PTH116 - every command passes here: no pathlib
    except OSError as error:
        code = error.errno
        if code == errno.ENOENT and _name_too_long(path):
            code = errno.ENAMETOOLONG  # a name still to be made
        said = {
            errno.ENAMETOOLONG: "a name in it is longer than the file system allows",
            errno.ENOTDIR: "a part of it is a file, not a folder",
            errno.ELOOP: "a loop of symbolic links",
        }
        return said.get(code or 0)
    return "is not a folder" if folder and not stat.S_ISDIR(mode) else None


def _name_too_long(path: str) -> bool:
    """Whether a name of ``path`` below its nearest existing folder is longer than that
    folder's file system allows (the kernel stops at the first missing one)."""
    import os

    head, names = os.path.abspath(path), []  # noqa: PTH100
    while not os.path.isdir(head) and os.path.dirname(head) != head:  # noqa: PTH112, PTH120
        head, name = os.path.split(head)
        names.append(name)
    try:
        limit = os.pathconf(head, "PC_NAME_MAX")
    except (OSError, ValueError):
        return False
    return any(len(os.fsencode(name)) > limit for name in names)


def transition_options(func: F) -> F:
    """--by, --at, --json and --push: the options every transition takes."""
    from incidents_cli.cli import params  # not at the top: `incidents --help` needs none of it

    options = [
        click.option(
            "--by",
            metavar="NAME",
            help="Who is doing this (default: git user.name).",
            shell_complete=params.complete_people,
        ),
        click.option(
            "--at",
            type=params.AT,
            help="When it really happened, to back-fill the record: RFC 3339, -15m, "
            "02:20 (today, or yesterday if that is still to come), 2026-03-01 02:20.",
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


def invocation(state: State, by: str | None, at: datetime | None, push: bool | None) -> Invocation:
    from incidents_cli.usecases.transitions import Invocation

    def on_wait(message: str) -> None:
        click.echo(f"incidents: {message}", err=True)

    return Invocation(state.directory, by=by, at=at, push=push, on_wait=on_wait)


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


def as_of_time(value: datetime | None) -> datetime:
    """The time an ``--as-of`` (a TimeParam) gave, else now."""
    from incidents_cli.core.timeutil import now_utc

    return value if value is not None else now_utc()
