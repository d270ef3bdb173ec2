"""Reading on every core gives exactly what one process gives, cold and warm."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import git
import pytest

from incidents_cli.store import parallel

from .conftest import run_cli
from .test_cache import _outputs


def _pids(items: Sequence[int]) -> list[tuple[int, int]]:
    return [(item * item, os.getpid()) for item in items]


def test_chunks_come_back_in_order_from_several_processes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INCIDENTS_WORKERS", "3")
    monkeypatch.setattr(parallel, "MIN_ITEMS", 1)
    out = parallel.map_chunks(_pids, list(range(500)))
    assert [square for square, _ in out] == [n * n for n in range(500)]
    assert len({pid for _, pid in out}) >= 2  # the work was shared


def test_small_jobs_and_one_worker_stay_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INCIDENTS_WORKERS", "1")
    assert {pid for _, pid in parallel.map_chunks(_pids, list(range(1000)))} == {os.getpid()}
    monkeypatch.setenv("INCIDENTS_WORKERS", "4")
    few = list(range(parallel.MIN_ITEMS - 1))
    assert {pid for _, pid in parallel.map_chunks(_pids, few)} == {os.getpid()}


def test_outputs_are_byte_identical_single_and_multi_process_cold_and_warm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo = tmp_path / "demo"
    assert run_cli("demo", str(demo)).code == 0
    # Records with every kind of problem, so findings (and their places) come from workers'
    # chunks too: a schema error, a duplicate key, a syntax error, an uncommitted edit.
    bad = demo / "incidents" / "INC-0002.yaml"
    bad.write_text(bad.read_text().replace("severity: medium", "severity: urgent"))
    twice = demo / "incidents" / "INC-0001.yaml"
    twice.write_text(twice.read_text() + "title: Twice\n")
    resolved = (demo / "incidents" / "INC-0003.yaml").read_text()
    copies = [f"incidents/INC-{n:04d}.yaml" for n in range(20, 60)]
    for number, rel in enumerate(copies, start=20):
        (demo / rel).write_text(resolved.replace("INC-0003", f"INC-{number:04d}"))
    g = git.Repo(demo)
    g.index.add(["incidents/INC-0002.yaml", "incidents/INC-0001.yaml", *copies])
    g.index.commit("problems")
    (demo / "incidents" / "INC-0010.yaml").write_text("id: INC-0010\ntitle: [unclosed\n")
    edited = demo / "incidents" / "INC-0003.yaml"
    edited.write_text(edited.read_text().replace("Card payments failing", "Card payments down"))

    monkeypatch.setattr(parallel, "MIN_ITEMS", 1)  # every read is split into chunks
    monkeypatch.setenv("INCIDENTS_NO_CACHE", "1")
    monkeypatch.setenv("INCIDENTS_WORKERS", "1")
    single = _outputs(demo, tmp_path / "single")
    monkeypatch.setenv("INCIDENTS_WORKERS", "3")
    multi = _outputs(demo, tmp_path / "multi")
    monkeypatch.delenv("INCIDENTS_NO_CACHE")
    first = _outputs(demo, tmp_path / "first")  # fills the caches from the workers' entries
    warm = _outputs(demo, tmp_path / "warm")
    monkeypatch.setenv("INCIDENTS_WORKERS", "1")
    warm_single = _outputs(demo, tmp_path / "warm-single")
    validate = single["validate"]
    assert isinstance(validate, tuple)
    assert "severity" in validate[1] and "duplicate key" in validate[1], validate
    assert multi == single
    assert first == single
    assert warm == single
    assert warm_single == single


def test_site_build_after_validate_parses_nothing_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CI validates, then builds the site: the build takes the records validate parsed."""
    from incidents_cli.site import inputs

    demo = tmp_path / "demo"
    assert run_cli("demo", str(demo)).code == 0
    monkeypatch.setenv("INCIDENTS_NO_CACHE", "1")
    cold = _site(demo, tmp_path / "cold")
    monkeypatch.delenv("INCIDENTS_NO_CACHE")
    assert run_cli("validate", cwd=demo).code == 0
    for shard in (demo / ".git" / "incidents-cache").glob("public-*.json"):
        shard.unlink()

    def parse_nothing(items: Sequence[object]) -> list[object]:
        assert not items, "parsed again"
        return []

    monkeypatch.setattr(inputs, "_view_entries", parse_nothing)
    assert _site(demo, tmp_path / "after-validate") == cold


def _site(repo: Path, out: Path) -> dict[str, bytes]:
    site = run_cli("site", "build", "--out", str(out), "--as-of", "2026-12-01T00:00:00Z", cwd=repo)
    assert site.code == 0, site.err
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_streamed_chunks_come_back_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INCIDENTS_WORKERS", "3")
    monkeypatch.setattr(parallel, "MIN_ITEMS", 1)
    out = list(parallel.iter_chunks(_pids, list(range(300))))
    assert [square for square, _ in out] == [n * n for n in range(300)]


def test_a_cold_site_build_parses_each_record_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build validates first; the views are made from the records read for that."""
    from incidents_cli.site import inputs

    demo = tmp_path / "demo"
    assert run_cli("demo", str(demo)).code == 0
    monkeypatch.setenv("INCIDENTS_NO_CACHE", "1")
    before = _site(demo, tmp_path / "before")

    def parse_nothing(items: Sequence[object]) -> list[object]:
        assert not items, "parsed again"
        return []

    monkeypatch.setattr(inputs, "_view_entries", parse_nothing)
    assert _site(demo, tmp_path / "once") == before


def _slow_pids(items: Sequence[int]) -> list[tuple[int, int]]:
    import time

    if os.getpid() != _PARENT:
        time.sleep(0.05)  # a worker slower than this process: it should not wait idle
    return _pids(items)


_PARENT = os.getpid()


def test_streamed_chunks_are_shared_with_this_process_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While it waits for a worker's chunk, the command's process does the last chunks no
    worker has started; the results still come back in the order of the items."""
    monkeypatch.setenv("INCIDENTS_WORKERS", "2")
    monkeypatch.setattr(parallel, "MIN_ITEMS", 1)
    out = list(parallel.iter_chunks(_slow_pids, list(range(320))))
    assert [square for square, _ in out] == [n * n for n in range(320)]
    here = [pid == os.getpid() for _, pid in out]
    assert any(here) and not all(here)
    assert here[-1]  # taken from the end


@pytest.mark.parametrize("no_cache", ["1", "0"])
def test_views_of_incidents_are_made_where_they_are_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_cache: str
) -> None:
    """site build's check hands back the view (keyed as the build keys it: by the blob ids
    of the record and its postmortem, from git or hashed) of each incident, not its record
    nor its postmortem's."""
    from incidents_cli.site.inputs import _content_id, parsed_view
    from incidents_cli.store.checks import check_all

    demo = tmp_path / "demo"
    assert run_cli("demo", str(demo)).code == 0
    edited = demo / "incidents" / "INC-0001.yaml"  # uncommitted: its id is hashed
    edited.write_text(edited.read_text() + "# edited\n")
    monkeypatch.setenv("INCIDENTS_NO_CACHE", no_cache)
    monkeypatch.setenv("INCIDENTS_WORKERS", "2")
    monkeypatch.setattr(parallel, "MIN_ITEMS", 1)
    derived: dict[str, object] = {}
    _, records = check_all(demo, ("incident", "postmortem"), parsed_view, derived)
    incidents = {f"incidents/{p.name}" for p in (demo / "incidents").glob("*.yaml")}
    with_postmortem = {f"incidents/{p.stem}.yaml" for p in (demo / "postmortems").glob("*.md")}
    # (an incident whose postmortem comes from the record cache is sent back as a record)
    sent = {r.rel for r in records if r.kind == "incident"}
    assert with_postmortem and set(derived) | sent == incidents and not set(derived) & sent
    assert sent == ({"incidents/INC-0001.yaml"} if no_cache == "0" else set())
    for rel, made in derived.items():
        assert isinstance(made, tuple)
        postmortem = f"postmortems/{rel[10:-5]}.md"
        pm_id = _content_id(demo, postmortem, {})[0] if rel in with_postmortem else "-"
        assert made[0] == f"{rel[10:]}:{_content_id(demo, rel, {})[0]}:{pm_id}"


@pytest.mark.parametrize("no_cache", ["1", "0"])
def test_a_postmortem_left_out_is_not_shown_though_a_worker_made_the_view_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_cache: str
) -> None:
    """The worker that checks an incident and its postmortem makes the view from both; when
    a rule across records then finds an error in the postmortem, the build leaves it out,
    and the incident is shown as it would be without it (its view made again)."""
    demo = tmp_path / "demo"
    assert run_cli("demo", str(demo)).code == 0
    monkeypatch.setenv("INCIDENTS_NO_CACHE", no_cache)
    monkeypatch.setenv("INCIDENTS_WORKERS", "2")
    monkeypatch.setattr(parallel, "MIN_ITEMS", 1)
    summary = "added a query that could not use an"  # INC-0001's public postmortem summary

    def page(name: str) -> str:
        out = tmp_path / name
        run_cli("site", "build", "--out", str(out), cwd=demo)
        return (out / "incidents" / "INC-0001.html").read_text()

    assert summary in page("with")
    postmortem = demo / "postmortems" / "INC-0001.md"
    postmortem.write_text(postmortem.read_text().replace("authors: [alice,", "authors: [nobody,"))
    repo = git.Repo(demo)
    repo.index.add(["postmortems/INC-0001.md"])
    repo.index.commit("an author nobody knows")
    assert summary not in page("left-out")
