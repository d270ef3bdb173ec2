"""Commands that publish: site build, demo."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from incidents_cli.cli import params
from incidents_cli.cli.shared import PlacePath, State, pass_state

if TYPE_CHECKING:
    from datetime import datetime


@click.group()
def site() -> None:
    """The public status site."""


@site.command("build")
@click.option(
    "--out",
    type=PlacePath(file_okay=False, path_type=Path),
    default="_site",
    show_default=True,
    help="Folder to write (replaced as a whole).",
)
@click.option("--base-url", metavar="URL", help="Absolute URL of the site (feeds, shortlinks).")
@click.option("--as-of", "as_of", type=params.AS_OF, help="Build as of this time (default: HEAD).")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(("text", "github")),
    default="text",
    show_default=True,
    help="How to report what `validate --scope site` finds: text on stderr, or github: "
    "annotations on stdout (the publish workflow).",
)
@pass_state
def site_build(
    state: State, out: Path, base_url: str | None, as_of: datetime | None, output_format: str
) -> int:
    """Build the static status site: pages, feeds, badges and a Statuspage-style JSON API.

    Only public data is published. The same commit always gives the same bytes. The records
    are validated first, as `validate --scope site` does: a record with an error is left out
    (exit 1), settings or templates with an error stop the build (exit 2), and problems in
    what the site is not built from (runbooks, oncall.yaml) are warnings.
    """
    from incidents_cli.core.findings import report_github
    from incidents_cli.usecases.publish import SiteRefused, build_status_site

    root = state.root()
    target = out if out.is_absolute() else state.directory / out
    try:
        published = build_status_site(root, target, base_url=base_url, as_of=as_of)
    except SiteRefused as refused:
        if output_format == "github":
            click.echo(report_github(refused.findings), nl=False)
        raise
    result = published.result
    if output_format == "github":
        click.echo(report_github(published.findings), nl=False)
    else:
        for finding in published.left_out:
            click.echo(f"{finding.text()} (left out of the site)", err=True)
        for finding in published.findings:
            if finding.level != "error":
                click.echo(finding.text(), err=True)
    if result.unreadable:
        click.echo(
            f"warning: {len(result.unreadable)} record(s) could not be read and are not on "
            f"the site ({', '.join(result.unreadable[:3])}); run `incidents validate`",
            err=True,
        )
    from incidents_cli.core.wording import count, status_words

    click.echo(
        f"Built {count(result.files, 'file')} ({count(result.incidents, 'public incident')}, "
        f"overall status: {status_words(result.indicator)}) in {result.out}"
    )
    click.echo(str(result.out / "index.html"))
    if published.left_out:
        click.echo(
            f"{len(published.left_out)} record(s) do not validate and were left out of the "
            "site; run `incidents validate`",
            err=True,
        )
        return 1
    return 0


@click.command()
@click.argument(
    "folder",
    required=False,
    default="incidents-demo",
    type=PlacePath(file_okay=False, path_type=Path),
)
@pass_state
def demo(state: State, folder: Path) -> int:
    """Walk a sample incident through every phase; build its site.

    Prints the path of the site's index.html at the end.
    """
    from incidents_cli.usecases.demo import run_demo

    result = run_demo(folder if folder.is_absolute() else state.directory / folder)
    click.echo(f"Sample incident repository: {result.root}")
    click.echo(
        f"  incidents: {', '.join(result.incidents)} (see `incidents -C {folder} list --all`)"
    )
    from incidents_cli.core.wording import count, status_words

    click.echo(
        f"  status site: {count(result.site.files, 'file')}, "
        f"overall status: {status_words(result.site.indicator)}"
    )
    click.echo(str(result.site.out / "index.html"))
    return 0
