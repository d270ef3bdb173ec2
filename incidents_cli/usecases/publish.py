"""`incidents site build`: the status site from the repository's records.

It fails closed: the repository is validated first (as `incidents validate --scope site`
does: the same findings, errors in what the site is built from and warnings elsewhere), and
a record with any error is left out of the site, never published; settings or templates
with errors stop the build. So the publish workflow needs no validate step of its own.
"""

from __future__ import annotations

import errno
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from incidents_cli.core.errors import IncidentsError, RefusedError, SetupError
from incidents_cli.core.findings import Finding
from incidents_cli.core.records import SETTINGS_FILE

if TYPE_CHECKING:
    from incidents_cli.site.build import AskedGit, BuildResult
    from incidents_cli.site.pages import EarlyPages


@dataclass
class Published:
    result: BuildResult
    left_out: list[Finding]  # the first finding of each record that was not published
    findings: list[Finding]
    """Every finding of `validate --scope site`: the errors of what the site is built from
    and, as warnings, the problems of the rest (runbooks, the on-call file)."""


def build_status_site(
    root: Path, out: Path, *, base_url: str | None, as_of: datetime | None
) -> Published:
    """Build the site into ``out`` (replaced as a whole) from the records that validate."""
    if base_url is not None and not base_url.startswith(("https://", "http://")):
        raise RefusedError(f"--base-url {base_url!r}: the site's URL starts with https://")
    _refuse_links_out_of(root, out)
    from incidents_cli.site.state import rebuild

    try:
        # After a few committed changes: from what the last build kept, no work per incident.
        rebuilt = rebuild(root, out, base_url, as_of)
        if rebuilt is not None:
            return Published(rebuilt.result, rebuilt.left_out, rebuilt.findings)
        from incidents_cli.store.cache import one_snapshot

        with one_snapshot(root):  # git is asked once which files are unchanged
            return _build(root, out, base_url, as_of)
    except OSError as exc:
        if exc.errno not in _NO_ROOM:
            raise
        where = exc.filename or out
        raise SetupError(
            f"{where}: {exc.strerror}: free some space or fix the folder's permissions, "
            "then build again"
        ) from None


def _refuse_links_out_of(root: Path, out: Path) -> None:
    """An --out inside the repository (the default `_site`, say) must not be led out of it
    by a symbolic link someone committed there (`_site` itself, a parent, or one that a
    later `..` climbs out of): the site is written where --out says, and a folder outside
    the repository only when --out names it. Never into git's own folder, nor through a
    loop of links."""
    import os

    from incidents_cli.store.root import inside_git_folder

    home = os.path.realpath(root)
    try:
        real = Path(out).resolve()  # as the kernel will follow it when the build writes
    except (RuntimeError, OSError):  # a loop of links
        raise RefusedError(f"--out {out}: a loop of symbolic links; give a real folder") from None
    if inside_git_folder(real):
        raise RefusedError(f"--out {out}: is inside git's own folder; give a folder of its own")
    _refuse_over_the_repository(Path(home), real, out)
    inside = real == Path(home) or Path(home) in real.parents
    lexical = Path(os.path.abspath(out))  # noqa: PTH100 - resolve() follows the links
    meant_inside = any(os.path.realpath(f) == home for f in (lexical, *lexical.parents))
    if inside or not meant_inside:
        return  # inside, or outside the repository where the person said
    raise RefusedError(
        f"--out {out}: a symbolic link in the repository leads it to {real}, outside the "
        f"repository; give --out {real} to build there"
    )


def _refuse_over_the_repository(home: Path, real: Path, out: Path) -> None:
    """The build replaces --out as a whole where it finds the marker of a site it built,
    and anyone can commit such a marker: --out is never the repository, a folder holding
    it, or one holding what the site is built from (incidents/, the settings, ...)."""
    import os

    from incidents_cli.site.render import TEMPLATES_DIR
    from incidents_cli.site.state import SITE_INPUTS

    if real == home or real in home.parents:
        raise RefusedError(f"--out {out}: would replace the repository; give a folder of its own")
    # another work tree of an incident repository (a linked worktree's main one, say)
    if any(os.path.lexists(real / name) for name in (".git", SETTINGS_FILE)):
        raise RefusedError(f"--out {out}: is a repository's work tree; give a folder of its own")
    for name in (*SITE_INPUTS, TEMPLATES_DIR, ".github"):
        if real == home / name or real in (home / name).parents:
            raise RefusedError(
                f"--out {out}: holds the repository's {name}; give a folder of its own"
            )


# A full disk, a quota, a file size limit, a read-only or forbidden folder: the machine's
# state, not a bug in the build.
_NO_ROOM = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


def _build(root: Path, out: Path, base_url: str | None, as_of: datetime | None) -> Published:
    from incidents_cli.site.build import early_pages

    asked = _ask_git(root)  # answered while the records are checked
    try:
        with early_pages(root, out, base_url) as early:
            return _check_and_build(root, out, base_url, as_of, early, asked)
    finally:
        if asked is not None:
            asked()  # answered once: no git is left running when the build stops early


def _check_and_build(
    root: Path,
    out: Path,
    base_url: str | None,
    as_of: datetime | None,
    early: EarlyPages | None,
    asked: AskedGit | None,
) -> Published:
    from incidents_cli.core.records import classify
    from incidents_cli.site.build import build_site
    from incidents_cli.site.inputs import parsed_view
    from incidents_cli.site.pages import early_view
    from incidents_cli.site.state import after_build, before_build
    from incidents_cli.store.checks import site_findings
    from incidents_cli.usecases.validate import SITE_KINDS, validate_repository

    head = before_build(root, out)  # the commit this build is made from, if it keeps a state
    if asked is not None:  # git has found the repository meanwhile: the rest asked now, of
        asked.advance(head)  # ``head`` where the counts are kept with it (state.py)
    # Read once: checked, and the incidents and postmortems parsed for that are what the
    # site's views are made from (unchanged files come from the caches instead); into an
    # empty --out, each incident's page is made there too (site/pages.py EarlyPages).
    derived: MutableMapping[str, Any] = early.views if early is not None else {}
    derive = early_view if early is not None else parsed_view
    facts: dict[str, str | None] = {}
    found, records = site_findings(
        root, keep=("incident", "postmortem"), derive=derive, derived=derived, facts=facts
    )
    first: dict[str, Finding] = {}
    findings = validate_repository(root, scope="site", found=found)
    for finding in findings:
        # what the site is not built from (runbooks, oncall.yaml) cannot leak into it
        built_from = classify(finding.path) in SITE_KINDS or finding.path.startswith("templates/")
        if finding.level == "error" and built_from:
            first.setdefault(finding.path, finding)
    blocking = [
        f for rel, f in first.items() if rel == SETTINGS_FILE or rel.startswith("templates/")
    ]
    if blocking:
        raise SiteRefused(
            f"{blocking[0].text()} (the site is not built until this is fixed; "
            "run `incidents validate`)",
            findings,
        )
    built: list[Any] = []
    result = build_site(
        root,
        out,
        base_url=base_url,
        as_of=as_of,
        exclude=first,
        records=records,
        derived=derived,
        built=built,
        early=early,
        asked=asked,
    )
    published = Published(result, list(first.values()), findings)
    counts = asked()[1] if asked is not None and head is not None else None  # of ``head``
    after_build(root, result.out, head, built, (findings, published.left_out), facts, counts)
    return published


def _ask_git(root: Path) -> AskedGit | None:
    """``site.build.ask_git``; None where git cannot be asked (the build says why, as ever,
    once the records are checked)."""
    from incidents_cli.site.build import ask_git

    try:
        return ask_git(root)
    except IncidentsError:
        return None


class SiteRefused(RefusedError):
    """Settings or templates with errors: nothing is built. ``findings``: all of them, for
    a report in the format asked for."""

    def __init__(self, message: str, findings: list[Finding]) -> None:
        super().__init__(message)
        self.findings = findings
