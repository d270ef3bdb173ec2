"""`incidents runbook new`: a runbook from the template, validated before it is kept."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from incidents_cli.core.errors import RefusedError
from incidents_cli.core.records import RUNBOOKS_DIR
from incidents_cli.core.runbooks import slugify
from incidents_cli.site.render import Renderer
from incidents_cli.store.git import Repo
from incidents_cli.store.yamlio import dump, write_atomic
from incidents_cli.usecases.validate import validate_repository


def new_runbook(
    root: Path, title: str, components: list[str], tags: list[str], owner: str | None
) -> Path:
    if not title.strip():
        raise RefusedError("a runbook needs a title")
    slug = slugify(title)
    path = root / RUNBOOKS_DIR / f"{slug}.md"
    if path.exists():
        raise RefusedError(f"{path.relative_to(root)} exists already")
    owner = owner or (Repo.at(root).user_name() if Repo.is_repo(root) else None)
    if not owner:
        raise RefusedError("who owns it? pass --owner NAME")
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
    write_atomic(path, text)
    findings = validate_repository(root, [path])
    if findings:
        path.unlink()
        raise RefusedError(f"{findings[0].text()} (nothing was written)")
    return path
