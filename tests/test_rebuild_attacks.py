"""Attacks on the rebuild, the caches and the templates from a review of #20's third round:
each failed before its fix (a rebuild kept stale or foreign bytes, or a cache crashed it)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import run_cli
from .test_site import _resolved, all_files, build, commit_all, write

AS_OF = ("--as-of", "2026-02-01T00:00:00Z")


def _cold(repo: Path, cold: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    shutil.rmtree(cold, ignore_errors=True)
    monkeypatch.setenv("INCIDENTS_NO_CACHE", "1")
    assert run_cli("site", "build", "--out", str(cold), *AS_OF, cwd=repo).code in (0, 1)
    monkeypatch.delenv("INCIDENTS_NO_CACHE")
    return all_files(cold)


def test_a_feed_is_rendered_again_when_a_template_it_includes_changes(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # site/build.py _feeds: the key holds renderer.fingerprint(template) of the feed's own
    # template only; a repository template it includes is not part of it.
    write(repo, "incidents/INC-0001.yaml", _resolved(1, "2026-01-10", "Outage"))
    write(repo, "templates/site/history.atom", '{% include "site/feed_part.xml" %}\n')
    write(repo, "templates/site/feed_part.xml", "VERSION-ONE\n")
    commit_all(repo)
    out = build(repo, tmp_path / "site", *AS_OF)
    write(repo, "templates/site/feed_part.xml", "VERSION-TWO\n")
    commit_all(repo, "the feed's part changed")
    build(repo, out, *AS_OF)
    assert (
        all_files(out)["history.atom"]
        == _cold(repo, tmp_path / "cold", monkeypatch)["history.atom"]
    )


def test_an_incident_page_is_rendered_again_when_a_template_it_includes_changes(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # site/pages.py incident_plan: fingerprint of incident.html, base.html, _macros.html only.
    write(repo, "incidents/INC-0001.yaml", _resolved(1, "2026-01-10", "Outage"))
    write(
        repo,
        "templates/site/incident.html",
        '{% extends "site/base.html" %}{% block main %}{% include "site/part.html" %}'
        "{% endblock %}\n",
    )
    write(repo, "templates/site/part.html", "VERSION-ONE\n")
    commit_all(repo)
    out = build(repo, tmp_path / "site", *AS_OF)
    write(repo, "templates/site/part.html", "VERSION-TWO\n")
    commit_all(repo, "the page's part changed")
    build(repo, out, *AS_OF)
    rel = "incidents/INC-0001.html"
    assert all_files(out)[rel] == _cold(repo, tmp_path / "cold", monkeypatch)[rel]


def test_a_page_replaced_by_a_symlink_is_not_kept_by_a_rebuild(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # site/pages.py Previous.has: e.is_file() and e.stat() follow the link; the target's
    # (old) time passes the hand-edit check and the link stays in the published folder.
    write(repo, "incidents/INC-0001.yaml", _resolved(1, "2026-01-10", "Outage"))
    commit_all(repo)
    out = build(repo, tmp_path / "site", *AS_OF)
    secret = tmp_path / "secret.txt"
    secret.write_text("outside the site\n", encoding="utf-8")
    os.utime(secret, (0, 0))
    page = out / "incidents" / "INC-0001.html"
    page.unlink()
    page.symlink_to(secret)
    build(repo, out, *AS_OF)
    assert not page.is_symlink()


def test_a_page_edited_by_hand_with_its_time_kept_is_rendered_again(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(repo, "incidents/INC-0001.yaml", _resolved(1, "2026-01-10", "Outage"))
    commit_all(repo)
    out = build(repo, tmp_path / "site", *AS_OF)
    page = out / "incidents" / "INC-0001.html"
    stat = page.stat()
    page.write_bytes(page.read_bytes() + b"<script>edited</script>")
    os.utime(page, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # cp -p, rsync -t, tar x
    build(repo, out, *AS_OF)
    assert b"edited" not in page.read_bytes()


def test_a_skip_worktree_edit_to_private_is_not_published_by_a_rebuild(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # store/cache.py _snapshot trusts `git diff --name-only`, which hides paths marked
    # --skip-worktree / --assume-unchanged: the index's blob stands for other bytes.
    rel = "incidents/INC-0001.yaml"
    write(repo, rel, _resolved(1, "2026-01-10", "Outage"))
    commit_all(repo)
    out = build(repo, tmp_path / "site", *AS_OF)
    subprocess.run(["git", "update-index", "--skip-worktree", rel], cwd=repo, check=True)
    write(repo, rel, _resolved(1, "2026-01-10", "Outage") + "public: false\n")
    build(repo, out, *AS_OF)
    cold = _cold(repo, tmp_path / "cold", monkeypatch)
    assert "incidents/INC-0001.html" not in cold
    assert not (out / "incidents" / "INC-0001.html").exists()


def test_a_validator_compiled_by_another_build_of_the_tool_is_not_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # store/schemas.py _fast: the compiled validator (marshalled code, executed) is named by
    # the schema's bytes and a few rewrite strings, not by tool_key(): another build's
    # validator (other code, other fastjsonschema) is read and run by this one.
    from incidents_cli.store import schemas

    record = {"id": "INC-0001", "title": "x", "phase": "detected"}  # no source, detected_at
    real = schemas._without_const

    def other_build(node: object) -> object:  # another build of the tool: a bug of its own
        out = real(node)
        if isinstance(out, dict):
            out.pop("required", None)
        return out

    from incidents_cli.store import resources

    schemas._fast.cache_clear()
    monkeypatch.setattr(schemas, "_without_const", other_build)
    monkeypatch.setattr(resources, "code_digest", lambda: "0ther000")  # its code differs
    schemas._fast("incident")  # compiled by the other build, and kept in the user cache
    monkeypatch.undo()
    schemas._fast.cache_clear()
    try:
        accepted = True
        schemas._fast("incident")(record)
    except Exception:
        accepted = False
    finally:
        schemas._fast.cache_clear()
    assert not accepted, "a validator made by other code was used"


def test_a_repository_template_that_binds_underscore_and_extends_a_built_in_keeps_its_own(
    repo: Path, tmp_path: Path
) -> None:
    # site/render.py FixedTexts: base.html's _("...") compiled as text although the template
    # extending it gives _ a value of its own (as 063661c rendered it: [MINE:...]).
    write(repo, "incidents/INC-0001.yaml", _resolved(1, "2026-01-10", "Outage"))
    write(
        repo,
        "templates/site/history.html",
        '{% macro _(t) %}[MINE:{{ t }}]{% endmacro %}\n{% extends "site/base.html" %}\n',
    )
    commit_all(repo)
    out = build(repo, tmp_path / "site", *AS_OF)
    text = (out / "history.html").read_text(encoding="utf-8")
    assert "[MINE:Skip to content]" in text


def test_a_damaged_month_of_the_view_cache_is_a_miss_not_a_crash(
    repo: Path, tmp_path: Path
) -> None:
    # site/inputs.py _Cached.__getattr__ / _stored_view: a view's text from the month file is
    # decoded with no guard; the docstrings promise a damaged file is an empty cache.
    import json

    write(repo, "incidents/INC-0001.yaml", _resolved(1, "2026-01-10", "Outage"))
    commit_all(repo)
    out = build(repo, tmp_path / "site", *AS_OF)
    folder = repo / ".git" / "incidents-cache"
    (month,) = folder.glob("public-f6-*-2026-01.json")
    views = json.loads(month.read_text(encoding="utf-8"))
    month.write_text(json.dumps({key: "{damaged" for key in views}), encoding="utf-8")
    from incidents_cli.site import inputs

    inputs._MONTHS.clear()  # as a new process finds it
    build(repo, out, "--as-of", "2026-02-02T00:00:00Z")  # another day: the pages change


def test_an_out_folder_whose_parent_is_missing_or_a_file_is_refused_not_a_bug(
    repo: Path, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("x\n")
    for out in (tmp_path / "no" / "such" / "site", tmp_path / "a-file" / "site"):
        result = run_cli("site", "build", "--out", str(out), cwd=repo)
        assert result.code == 2, result.err
        assert result.err.count("\n") == 1, result.err
        if out.parent.parent.name == "no":  # not there yet: the build finds out
            assert result.err.startswith(f"--out {out}: cannot write beside it: ")
        else:  # the option refuses it first (cli.shared.PlacePath)
            assert f"'--out': {out}: a part of it is a file, not a folder" in result.err


def test_a_cache_file_that_is_a_symlink_to_a_device_is_a_miss_not_a_hang(
    repo: Path, tmp_path: Path
) -> None:
    """A cache file is read only if it is a regular file of bounded size: a symlink to
    /dev/zero would be read for ever (needs write access to .git, but must not hang CI)."""
    write(repo, "incidents/INC-0001.yaml", _resolved(1, "2026-01-10", "Outage"))
    commit_all(repo)
    out = build(repo, tmp_path / "site", *AS_OF)
    folder = repo / ".git" / "incidents-cache"
    linked = [*folder.glob("last-checks-*.json"), *folder.glob("public-f6-*-heads.json")]
    assert len(linked) == 2
    for path in linked:
        path.unlink()
        path.symlink_to("/dev/zero")
    import sys

    exe = shutil.which("incidents", path=str(Path(sys.executable).parent))
    assert exe is not None
    process = subprocess.run(
        [exe, "site", "build", "--out", str(out), *AS_OF],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert process.returncode == 0, process.stderr


def test_a_repository_template_calling_a_macro_wrongly_is_a_template_error_not_a_bug(
    repo: Path, tmp_path: Path
) -> None:
    write(repo, "incidents/INC-0001.yaml", _resolved(1, "2026-01-10", "Outage"))
    write(
        repo,
        "templates/site/history.html",
        '{% macro m() %}x{% endmacro %}\n{% extends "site/base.html" %}\n'
        "{% block main %}{{ m(colour=1) }}{% endblock %}\n",
    )
    commit_all(repo)
    result = run_cli("site", "build", "--out", str(tmp_path / "site"), *AS_OF, cwd=repo)
    assert result.code == 2, result.err
    assert result.err.startswith("templates/site/history.html:3: template error: macro 'm'")
