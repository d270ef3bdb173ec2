"""Communication: notify (tell each channel what is new, once) and comms (updates gone quiet)."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import TYPE_CHECKING

import click

from incidents_cli.cli import params
from incidents_cli.cli.shared import FORMATS, State, as_of_time, pass_state, warn_unreadable

if TYPE_CHECKING:
    from datetime import datetime


@contextlib.contextmanager
def _stopped_as_by_ctrl_c() -> Iterator[None]:
    """SIGTERM and SIGHUP (a cancelled CI job, `timeout`, a closed terminal) stop notify as
    Ctrl-C does, so what was sent is still pushed to the remote; by default they end Python
    at once and the next run, on a fresh clone, would tell it all again."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@click.command()
@click.option("--dry-run", is_flag=True, help="Show what would be sent; send and remember nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print what was sent (or would be) as JSON.")
@click.option(
    "--as-of", "as_of", type=params.AS_OF, help="Judge reminders as of this time (default: now)."
)
@click.option("--channel", "channel", metavar="NAME", help="Only this channel of notify:.")
@pass_state
def notify(
    state: State, dry_run: bool, as_json: bool, as_of: datetime | None, channel: str | None
) -> int:
    """Tell each configured channel what is new, exactly once.

    The channels are notify: in incidents.yaml.

    Reads committed history only. What each channel was sent is remembered in git
    (refs/incidents/notified/*) and pushed to the remote, so the next run, on any clone,
    continues where this one stopped. Exit 1 if a channel failed: it gets its messages on
    the next run, and the others nothing twice. Two runs at once: each channel is claimed
    on the remote (refs/incidents/notify-claims/*) before anything is sent to it; the run
    that loses skips that channel with a warning.
    """
    import json

    from incidents_cli.usecases.notify import notify as run

    with _stopped_as_by_ctrl_c():
        result = run(state.root(), as_of=as_of_time(as_of), dry_run=dry_run, only=channel)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
    else:
        verb = "would send" if dry_run else "sent"
        for done in result.channels:
            count = len(done.previews) if dry_run else len(done.sent)
            what = "request" if done.channel.type != "email" else "message"
            line = f"{done.channel.name} ({done.channel.type}, {done.channel.audience}): "
            if dry_run:
                line += f"{verb} {count} {what}{'s' if count != 1 else ''}"
            else:
                line += f"{verb} {count}"
            if done.skipped:
                line += f", skipped: {done.skipped}"
            if done.history:
                line += f", {len(done.history)} older than a first run's window skipped"
            click.echo(line)
            shown = done.sent if not dry_run else []
            for notice in shown:
                click.echo(f"  {notice.headline}")
            if dry_run:
                for preview in done.previews:
                    click.echo(f"  {preview['key']}")
    for done in result.channels:
        if done.error:
            click.echo(
                f"{done.error} ({len(done.pending)} message(s) left for the next run)", err=True
            )
    if result.push_error:
        click.echo(result.push_error, err=True)
    return 1 if result.failed else 0


@click.command()
@click.option("--as-of", "as_of", type=params.AS_OF, help="Judge as of this time (default: now).")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text; json; github: annotations on the incident files.",
)
@pass_state
def comms(state: State, as_of: datetime | None, output_format: str) -> int:
    """Open incidents whose public updates have gone quiet.

    Quiet: the last public update is older than its severity's update_every (defaults:
    critical 30m, high 1h), or a critical or high incident said nothing in public once its
    ack window passed. Exit 1 if there are any.
    """
    import json

    from incidents_cli.core.findings import Finding, report_github
    from incidents_cli.usecases.notify import quiet

    found, unreadable = quiet(state.root(), as_of_time(as_of))
    if output_format == "json":
        click.echo(json.dumps([q.as_dict() for q in found], indent=2))
    elif output_format == "github":
        click.echo(
            report_github(
                [Finding(q.path, q.line, 1, "Public update due", q.describe()) for q in found]
            ),
            nl=False,
        )
    else:
        for q in found:
            click.echo(f"{q.path}:{q.line}: {q.describe()}")
        if not found:
            click.echo("No open incident is waiting for a public update.")
    warn_unreadable(unreadable, "incident file(s)", "whether they are open and quiet is unknown")
    return 1 if found or unreadable else 0
