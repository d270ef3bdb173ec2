"""`incidents runbook new`: a runbook from the template, validated before it is kept."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from incidents_cli.core.errors import RefusedError
from incidents_cli.core.records import RUNBOOKS_DIR, SETTINGS_FILE, RecordFile
from incidents_cli.core.runbooks import slugify
from incidents_cli.core.text import clip
from incidents_cli.site.render import Renderer
from incidents_cli.store.git import Repo
from incidents_cli.store.layout import read_record
from incidents_cli.store.yamlio import dump, parse_front_matter, replace_if_unchanged
from incidents_cli.usecases.validate import findings_of

if TYPE_CHECKING:
    from incidents_cli.store.transaction import Outcome
    from incidents_cli.usecases.transitions import Invocation


def _default_owner(root: Path) -> str:
    """You, if you are one of the people (matched by git email); else whoever is on call:
    git's user.name is not a handle, and a runbook owned by it would not validate."""
    from incidents_cli.core.rules import ON_CALL_OWNER
    from incidents_cli.store.layout import load_settings

    if Repo.is_repo(root):
        handle = load_settings(root).handle_for_email(Repo.at(root).user_email())
        if handle:
            return handle
    return ON_CALL_OWNER


def new_runbook(
    root: Path, title: str, components: list[str], tags: list[str], owner: str | None
) -> Path:
    if not title.strip():
        raise RefusedError("a runbook needs a title")
    slug = slugify(title)
    path = root / RUNBOOKS_DIR / f"{slug}.md"
    if path.exists():
        raise RefusedError(f"{path.relative_to(root)} exists already")
    if not owner:
        owner = _default_owner(root)
    front = {
        "title": title.strip(),
        "components": components,
        "tags": tags,
        "owner": owner,
        "last_reviewed": datetime.now(UTC).strftime("%Y-%m-%d"),
        "review_every": 90,
    }
    text = Renderer(root).render(
        "runbook.md", {"front_matter": dump(front), "title": title.strip()}
    )
    # Checked before it is written, against the settings only (what a runbook refers to):
    # the rest of the repository is not read.
    rel = f"{RUNBOOKS_DIR}/{slug}.md"
    doc, body, body_line = parse_front_matter(text, rel)
    runbook = RecordFile("runbook", rel, doc, body=body, body_line=body_line)
    found = findings_of([read_record(root, SETTINGS_FILE, "settings"), runbook])
    problems = [f for f in found if f.path == rel]
    if problems:
        raise RefusedError(f"{problems[0].text()} (nothing was written)")
    # only if there is still no such file: one a person saved meanwhile is theirs, kept
    if not replace_if_unchanged(path, None, text):
        raise RefusedError(
            f"{rel} was saved (by hand?) while this command ran; it is left as saved and "
            "nothing was written"
        )
    return path


def reviewed(invocation: Invocation, slug: str, note: str | None) -> Outcome:
    """`runbook reviewed`: last_reviewed set to today (or --at), one commit of the runbook;
    the note goes into the commit message."""
    from incidents_cli.core.document import mapping
    from incidents_cli.core.lifecycle import Change, Event
    from incidents_cli.core.runbooks import mark_reviewed
    from incidents_cli.store import yamlio
    from incidents_cli.store.transaction import Workspace
    from incidents_cli.usecases.transitions import run

    rel = f"{RUNBOOKS_DIR}/{slug}.md"

    def make(ws: Workspace, event: Event) -> Change:
        path = ws.root / rel
        if not path.is_file():
            raise RefusedError(f"no runbook {rel} (see `incidents runbook list`)")
        text = ws.text(rel)  # remembered: a save made since is never written over
        front, body, _ = yamlio.split_front_matter(text, rel)
        doc = yamlio.parse(front, rel, line_offset=1)
        if doc.problems:
            raise doc.problems[0]
        data = mark_reviewed(mapping(doc.data), slug, event.at, ws.settings.timezone)
        subject = f"runbook {slug} reviewed: {data.get('title', '')}"
        change = Change(
            {"id": slug},
            "runbook-reviewed",
            clip(subject, 100),
            write_record=False,
            trailers=(("Runbook", slug),),
            body=(note or "").strip(),
        )
        change.files[rel] = f"---\n{yamlio.rewrite(front, data)}---\n{body}"
        return change

    return run(invocation, make)
