"""The command line: thin click commands over the core.

Each command turns its options into arguments, calls one function, prints the result and
returns an exit code. Implementations are imported inside the commands so `--help` is fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from incidents_cli import __version__
from incidents_cli.errors import EXIT_UNEXPECTED, IncidentsError

if TYPE_CHECKING:
    from incidents_cli.commands import Common
    from incidents_cli.transaction import Outcome

FORMATS = ("text", "json", "github")
SEVERITY_CHOICE = click.Choice(["critical", "high", "medium", "low"])
PHASE_CHOICE = click.Choice(
    ["detected", "acknowledged", "investigating", "resolved", "postmortem", "closed"]
)
F = TypeVar("F", bound=Callable[..., Any])


def _log_unexpected() -> Path:
    import tempfile
    import traceback

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


# --- lifecycle -------------------------------------------------------------------------------


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


def _common(state: State, by: str | None, at: str | None, push: bool | None) -> Common:
    from incidents_cli.commands import Common

    return Common(state.directory, by=by, at=at, push=push)


def _suggest_runbooks(state: State, record: dict[str, Any], as_json: bool) -> None:
    from incidents_cli.runbooks import load_runbooks, matching

    found = matching(
        load_runbooks(state.root()),
        list(record.get("components") or []),
        str(record.get("title", "")),
    )
    if found and not as_json:
        click.echo("Runbooks that may help:")
        for runbook in found:
            click.echo(f"  {runbook.rel}  {runbook.title}")


def _report(outcome: Outcome, as_json: bool, text: str) -> int:
    import json

    for notice in outcome.notices:
        click.echo(f"note: {notice}", err=True)
    if as_json:
        click.echo(json.dumps(outcome.change.record, indent=2, ensure_ascii=False))
    else:
        pushed = ", pushed" if outcome.pushed else ""
        click.echo(f"{text} (commit {outcome.commit[:12]}{pushed})")
    return 0


@cli.command()
@click.argument("title")
@click.option("--severity", type=SEVERITY_CHOICE, help="If already known; else set it at ack.")
@click.option("--component", "components", multiple=True, metavar="ID", help="Affected component.")
@click.option("--region", "regions", multiple=True, metavar="REGION", help="Affected region.")
@click.option(
    "--source",
    type=click.Choice(["monitor", "customer", "support", "internal"]),
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
    at: str | None,
    as_json: bool,
    push: bool | None,
) -> int:
    """Open an incident in phase detected and print its id."""
    from incidents_cli import commands

    outcome = commands.declare(
        _common(state, by, at, push),
        title,
        severity=severity,
        components=components,
        regions=regions,
        source=source,
        summary=summary,
    )
    code = _report(outcome, as_json, f"Declared {outcome.change.incident_id}: {title.strip()}")
    _suggest_runbooks(state, outcome.change.record, as_json)
    return code


@cli.command()
@click.argument("incident_id", metavar="ID")
@click.option("--severity", type=SEVERITY_CHOICE, help="Set the severity (required if unset).")
@transition_options
@pass_state
def ack(
    state: State,
    incident_id: str,
    severity: str | None,
    by: str | None,
    at: str | None,
    as_json: bool,
    push: bool | None,
) -> int:
    """Acknowledge an incident: it moves to acknowledged."""
    from incidents_cli import commands

    outcome = commands.ack(_common(state, by, at, push), incident_id, severity)
    record = outcome.change.record
    code = _report(outcome, as_json, f"{incident_id} acknowledged as {record['severity']}")
    _suggest_runbooks(state, record, as_json)
    return code


@cli.command("severity")
@click.argument("incident_id", metavar="ID")
@click.argument("level", type=SEVERITY_CHOICE)
@transition_options
@pass_state
def severity_command(
    state: State,
    incident_id: str,
    level: str,
    by: str | None,
    at: str | None,
    as_json: bool,
    push: bool | None,
) -> int:
    """Change the severity of an open incident (recorded in the timeline)."""
    from incidents_cli import commands

    outcome = commands.severity(_common(state, by, at, push), incident_id, level)
    return _report(outcome, as_json, f"{incident_id} is now {level}")


@cli.command()
@click.argument("incident_id", metavar="ID")
@click.option("--commander", metavar="NAME", help="Incident commander.")
@click.option("--comms", metavar="NAME", help="Communications lead.")
@click.option("--responder", "responders", multiple=True, metavar="NAME", help="Responder.")
@transition_options
@pass_state
def assign(
    state: State,
    incident_id: str,
    commander: str | None,
    comms: str | None,
    responders: tuple[str, ...],
    by: str | None,
    at: str | None,
    as_json: bool,
    push: bool | None,
) -> int:
    """Record who is doing what: commander, communications lead, responders."""
    from incidents_cli import commands

    outcome = commands.assign(
        _common(state, by, at, push),
        incident_id,
        commander=commander,
        communications=comms,
        responders=responders,
    )
    return _report(outcome, as_json, f"{incident_id} roles updated")


@cli.command()
@click.argument("incident_id", metavar="ID")
@transition_options
@pass_state
def investigate(
    state: State,
    incident_id: str,
    by: str | None,
    at: str | None,
    as_json: bool,
    push: bool | None,
) -> int:
    """Move an acknowledged incident to investigating."""
    from incidents_cli import commands

    outcome = commands.investigate(_common(state, by, at, push), incident_id)
    return _report(outcome, as_json, f"{incident_id} investigating")


@cli.command()
@click.argument("incident_id", metavar="ID")
@click.argument("text")
@click.option("--evidence", multiple=True, metavar="REF", help="Log query, dashboard, link...")
@click.option(
    "--kind",
    default="note",
    show_default=True,
    type=click.Choice(["note", "finding", "change", "evidence", "action", "decision"]),
    help="What sort of entry.",
)
@click.option("--runbook", metavar="SLUG", help="Record that this runbook was used.")
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
    at: str | None,
    as_json: bool,
    push: bool | None,
) -> int:
    """Add an internal timeline entry (never published)."""
    from incidents_cli import commands

    outcome = commands.note(
        _common(state, by, at, push),
        incident_id,
        text,
        kind=kind,
        evidence=evidence,
        runbook=runbook,
    )
    return _report(outcome, as_json, f"{incident_id} {kind} added")


@cli.command()
@click.argument("incident_id", metavar="ID")
@click.option(
    "--status",
    required=True,
    type=click.Choice(["investigating", "identified", "monitoring", "resolved"]),
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
@click.option("--eta", metavar="TIME", help="Estimated resolution time.")
@transition_options
@pass_state
def update(
    state: State,
    incident_id: str,
    status: str,
    message: str,
    components: tuple[str, ...],
    eta: str | None,
    by: str | None,
    at: str | None,
    as_json: bool,
    push: bool | None,
) -> int:
    """Post a public status update (this text is published on the status page)."""
    from incidents_cli import commands

    outcome = commands.update(
        _common(state, by, at, push),
        incident_id,
        status=status,
        message=message,
        components=components,
        eta=eta,
    )
    return _report(outcome, as_json, f"{incident_id} public update posted ({status})")


@cli.command()
@click.argument("incident_id", metavar="ID")
@click.option(
    "--action",
    required=True,
    type=click.Choice(["rollback", "hotfix", "failover", "scale", "upstream", "other"]),
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
    by: str | None,
    at: str | None,
    as_json: bool,
    push: bool | None,
) -> int:
    """Resolve an incident once recovery is verified in every affected region."""
    from incidents_cli import commands

    outcome = commands.resolve(
        _common(state, by, at, push),
        incident_id,
        action=action,
        summary=summary,
        verified_in=verified_in,
        workaround=workaround,
        follow_up=follow_up,
    )
    return _report(outcome, as_json, f"{incident_id} resolved")


@cli.command()
@click.argument("incident_id", metavar="ID")
@click.option("--reason", required=True, metavar="TEXT", help="Why it is not resolved.")
@transition_options
@pass_state
def reopen(
    state: State,
    incident_id: str,
    reason: str,
    by: str | None,
    at: str | None,
    as_json: bool,
    push: bool | None,
) -> int:
    """Take a resolved incident back to investigating."""
    from incidents_cli import commands

    outcome = commands.reopen(_common(state, by, at, push), incident_id, reason)
    return _report(outcome, as_json, f"{incident_id} reopened")


@cli.command()
@click.argument("incident_id", metavar="ID")
@click.option(
    "--branch",
    is_flag=True,
    help="Commit to a new branch postmortem/ID (for a pull request) instead of this one.",
)
@transition_options
@pass_state
def postmortem(
    state: State,
    incident_id: str,
    branch: bool,
    by: str | None,
    at: str | None,
    as_json: bool,
    push: bool | None,
) -> int:
    """Write the postmortem draft postmortems/ID.md and move the incident to postmortem.

    The draft has the four questions as sections, pre-filled from the incident's record.
    """
    from incidents_cli import commands

    outcome = commands.postmortem(_common(state, by, at, push), incident_id, branch=branch)
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
    return _report(outcome, as_json, f"{incident_id} postmortem started: {path}")


@cli.command()
@click.argument("incident_id", metavar="ID")
@transition_options
@pass_state
def close(
    state: State,
    incident_id: str,
    by: str | None,
    at: str | None,
    as_json: bool,
    push: bool | None,
) -> int:
    """Close an incident (severities that need a postmortem: once it is published)."""
    from incidents_cli import commands

    outcome = commands.close(_common(state, by, at, push), incident_id)
    return _report(outcome, as_json, f"{incident_id} closed")


# --- reading -------------------------------------------------------------------------------


def _as_of(value: str | None) -> Any:
    from incidents_cli.timeutil import now_utc, parse_time_option

    return parse_time_option(value, "--as-of") if value else now_utc()


@cli.command("list")
@click.option("--phase", "phases", multiple=True, type=PHASE_CHOICE, help="Only this phase.")
@click.option("--severity", "severities", multiple=True, type=SEVERITY_CHOICE)
@click.option("--component", "components", multiple=True, metavar="ID")
@click.option("--open/--all", "only_open", default=True, help="Open incidents (default) or all.")
@click.option("--since", metavar="TIME", help="Detected at or after this time.")
@click.option("--as-of", "as_of", metavar="TIME", help="Judge windows as of this time.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def list_command(
    state: State,
    phases: tuple[str, ...],
    severities: tuple[str, ...],
    components: tuple[str, ...],
    only_open: bool,
    since: str | None,
    as_of: str | None,
    as_json: bool,
) -> int:
    """List incidents, newest first: open ones unless --all."""
    import json

    from incidents_cli import overview
    from incidents_cli.repository import load_settings
    from incidents_cli.timeutil import parse_time_option

    root = state.root()
    settings = load_settings(root)
    from incidents_cli.record_cache import incident_summaries
    from incidents_cli.repository import read_record

    records, unreadable = incident_summaries(root)
    chosen = overview.select(
        records,
        phases=phases,
        severities=severities,
        components=components,
        include_closed=not only_open,
        since=parse_time_option(since, "--since") if since else None,
    )
    when = _as_of(as_of)
    if as_json:  # the whole records of the chosen few, not just what the table needs
        chosen = [read_record(root, str(r["_path"]), "incident").data for r in chosen]
    views = [overview.view(r, settings, when) for r in chosen]
    if as_json:
        items = [{**v.record, "computed": v.computed()} for v in views]
        click.echo(json.dumps(items, indent=2, ensure_ascii=False))
    else:
        click.echo(overview.list_text(views), nl=False)
    if unreadable:
        click.echo(
            f"warning: {len(unreadable)} incident file(s) could not be read "
            f"({', '.join(unreadable[:3])}); run `incidents validate`",
            err=True,
        )
    return 0


@cli.command()
@click.argument("incident_id", metavar="ID")
@click.option("--as-of", "as_of", metavar="TIME", help="Judge windows as of this time.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def show(state: State, incident_id: str, as_of: str | None, as_json: bool) -> int:
    """Everything about one incident: who is on it, how long each phase took, the timeline."""
    import json

    from incidents_cli import overview
    from incidents_cli.repository import incident_rel, load_settings, read_record

    root = state.root()
    settings = load_settings(root)
    record = read_record(root, incident_rel(incident_id), "incident")
    if record.error is not None:
        if not (root / incident_rel(incident_id)).exists():
            from incidents_cli.errors import RefusedError

            raise RefusedError(f"no incident {incident_id} (see `incidents list --all`)")
        raise record.error
    data = record.data
    item = overview.view(data, settings, _as_of(as_of))
    from incidents_cli.runbooks import load_runbooks, matching

    found = matching(
        load_runbooks(root), list(data.get("components") or []), str(data.get("title", ""))
    )
    if as_json:
        computed = {**item.computed(), "matching_runbooks": [r.rel for r in found]}
        click.echo(json.dumps({**data, "computed": computed}, indent=2, ensure_ascii=False))
    else:
        click.echo(overview.show_text(item, settings), nl=False)
        if found:
            click.echo("\nRunbooks that may help:")
            for runbook in found:
                click.echo(f"  {runbook.rel}  {runbook.title}")
    return 0


# --- publishing ----------------------------------------------------------------------------


@cli.group()
def site() -> None:
    """The public status site."""


@site.command("build")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default="_site",
    show_default=True,
    help="Folder to write (replaced as a whole).",
)
@click.option("--base-url", metavar="URL", help="Absolute URL of the site (feeds, shortlinks).")
@click.option("--as-of", "as_of", metavar="TIME", help="Build as of this time (default: HEAD).")
@pass_state
def site_build(state: State, out: Path, base_url: str | None, as_of: str | None) -> int:
    """Build the static status site: pages, feeds, badges and a Statuspage-style JSON API.

    Only public data is published. The same commit always gives the same bytes.
    """
    from incidents_cli.site import build_site
    from incidents_cli.timeutil import parse_time_option

    root = state.root()
    target = out if out.is_absolute() else state.directory / out
    result = build_site(
        root,
        target,
        base_url=base_url,
        as_of=parse_time_option(as_of, "--as-of") if as_of else None,
    )
    if result.unreadable:
        click.echo(
            f"warning: {len(result.unreadable)} record(s) could not be read and are not on "
            f"the site ({', '.join(result.unreadable[:3])}); run `incidents validate`",
            err=True,
        )
    click.echo(
        f"Built {result.files} files ({result.incidents} public incidents, status "
        f"{result.indicator}) in {result.out}"
    )
    click.echo(str(result.out / "index.html"))
    return 0


@cli.command()
@click.argument(
    "folder",
    required=False,
    default="incidents-demo",
    type=click.Path(file_okay=False, path_type=Path),
)
@pass_state
def demo(state: State, folder: Path) -> int:
    """Make a sample repository in FOLDER, walk incidents through every phase, build the site.

    Prints the path of the site's index.html at the end.
    """
    from incidents_cli.demo import run_demo

    result = run_demo(folder if folder.is_absolute() else state.directory / folder)
    click.echo(f"Sample incident repository: {result.root}")
    click.echo(
        f"  incidents: {', '.join(result.incidents)} (see `incidents -C {folder} list --all`)"
    )
    click.echo(f"  status site: {result.site.files} files, status {result.site.indicator}")
    click.echo(str(result.site.out / "index.html"))
    return 0


# --- follow-through ------------------------------------------------------------------------


@cli.group(invoke_without_command=True)
@click.option("--overdue", is_flag=True, help="Only overdue items; exit 1 if there are any.")
@click.option("--owner", metavar="NAME", help="Only this owner's items.")
@click.option("--as-of", "as_of", metavar="TIME", help="Judge as of this time (default: now).")
@click.option(
    "--format",
    "output_format",
    type=click.Choice([*FORMATS, "markdown"]),
    default="text",
    show_default=True,
    help="text: a table; json; github: annotations on the exact lines; markdown: a table.",
)
@click.option(
    "--path",
    "paths",
    multiple=True,
    metavar="FILE",
    help="Only items of these postmortem files (e.g. the ones a pull request changes).",
)
@click.pass_context
def actions(
    ctx: click.Context,
    overdue: bool,
    owner: str | None,
    as_of: str | None,
    output_format: str,
    paths: tuple[str, ...],
) -> int:
    """Action items, postmortems and runbook reviews, and how late they are.

    Lists every action item of every postmortem, the postmortems that are missing or not
    published (for the severities that need one) and runbooks due for review.
    """
    if ctx.invoked_subcommand is not None:
        return 0
    import json

    from incidents_cli import actions as follow
    from incidents_cli.findings import report_github
    from incidents_cli.record_cache import read_all
    from incidents_cli.repository import load_settings
    from incidents_cli.runbooks import load_runbooks, stale

    state = ctx.ensure_object(State)
    root = state.root()
    settings = load_settings(root)
    when = _as_of(as_of)
    from incidents_cli.record_cache import summary_records

    # Incidents as summaries: what follow-up needs of them, without every timeline.
    records = read_all(root, kinds=("postmortem",)) + summary_records(root)
    incidents = [r.data for r in records if r.kind == "incident" and isinstance(r.data, dict)]
    postmortems = {
        str(r.data.get("incident")): r.data
        for r in records
        if r.kind == "postmortem" and isinstance(r.data, dict)
    }
    due_reviews = stale(load_runbooks(root), incidents, postmortems, when)
    items = follow.collect(records, settings, when, due_reviews)
    if overdue:
        items = [i for i in items if i.overdue]
    if owner:
        items = [i for i in items if owner in i.owner.split(", ")]
    if paths:
        wanted = {Path(p).as_posix().removeprefix("./") for p in paths}
        items = [i for i in items if i.path in wanted]
    if output_format == "markdown":
        click.echo(follow.markdown_table(items), nl=False)
    elif output_format == "json":
        click.echo(json.dumps([i.as_dict() for i in items], indent=2, ensure_ascii=False))
    elif output_format == "github":
        click.echo(report_github(follow.as_findings(items)), nl=False)
    else:
        click.echo(follow.text_table(items), nl=False)
    late = sum(1 for i in items if i.overdue)
    if output_format == "text" and items:
        click.echo(f"{late} overdue of {len(items)}", err=True)
    return 1 if overdue and late else 0


@actions.command("done")
@click.argument("incident_id", metavar="ID")
@click.argument("item_id", metavar="ITEM")
@click.option("--link", metavar="URL", help="The ticket or pull request that did it.")
@transition_options
@pass_state
def actions_done(
    state: State,
    incident_id: str,
    item_id: str,
    link: str | None,
    by: str | None,
    at: str | None,
    as_json: bool,
    push: bool | None,
) -> int:
    """Mark an action item of a postmortem done (one commit)."""
    from incidents_cli import commands

    outcome = commands.action_done(_common(state, by, at, push), incident_id, item_id, link)
    return _report(outcome, as_json, f"{incident_id} {item_id} done")


@cli.group()
def runbook() -> None:
    """Runbooks: find one fast, read it, write a new one, see which need a review."""


@runbook.command("list")
@click.option("--component", metavar="ID", help="Only runbooks for this component.")
@click.option("--tag", metavar="TAG", help="Only runbooks with this tag.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def runbook_list(state: State, component: str | None, tag: str | None, as_json: bool) -> int:
    """List runbooks with their components and tags."""
    import json

    from incidents_cli.runbooks import load_runbooks, select

    found = select(load_runbooks(state.root()), component, tag)
    if as_json:
        rows = [
            {
                "slug": r.slug,
                "path": r.rel,
                "title": r.title,
                "components": list(r.components),
                "tags": list(r.tags),
                "owner": r.owner,
            }
            for r in found
        ]
        click.echo(json.dumps(rows, indent=2))
        return 0
    if not found:
        click.echo("No runbooks match.")
    for r in found:
        click.echo(f"{r.slug}  {r.title}")
        components, tags = ", ".join(r.components) or "-", ", ".join(r.tags) or "-"
        click.echo(f"    components: {components}   tags: {tags}")
    return 0


@runbook.command("show")
@click.argument("slug")
@pass_state
def runbook_show(state: State, slug: str) -> int:
    """Print a runbook."""
    from incidents_cli.errors import RefusedError
    from incidents_cli.runbooks import load_runbooks

    runbooks = load_runbooks(state.root())
    found = [r for r in runbooks if r.slug == slug]
    if not found:
        known = ", ".join(r.slug for r in runbooks) or "none"
        raise RefusedError(f"no runbook {slug!r} (runbooks: {known})")
    r = found[0]
    click.echo(f"{r.title}  ({r.rel}; owner {r.owner})")
    click.echo(r.body.strip())
    return 0


@runbook.command("new")
@click.argument("title")
@click.option("--component", "components", multiple=True, metavar="ID")
@click.option("--tag", "tags", multiple=True, metavar="TAG")
@click.option("--owner", metavar="NAME", help="Who keeps it current (default: git user.name).")
@pass_state
def runbook_new(
    state: State,
    title: str,
    components: tuple[str, ...],
    tags: tuple[str, ...],
    owner: str | None,
) -> int:
    """Write runbooks/SLUG.md from the template and validate it (not committed)."""
    from incidents_cli.runbook_new import new_runbook

    path = new_runbook(state.root(), title, list(components), list(tags), owner)
    click.echo(f"Wrote {path}: fill in the steps, then commit it.")
    return 0


@runbook.command("stale")
@click.option("--as-of", "as_of", metavar="TIME", help="Judge as of this time (default: now).")
@pass_state
def runbook_stale(state: State, as_of: str | None) -> int:
    """Runbooks past their review interval, or used in an incident reviewed since."""
    from incidents_cli.runbooks import load_runbooks, stale
    from incidents_cli.site import load_public_inputs
    from incidents_cli.timeutil import format_time

    root = state.root()
    incidents, postmortems, _ = load_public_inputs(root)
    found = stale(load_runbooks(root), incidents, postmortems, _as_of(as_of))
    if not found:
        click.echo("Every runbook is reviewed.")
    for entry in found:
        click.echo(
            f"{entry.runbook.rel}:{entry.runbook.line}: {entry.reason} "
            f"(due {format_time(entry.due)}, owner {entry.runbook.owner})"
        )
    return 1 if found else 0


# --- on call, escalation, metrics -----------------------------------------------------------


@cli.group(invoke_without_command=True)
@click.option("--at", "at", metavar="TIME", help="Who is on call at this time (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def oncall(ctx: click.Context, at: str | None, as_json: bool) -> int:
    """Who is primary and secondary on call now (or --at TIME), and until when."""
    if ctx.invoked_subcommand is not None:
        return 0
    import json

    from incidents_cli.errors import RefusedError
    from incidents_cli.oncall import primary_at, secondary_at
    from incidents_cli.repository import load_schedule, load_settings
    from incidents_cli.timeutil import format_time

    state = ctx.ensure_object(State)
    root = state.root()
    schedule = load_schedule(root, load_settings(root))
    if schedule is None:
        raise RefusedError("this repository has no oncall.yaml; `incidents init` writes one")
    when = _as_of(at)
    tiers = {"primary": primary_at(schedule, when), "secondary": secondary_at(schedule, when)}
    if as_json:
        click.echo(
            json.dumps(
                {
                    "at": format_time(when),
                    **{
                        name: None
                        if who is None
                        else {
                            "person": who.person,
                            "scheduled": who.scheduled,
                            "until": format_time(who.until) if who.until else None,
                            "override": bool(who.override),
                        }
                        for name, who in tiers.items()
                    },
                },
                indent=2,
            )
        )
        return 0
    click.echo(f"On call at {format_time(when)}:")
    for name, who in tiers.items():
        if who is None:
            click.echo(f"  {name:<9}  (no {name} tier in oncall.yaml)")
            continue
        until = f" until {format_time(who.until)}" if who.until else ""
        cover = f" (covering for {who.scheduled})" if who.override else ""
        click.echo(f"  {name:<9}  {who.person or 'nobody (rotation not started)'}{cover}{until}")
    return 0


@oncall.command("export")
@click.option("--rotation", "rotations", multiple=True, metavar="ID", help="Only this rotation.")
@click.option("--person", metavar="NAME", help="Only this person's shifts.")
@click.option("--weeks", type=click.IntRange(1, 520), default=12, show_default=True)
@click.option("--from", "start", metavar="TIME", help="First day (default: today, 00:00 UTC).")
@click.option(
    "--format", "output_format", type=click.Choice(["ics", "csv"]), default="ics", show_default=True
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write one stable file per rotation (oncall-ROTATION.ics) into this folder.",
)
@pass_state
def oncall_export(
    state: State,
    rotations: tuple[str, ...],
    person: str | None,
    weeks: int,
    start: str | None,
    output_format: str,
    out: Path | None,
) -> int:
    """Shifts with overrides applied, as iCalendar (RFC 5545) or CSV for hour accounting."""
    from datetime import UTC, datetime, timedelta

    from incidents_cli.calendar_export import csv_text, ics
    from incidents_cli.errors import RefusedError
    from incidents_cli.oncall import merged, shifts
    from incidents_cli.repository import load_schedule, load_settings
    from incidents_cli.timeutil import parse_time_option
    from incidents_cli.yamlio import write_atomic

    root = state.root()
    settings = load_settings(root)
    schedule = load_schedule(root, settings)
    if schedule is None:
        raise RefusedError("this repository has no oncall.yaml; `incidents init` writes one")
    begin = (
        parse_time_option(start, "--from")
        if start
        else datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    )
    end = begin + timedelta(weeks=weeks)
    chosen = list(rotations) or list(schedule.rotations)
    unknown = [r for r in chosen if r not in schedule.rotations]
    if unknown:
        raise RefusedError(
            f"--rotation {unknown[0]}: no such rotation (rotations: "
            f"{', '.join(schedule.rotations)})"
        )
    per_rotation = {}
    for rotation in chosen:
        found = merged(shifts(schedule, rotation, begin, end))
        per_rotation[rotation] = [s for s in found if person is None or s.person == person]
    if out is not None:
        folder = out if out.is_absolute() else state.directory / out
        for rotation, found in per_rotation.items():
            name = f"oncall-{rotation}.{output_format}"
            text = (
                ics(found, f"{settings.title}: {rotation}", begin, settings.people)
                if output_format == "ics"
                else csv_text(found)
            )
            write_atomic(folder / name, text)
            click.echo(str(folder / name))
        return 0
    every = [s for found in per_rotation.values() for s in found]
    every.sort(key=lambda s: (s.start, s.rotation))
    if output_format == "ics":
        sys.stdout.write(ics(every, f"{settings.title}: on call", begin, settings.people))
    else:
        click.echo(csv_text(every), nl=False)
    return 0


@cli.command()
@click.option("--as-of", "as_of", metavar="TIME", help="Judge as of this time (default: now).")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
)
@pass_state
def escalations(state: State, as_of: str | None, output_format: str) -> int:
    """Incidents still unacknowledged past their severity's window, and who is next.

    Exit 1 if there are any, so a scheduled job can flag them.
    """
    import json

    from incidents_cli.escalation import escalations as find
    from incidents_cli.findings import Finding, report_github
    from incidents_cli.record_cache import read_all
    from incidents_cli.repository import load_schedule, load_settings

    root = state.root()
    settings = load_settings(root)
    schedule = load_schedule(root, settings)
    records = []
    for record in read_all(root, kinds=("incident",)):
        if record.doc is None or not isinstance(record.data, dict):
            continue
        if record.data.get("phase") == "detected":  # only these can need an escalation
            records.append((record.rel, record.doc.locate(["detected_at"])[0], record.data))
    found = find(records, settings, schedule, _as_of(as_of))
    if output_format == "json":
        click.echo(json.dumps([e.as_dict() for e in found], indent=2))
    elif output_format == "github":
        click.echo(
            report_github(
                [Finding(e.path, e.line, 1, "Unacknowledged incident", e.describe()) for e in found]
            ),
            nl=False,
        )
    elif found:
        for item in found:
            click.echo(f"{item.describe()}  ({item.path}:{item.line})")
    else:
        click.echo("No incident is waiting for an acknowledgment past its window.")
    return 1 if found else 0


@cli.command()
@click.option("--since", metavar="TIME", help="Incidents detected at or after this time.")
@click.option("--until", metavar="TIME", help="Incidents detected before this time (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def stats(state: State, since: str | None, until: str | None, as_json: bool) -> int:
    """Counts, time to acknowledge and resolve, and completion rates over a period."""
    import json

    from incidents_cli import stats as metrics
    from incidents_cli.repository import load_settings
    from incidents_cli.site import load_public_inputs
    from incidents_cli.timeutil import parse_time_option

    root = state.root()
    settings = load_settings(root)
    incidents, postmortems, _ = load_public_inputs(root)
    report = metrics.compute(
        incidents,
        postmortems,
        settings,
        parse_time_option(since, "--since") if since else None,
        parse_time_option(until, "--until") if until else _as_of(None),
    )
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(metrics.text(report), nl=False)
    return 0
