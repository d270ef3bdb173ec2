"""The command line: thin click commands over the core.

Each command turns its options into arguments, calls one function, prints the result and
returns an exit code. The commands live in this package's modules, one per area, and a
module is imported only when one of its commands runs; the implementations they call are
imported inside the commands. So `incidents --help` and every command start fast.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

import click

from incidents_cli import __version__
from incidents_cli.cli.shared import PlacePath, State
from incidents_cli.core.errors import EXIT_UNEXPECTED, RAISE_BUGS_ENV, IncidentsError

if TYPE_CHECKING:  # pathlib costs --help 10 ms; commands import it when they run
    from pathlib import Path

# Every subcommand: the module of this package that defines it, its function, and the line
# `incidents --help` shows for it (a test checks each line against the command's own help).
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("repository", "init", "Create an incident repository in FOLDER (default: here)."),
    "validate": (
        "repository",
        "validate",
        "Check every record (or PATHS) against schemas and rules.",
    ),
    "ci": ("repository", "ci", "What CI installs: `ci update` after upgrading the CLI."),
    "completion": (
        "repository",
        "completion",
        "Print the completion script for SHELL (bash, zsh or fish).",
    ),
    "declare": ("lifecycle", "declare", "Open an incident in phase detected and print its id."),
    "ack": ("lifecycle", "ack", "Acknowledge an incident: it moves to acknowledged."),
    "severity": (
        "lifecycle",
        "severity_command",
        "Change an open incident's severity (kept in the timeline).",
    ),
    "assign": ("lifecycle", "assign", "Record roles: commander, communications lead, responders."),
    "investigate": ("lifecycle", "investigate", "Move an acknowledged incident to investigating."),
    "note": ("lifecycle", "note", "Add an internal timeline entry (never published)."),
    "update": (
        "lifecycle",
        "update",
        "Post a public status update (published on the status page).",
    ),
    "scope": (
        "lifecycle",
        "scope",
        "Change components, regions, title or visibility.",
    ),
    "amend": (
        "lifecycle",
        "amend",
        "Correct a note or public update (REF from `show`: N3, U2).",
    ),
    "retract": (
        "lifecycle",
        "retract",
        "Withdraw a note or public update (it leaves the site).",
    ),
    "resolve": (
        "lifecycle",
        "resolve",
        "Resolve once recovery is verified in every affected region.",
    ),
    "reopen": ("lifecycle", "reopen", "Take a resolved incident back to investigating."),
    "postmortem": (
        "lifecycle",
        "postmortem",
        "Draft postmortems/ID.md (phase postmortem); `publish` it.",
    ),
    "close": ("lifecycle", "close", "Close an incident (after its postmortem, where one is due)."),
    "ingest": ("detection", "ingest", "Turn a monitor's webhook payload into transitions."),
    "list": ("reading", "list_command", "List incidents, newest first: open ones unless --all."),
    "show": ("reading", "show", "One incident: who is on it, phase durations, the timeline."),
    "actions": (
        "followthrough",
        "actions",
        "Action items, postmortems and reviews, and how late they are.",
    ),
    "runbook": (
        "followthrough",
        "runbook",
        "Runbooks: find, read, write, and see which need a review.",
    ),
    "maintenance": (
        "maintenance",
        "maintenance",
        "Scheduled maintenance: announce, update, cancel, list.",
    ),
    "oncall": ("oncall", "oncall", "Who is primary and secondary on call now (or --at TIME)."),
    "escalations": (
        "oncall",
        "escalations",
        "Unacknowledged incidents past their window, and who is next.",
    ),
    "stats": ("oncall", "stats", "Counts, time to acknowledge and resolve, completion rates."),
    "notify": (
        "communication",
        "notify",
        "Tell each configured channel what is new, exactly once.",
    ),
    "comms": ("communication", "comms", "Open incidents whose public updates have gone quiet."),
    "site": ("publishing", "site", "The public status site."),
    "demo": ("publishing", "demo", "Walk a sample incident through every phase; build its site."),
}

# The headings of `incidents --help`, one per module of this package.
SECTIONS = {
    "repository": "Set up",
    "lifecycle": "Incident lifecycle",
    "detection": "Detection",
    "reading": "Reading",
    "followthrough": "Follow-through",
    "maintenance": "Maintenance",
    "oncall": "On call and metrics",
    "communication": "Communication",
    "publishing": "Publishing",
}


def _log_unexpected() -> Path:
    import tempfile
    import traceback
    from pathlib import Path

    from incidents_cli.store.resources import user_cache_dir

    folder = user_cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        log = folder / "incidents.log"
        with log.open("a", encoding="utf-8") as handle:
            handle.write(traceback.format_exc())
    except OSError:
        fd, name = tempfile.mkstemp(prefix="incidents-", suffix=".log")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(traceback.format_exc())
        log = Path(name)
    return log


def _choices_in_words(exc: click.ClickException) -> str:
    """click's message, with a refused choice said the way people read it, on one line:
    "'nope'; choose from rollback, hotfix, failover" (click quotes every choice)."""
    message = exc.format_message()
    param = getattr(exc, "param", None)
    choices = getattr(getattr(param, "type", None), "choices", None)
    if not isinstance(exc, click.BadParameter) or not choices:
        return " ".join(message.split())
    head = message.split(" is not one of ", 1)[0]
    return " ".join(f"{head}; choose from {', '.join(str(c) for c in choices)}".split())


EXIT_OUTPUT_CLOSED = 141
"""The reader of the output went away (`incidents show 1 | head`): 128 + SIGPIPE, as git
and the other tools a pipe stops say it (click would say 1, which here means findings)."""


class _OutputClosed(Exception):
    """Writing the output failed with EPIPE: the command's work is done or never started."""


class IncidentsGroup(click.Group):
    """Loads each subcommand when it is used (see COMMANDS), and turns every failure into
    one line on stderr and the documented exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        import importlib

        module = importlib.import_module(f"{__name__}.{entry[0]}")
        command: click.Command = getattr(module, entry[1])
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of --help, from COMMANDS, one section per module: no command
        module is imported."""
        width = max(len(name) for name in COMMANDS)  # one column across the sections
        for module, title in SECTIONS.items():
            with formatter.section(title):
                formatter.write_dl(
                    [
                        (name.ljust(width), text)
                        for name, (where, _, text) in COMMANDS.items()
                        if where == module
                    ]
                )

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except BrokenPipeError:  # --help, --version: printed while the options are read
            raise _OutputClosed from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:  # before click's own handler turns it into exit 1
            raise _OutputClosed from None

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> NoReturn:
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except _OutputClosed:
            sys.exit(EXIT_OUTPUT_CLOSED)
        except IncidentsError as exc:
            from incidents_cli.core.text import escape_for_terminal

            output = getattr(exc, "output", "")
            if output:
                click.echo(escape_for_terminal(output), err=True)
            # one line, and nothing a record holds may drive the terminal
            click.echo(escape_for_terminal(exc.message).replace("\n", " "), err=True)
            sys.exit(exc.exit_code)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            ctx = getattr(exc, "ctx", None)
            where = f"{ctx.command_path}: " if ctx is not None else "incidents: "
            hint = " (see --help)" if isinstance(exc, click.UsageError) else ""
            click.echo(f"{where}{_choices_in_words(exc)}{hint}", err=True)
            sys.exit(exc.exit_code)
        except (click.Abort, KeyboardInterrupt):
            click.echo("incidents: interrupted", err=True)
            sys.exit(130)
        except Exception as exc:
            if os.environ.get(RAISE_BUGS_ENV):
                raise  # under tests: a bug fails the test with its traceback
            log = _log_unexpected()
            click.echo(
                f"incidents: unexpected error: {type(exc).__name__}: {exc} "
                f"(this is a bug; details in {log})",
                err=True,
            )
            sys.exit(EXIT_UNEXPECTED)
        sys.exit(result if isinstance(result, int) else 0)


@click.group(cls=IncidentsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-C",
    "directory",
    type=PlacePath(file_okay=False),
    default=".",
    help="Run as if started in this folder (like git -C).",
)
@click.version_option(__version__, prog_name="incidents")
@click.pass_context
def cli(ctx: click.Context, directory: str) -> None:
    """Incidents, runbooks and postmortems as code, in git."""
    from pathlib import Path

    ctx.obj = State(Path(directory))


def main() -> NoReturn:
    """The console script: run the command, then leave without the interpreter's teardown.

    Tearing down every imported module costs about 30 ms here, a tenth of a transition, and
    nothing of the tool's needs it (no atexit handlers, threads or temporary files outlive a
    command). The output is flushed first.
    """
    # A name the file system gave in bytes that are not UTF-8 (a folder on a Latin-1 era
    # disk) is text with lone surrogates (os.fsdecode): printed as those bytes, as Python's
    # stdout does in the C locale, not an error as in others (stderr escapes it already).
    if getattr(sys.stdout, "errors", None) == "strict" and hasattr(sys.stdout, "reconfigure"):
        with contextlib.suppress(OSError, ValueError):  # a closed stdout: nothing to say
            sys.stdout.reconfigure(errors="surrogateescape")
    try:
        cli.main(prog_name="incidents")
    except SystemExit as exc:  # IncidentsGroup.main always ends here
        code = exc.code
    if isinstance(code, str):
        click.echo(code, err=True)  # sys.exit("message") semantics
    for stream in (sys.stdout, sys.stderr):
        # a closed pipe (`| head`): nothing more to say
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code if isinstance(code, int) else 0 if code is None else 1)
