"""The click types every command shares: times as people type them, incident ids as people
remember them, and the shell completion of ids, components, people and runbook slugs.

A type reads the repository only when an option is given (the team's time zone for a time,
the id prefix and the incident files for an id), so `--help` and a command without those
options pay nothing. Parsing itself is pure (core.timeinput, core.ids).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # the CLI's start imports this module: datetime and pathlib wait until used
    from datetime import datetime
    from pathlib import Path

    from click.shell_completion import CompletionItem

    from incidents_cli.core.timeinput import Direction

    # click 8.2 made ParamType generic; at run time the plain class serves every version.
    _TimeType = click.ParamType[datetime, Any]
    _IdType = click.ParamType[str, Any]
else:
    _TimeType = _IdType = click.ParamType


def _root(ctx: click.Context | None) -> Path | None:
    from incidents_cli.cli.shared import State
    from incidents_cli.core.errors import IncidentsError

    if ctx is None:
        return None
    state = ctx.find_object(State)
    if state is None:  # completing: the group's callback (which makes the State) has not run
        from pathlib import Path

        state = State(Path(ctx.find_root().params.get("directory") or "."))
    try:
        return state.root()
    except IncidentsError:
        return None


def _settings(root: Path | None) -> Any:
    from incidents_cli.usecases.lookup import settings

    return settings(root)


class TimeParam(_TimeType):
    """A time option: RFC 3339, ``now``, ``-15m``, ``15m ago``, ``+30m``, ``in 2h``,
    ``HH:MM`` (today in the team's time zone), ``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM``; with
    ``window``, a bare duration like ``7d`` too. The value is a UTC datetime."""

    name = "time"

    def __init__(self, direction: Direction = "any", window: bool = False) -> None:
        self.direction: Direction = direction
        self.window = window

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "TIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from datetime import datetime

        if isinstance(value, datetime):
            return value
        from incidents_cli.core.timeinput import TimeInputError, parse_time_input
        from incidents_cli.core.timeutil import now_utc

        text = str(value)
        try:
            zone = "UTC" if _utc_only(text) else _settings(_root(ctx)).timezone
            found = parse_time_input(
                text, now=now_utc(), zone=zone, direction=self.direction, window=self.window
            )
        except TimeInputError as exc:
            self.fail(str(exc), param, ctx)
        if found.note:
            name = param.opts[0] if param is not None and param.opts else "time"
            click.echo(f"note: {name} {found.note}", err=True)
        return found.moment


def _utc_only(text: str) -> bool:
    """Forms that do not need the team's zone (so settings are not read for them)."""
    stripped = text.strip().lower()
    return (
        stripped == "now"
        or stripped[:1] in "+-"
        or stripped.endswith(("z", "ago"))
        or (stripped.startswith("in "))
    )


# The option of each time: what it names decides a bare HH:MM's day and a bare duration.
AT = TimeParam("past")
AS_OF = TimeParam("any")
SINCE = TimeParam("past", window=True)
UNTIL = TimeParam("any")
ETA = TimeParam("future", window=True)
FROM = TimeParam("any")
START = TimeParam("any")
END = TimeParam("any")


class IncidentIdParam(_IdType):
    """An incident id: ``12``, ``inc-12`` or ``INC-0012``, resolved against the files.

    ``must_exist``: an id with no file is refused, naming the closest open ones.
    Completion offers open incidents (all of them with ``any_phase``) from the cache.
    """

    name = "id"

    def __init__(self, must_exist: bool = True, any_phase: bool = False) -> None:
        self.must_exist = must_exist
        self.any_phase = any_phase

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "ID"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from incidents_cli.usecases import lookup

        text = str(value).strip()
        root = _root(ctx)
        if root is None:
            return text  # outside a repository: the command says so itself
        if lookup.incident_exists(root, text):  # the common case costs one stat
            return text
        from incidents_cli.core.errors import RefusedError
        from incidents_cli.core.ids import IdInputError, resolve_id, unknown_id_message

        try:
            known = lookup.incident_ids(root)
            found = resolve_id(text, _settings(root).id_prefix, known)
        except IdInputError as exc:
            self.fail(str(exc), param, ctx)
        if self.must_exist and found not in known and not lookup.set_aside(root, found):
            where = f"{lookup.incident_rel(found)} does not exist"
            raise RefusedError(unknown_id_message(found, lookup.open_incident_ids(root), where))
        return found

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        from click.shell_completion import CompletionItem

        from incidents_cli.usecases import lookup

        root = _root(ctx)
        if root is None:
            return []
        every = self.any_phase
        ids = sorted(lookup.incident_ids(root)) if every else lookup.open_incident_ids(root)
        wanted = incomplete.casefold()
        chosen = [i for i in ids if i.casefold().startswith(wanted)]
        if not chosen and wanted.isdigit():  # `ack 12<TAB>`: the ids whose number starts so
            chosen = [i for i in ids if i.rsplit("-", 1)[-1].lstrip("0").startswith(wanted)]
        return [CompletionItem(i) for i in chosen]


OPEN_INCIDENT = IncidentIdParam()
"""An incident that a lifecycle command works on: completion offers the open ones."""
ANY_INCIDENT = IncidentIdParam(any_phase=True)
"""An incident in any phase (show, reopen, close): completion offers them all."""


def complete_components(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    from click.shell_completion import CompletionItem

    settings = _safe_settings(ctx)
    return [
        CompletionItem(c.id, help=c.name)
        for c in (settings.components if settings else ())
        if c.id.startswith(incomplete)
    ]


def complete_people(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    from click.shell_completion import CompletionItem

    settings = _safe_settings(ctx)
    people = settings.people if settings else {}
    return [CompletionItem(h, help=n) for h, n in people.items() if h.startswith(incomplete)]


def complete_runbooks(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    from click.shell_completion import CompletionItem

    from incidents_cli.usecases.lookup import runbook_slugs

    root = _root(ctx)
    if root is None:
        return []
    return [CompletionItem(n) for n in runbook_slugs(root) if n.startswith(incomplete)]


def _safe_settings(ctx: click.Context) -> Any:
    from incidents_cli.core.errors import IncidentsError

    root = _root(ctx)
    if root is None:
        return None
    try:
        return _settings(root)
    except IncidentsError:
        return None
