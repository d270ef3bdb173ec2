"""Commands that make and check a repository: init, validate."""

from __future__ import annotations

from pathlib import Path

import click

from incidents_cli.cli.shared import FORMATS, State, pass_state


@click.command()
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@pass_state
def init(state: State, folder: Path | None) -> int:
    """Create an incident repository in FOLDER (default: here).

    Runs `git init` if FOLDER is not a repository yet. Never overwrites a file: existing
    files are listed as skipped.
    """
    from incidents_cli.usecases.init import init_repository

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


@click.command()
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
    """Check every record (or PATHS) against schemas and rules.

    Exit 0: no problems; 1: problems were found (all of them are listed).
    """
    from incidents_cli.core.findings import REPORTER_BY_NAME
    from incidents_cli.usecases.validate import validate_repository

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
