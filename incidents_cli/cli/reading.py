"""Commands that read incidents: list, show."""

from __future__ import annotations

import click

from incidents_cli.cli.shared import PHASE_CHOICE, SEVERITY_CHOICE, State, as_of_time, pass_state


@click.command("list")
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

    from incidents_cli.core import overview
    from incidents_cli.core.timeutil import parse_time_option
    from incidents_cli.store.layout import load_settings

    root = state.root()
    settings = load_settings(root)
    from incidents_cli.store.cache import incident_summaries
    from incidents_cli.store.layout import read_record

    records, unreadable = incident_summaries(root)
    chosen = overview.select(
        records,
        phases=phases,
        severities=severities,
        components=components,
        include_closed=not only_open,
        since=parse_time_option(since, "--since") if since else None,
    )
    when = as_of_time(as_of)
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


@click.command()
@click.argument("incident_id", metavar="ID")
@click.option("--as-of", "as_of", metavar="TIME", help="Judge windows as of this time.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def show(state: State, incident_id: str, as_of: str | None, as_json: bool) -> int:
    """One incident: who is on it, phase durations, the timeline."""
    import json

    from incidents_cli.core import overview
    from incidents_cli.core.records import incident_rel
    from incidents_cli.store.layout import load_settings, read_record

    root = state.root()
    settings = load_settings(root)
    record = read_record(root, incident_rel(incident_id), "incident")
    if record.error is not None:
        if not (root / incident_rel(incident_id)).exists():
            from incidents_cli.core.errors import RefusedError

            raise RefusedError(f"no incident {incident_id} (see `incidents list --all`)")
        raise record.error
    data = record.data
    item = overview.view(data, settings, as_of_time(as_of))
    from incidents_cli.core.runbooks import matching
    from incidents_cli.store.layout import load_runbooks

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
