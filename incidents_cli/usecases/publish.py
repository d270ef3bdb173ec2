"""`incidents site build`: the status site from the repository's records."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from incidents_cli.site.build import BuildResult, build_site


def build_status_site(
    root: Path, out: Path, *, base_url: str | None, as_of: datetime | None
) -> BuildResult:
    """Build the site into ``out`` (replaced as a whole)."""
    return build_site(root, out, base_url=base_url, as_of=as_of)
