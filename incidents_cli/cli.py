"""The command line: thin click commands over the core.

Each command turns its options into arguments, calls one function, prints the result and
returns an exit code. Implementations are imported inside the commands so `--help` is fast.
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from incidents_cli import __version__
from incidents_cli.errors import EXIT_UNEXPECTED, EXIT_USAGE, IncidentsError

FORMATS = ("text", "json", "github")


def _log_unexpected() -> Path:
    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "incidents"
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


class IncidentsGroup(click.Group):
    """Turns every failure into one line on stderr and the documented exit code."""

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
        except IncidentsError as exc:
            output = getattr(exc, "output", "")
            if output:
                click.echo(output, err=True)
            click.echo(exc.message, err=True)
            sys.exit(exc.exit_code)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            ctx = getattr(exc, "ctx", None)
            where = f"{ctx.command_path}: " if ctx is not None else "incidents: "
            hint = " (see --help)" if isinstance(exc, click.UsageError) else ""
            click.echo(f"{where}{exc.format_message()}{hint}", err=True)
            sys.exit(exc.exit_code)
        except (click.Abort, KeyboardInterrupt):
            click.echo("incidents: interrupted", err=True)
            sys.exit(130)
        except Exception as exc:
            log = _log_unexpected()
            click.echo(
                f"incidents: unexpected error: {type(exc).__name__}: {exc} "
                f"(this is a bug; details in {log})",
                err=True,
            )
            sys.exit(EXIT_UNEXPECTED)
        sys.exit(result if isinstance(result, int) else 0)


class State:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def root(self) -> Path:
        from incidents_cli.repository import find_root

        return find_root(self.directory)


pass_state = click.make_pass_decorator(State)


@click.group(cls=IncidentsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-C",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    help="Run as if started in this folder (like git -C).",
)
@click.version_option(__version__, prog_name="incidents")
@click.pass_context
def cli(ctx: click.Context, directory: Path) -> None:
    """Incidents, runbooks and postmortems as code, in git."""
    ctx.obj = State(directory)


def main() -> NoReturn:
    cli.main(prog_name="incidents")


# --- repository ----------------------------------------------------------------------------


@cli.command()
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@pass_state
def init(state: State, folder: Path | None) -> int:
    """Make an incident repository in FOLDER (default: here), with one commit.

    Runs `git init` if FOLDER is not a repository yet. Never overwrites a file: existing
    files are listed as skipped.
    """
    from incidents_cli.init_repo import init_repository

    target = folder if folder is not None else Path()
    if not target.is_absolute():
        target = state.directory / target
    result = init_repository(target)
    if result.git_initialized:
        click.echo(f"Initialized a git repository in {result.root}")
    for rel in result.created:
        click.echo(f"  created  {rel}")
    for rel in result.skipped:
        click.echo(f"  skipped  {rel} (exists)")
    if result.commit:
        click.echo(f"Committed {len(result.created)} files as {result.commit[:12]}.")
    else:
        click.echo("Nothing to do: every file exists already.")
    click.echo(f"Next: cd {result.root} && incidents validate")
    return 0


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text: path:line:column: field: message; json; github: workflow annotations.",
)
@pass_state
def validate(state: State, paths: tuple[Path, ...], output_format: str) -> int:
    """Check every record (or only PATHS) against the schemas and the rules.

    Exit 0: no problems; 1: problems were found (all of them are listed).
    """
    from incidents_cli.findings import REPORTER_BY_NAME
    from incidents_cli.validate import validate_repository

    root = state.root()
    resolved = tuple(p if p.is_absolute() else state.directory / p for p in paths)
    findings = validate_repository(root, resolved)
    click.echo(REPORTER_BY_NAME[output_format](findings), nl=False)
    if output_format == "text":
        files = len({f.path for f in findings})
        summary = (
            f"{len(findings)} problem{'s' if len(findings) != 1 else ''} in {files} "
            f"file{'s' if files != 1 else ''}"
            if findings
            else "all records are valid"
        )
        click.echo(summary, err=True)
    return 1 if findings else 0


__all__ = ["EXIT_USAGE", "cli", "main"]
