"""Commands that make and check a repository, and set up the shell: init, validate, ci,
completion."""

from __future__ import annotations

from pathlib import Path

import click

from incidents_cli.cli.shared import FORMATS, PlacePath, State, pass_state

CLI_SPEC_HELP = (
    "How CI installs the CLI: a pip requirement (incidents==0.2.0) or a git URL "
    "(git+https://github.com/OWNER/incidents@v0.2.0). Default: this CLI, kept in .incidents/."
)


@click.command()
@click.argument("folder", required=False, type=PlacePath(file_okay=False, path_type=Path))
@click.option("--cli", "cli_spec", metavar="SPEC", help=CLI_SPEC_HELP)
@pass_state
def init(state: State, folder: Path | None, cli_spec: str | None) -> int:
    """Create an incident repository in FOLDER (default: here).

    Runs `git init` if FOLDER is not a repository yet. Never overwrites a file: existing
    files are listed as skipped. The workflows install the CLI that .incidents/ names.
    """
    from incidents_cli.usecases.init import init_repository

    target = folder if folder is not None else Path()
    if not target.is_absolute():
        target = state.directory / target
    result = init_repository(target, cli=cli_spec)
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
    steps = result.next_steps()
    if steps:
        click.echo("Next, edit:")
        for number, step in enumerate(steps, 1):
            click.echo(f"  {number}. {step}")
        click.echo(f"Then: cd {result.root} && incidents validate, and commit.")
    else:
        click.echo(f"Next: cd {result.root} && incidents validate")
    return 0


@click.command()
@click.argument("paths", nargs=-1, type=PlacePath(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text: path:line:column: field: message; json; github: workflow annotations.",
)
@click.option(
    "--scope",
    type=click.Choice(["all", "site"]),
    default="all",
    show_default=True,
    help="site: fail only on what the status site is built from (settings, incidents, "
    "postmortems, maintenance); problems elsewhere are warnings.",
)
@pass_state
def validate(state: State, paths: tuple[Path, ...], output_format: str, scope: str) -> int:
    """Check every record (or PATHS) against schemas and rules.

    Exit 0: no problems (or only warnings); 1: problems were found (all of them are listed).
    """
    from incidents_cli.core.findings import REPORTER_BY_NAME
    from incidents_cli.usecases.validate import validate_repository

    root = state.root()
    resolved = tuple(p if p.is_absolute() else state.directory / p for p in paths)
    findings = validate_repository(root, resolved, scope)
    errors = [f for f in findings if f.level == "error"]
    click.echo(REPORTER_BY_NAME[output_format](findings), nl=False)
    if output_format == "text":
        files = len({f.path for f in errors})
        summary = (
            f"{len(errors)} problem{'s' if len(errors) != 1 else ''} in {files} "
            f"file{'s' if files != 1 else ''}"
            if errors
            else "all records are valid"
        )
        warnings = len(findings) - len(errors)
        if warnings:
            summary += f" ({warnings} warning{'s' if warnings != 1 else ''} outside the site)"
        click.echo(summary, err=True)
    return 1 if errors else 0


@click.group()
def ci() -> None:
    """What CI installs: `ci update` after upgrading the CLI.

    By default the workflows install the CLI kept in .incidents/ (its wheel and the versions
    of its dependencies); .incidents/requirements.txt says which.
    """


@ci.command("update")
@click.option(
    "--cli",
    "cli_spec",
    metavar="SPEC",
    help="Install the CLI this way from now on: a pip requirement (incidents==0.2.0) or a "
    "git URL (git+https://github.com/OWNER/incidents@v0.2.0).",
)
@click.option("--vendor", is_flag=True, help="Go back to keeping this CLI in .incidents/.")
@click.option(
    "--workflows",
    is_flag=True,
    help="Also replace .github/workflows/incidents-*.yml and .github/dependabot.yml with the "
    "ones this CLI ships, the notify workflow passing the secrets incidents.yaml names (your "
    "edits to them are overwritten).",
)
@pass_state
def ci_update(state: State, cli_spec: str | None, vendor: bool, workflows: bool) -> int:
    """Make CI install this CLI (after an upgrade), or what --cli names.

    Rewrites the files of .incidents/ and nothing else (with --workflows, the workflows
    too), in one commit; when they are current already, changes nothing. Push the commit as
    a pull request: the check workflow then runs with the new CLI.
    """
    from incidents_cli.usecases.ci import update_ci

    result = update_ci(state.root(), cli=cli_spec, vendor=vendor, workflows=workflows)
    what = (
        f"incidents {result.version}, kept in .incidents/"
        if result.choice is None
        else (result.choice)
    )
    if result.commit is None:
        click.echo(f"Nothing to do: CI installs {what} already.")
        return 0
    for rel in result.written:
        click.echo(f"  wrote    {rel}")
    for rel in result.removed:
        click.echo(f"  removed  {rel}")
    click.echo(f"CI installs {what}: committed as {result.commit[:12]}.")
    return 0


SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_INCIDENTS_COMPLETE"  # click's name for the program `incidents`


@click.command()
@click.argument("shell", metavar="SHELL", type=click.Choice(SHELLS))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> int:
    """Print the completion script for SHELL (bash, zsh or fish).

    \b
    bash:  eval "$(incidents completion bash)"    in ~/.bashrc
    zsh:   eval "$(incidents completion zsh)"     in ~/.zshrc
    fish:  incidents completion fish > ~/.config/fish/completions/incidents.fish

    It completes commands, options, incident ids (open ones, from the cache), component
    ids, people's handles and runbook slugs.
    """
    from click.shell_completion import get_completion_class

    root = ctx.find_root().command
    completer = get_completion_class(shell)
    assert completer is not None  # every name in SHELLS is one of click's
    script = completer(root, {}, "incidents", COMPLETE_VAR).source()
    click.echo(script, nl=not script.endswith("\n"))
    return 0
