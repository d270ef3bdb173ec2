"""Nothing leaked, nothing written where it should not be (issue #13, items 7-10, 16, 19):
the status site from hostile records, settings and templates."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .conftest import run_cli
from .git_helpers import git

MARK = "LEAK-MARKER-13"


def commit_all(repo: Path) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "records")


def ok(repo: Path, *args: str) -> str:
    result = run_cli(*args, cwd=repo)
    assert result.code == 0, result.err
    return result.out


def public_incident(repo: Path, title: str = "Checkout errors") -> Path:
    """INC-0001 with a public update: it is on the status page."""
    ok(repo, "declare", title, "--component", "api", "--by", "alice")
    ok(
        repo,
        "update",
        "INC-0001",
        "--status",
        "investigating",
        "--message",
        "Looking",
        "--component",
        "api=major_outage",
        "--by",
        "alice",
    )
    return repo / "incidents" / "INC-0001.yaml"


def every_file(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file() or p.is_symlink()}


def site_text(out: Path) -> str:
    return "\n".join(
        p.read_text(encoding="utf-8", errors="replace") for p in every_file(out) if p.is_file()
    )


# --- item 7: output paths from ids stay inside --out -----------------------------------------


def test_an_incident_id_cannot_write_outside_the_output_folder(repo: Path, tmp_path: Path) -> None:
    record = public_incident(repo)
    record.write_text(record.read_text().replace("id: INC-0001", "id: ../../../escaped"))
    commit_all(repo)
    out = tmp_path / "a" / "b" / "c" / "out"
    out.parent.mkdir(parents=True)
    before = every_file(tmp_path) - every_file(repo)
    result = run_cli("site", "build", "--out", str(out), cwd=repo)
    assert result.code == 1, result.err
    assert "incidents/INC-0001.yaml" in result.err
    made = every_file(tmp_path) - every_file(repo) - before
    assert all(out in p.parents for p in made), sorted(map(str, made))
    assert not any("escaped" in p.name for p in every_file(tmp_path))


def test_a_component_id_cannot_write_outside_the_output_folder(repo: Path, tmp_path: Path) -> None:
    settings = repo / "incidents.yaml"
    settings.write_text(settings.read_text().replace("  - id: web\n", "  - id: ../../../x\n"))
    commit_all(repo)
    out = tmp_path / "a" / "b" / "c" / "out"
    out.parent.mkdir(parents=True)
    result = run_cli("site", "build", "--out", str(out), cwd=repo)
    assert result.code in (1, 2), result.err
    assert "incidents.yaml" in result.err
    assert not any(p.name.startswith("x.") for p in every_file(tmp_path))


@pytest.mark.parametrize("name", [".out.old", ".out.building"])
def test_site_build_never_deletes_what_it_did_not_create(
    repo: Path, tmp_path: Path, name: str
) -> None:
    mine = tmp_path / name
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work\n")
    out = tmp_path / "out"
    for _ in range(2):  # a first build and a rebuild (the old site is replaced)
        result = run_cli("site", "build", "--out", str(out), cwd=repo)
        assert result.code == 0, result.err
        assert (mine / "thesis.tex").read_text() == "years of work\n"
    assert (out / "index.html").is_file()


# --- item 8: fail closed on invalid records ----------------------------------------------------


@pytest.mark.parametrize("value", ['"false"', "no_thanks", "0", '"true"', "[]"])
def test_a_record_that_does_not_validate_is_never_published(
    repo: Path, tmp_path: Path, value: str
) -> None:
    record = public_incident(repo, title=f"Internal {MARK}")
    record.write_text(record.read_text() + f"public: {value}\n")
    commit_all(repo)
    assert run_cli("validate", cwd=repo).code == 1
    out = tmp_path / "out"
    result = run_cli("site", "build", "--out", str(out), cwd=repo)
    assert result.code == 1, result.err
    assert "incidents/INC-0001.yaml" in result.err and "left out" in result.err
    assert MARK not in site_text(out)
    assert "INC-0001" not in site_text(out)


# --- item 9: repository templates in the sandbox ----------------------------------------------

ATTACK = "{{ cycler.__init__.__globals__.os.system('touch %s') }}"


def test_a_site_template_cannot_run_code(repo: Path, tmp_path: Path) -> None:
    pwned = tmp_path / "pwned"
    folder = repo / "templates" / "site"
    folder.mkdir(parents=True)
    (folder / "index.html").write_text(ATTACK % pwned + "\n")
    commit_all(repo)
    result = run_cli("site", "build", "--out", str(tmp_path / "out"), cwd=repo)
    assert not pwned.exists()
    assert result.code == 2, result.err
    assert "templates/site/index.html" in result.err
    checked = run_cli("validate", cwd=repo)
    assert checked.code == 1
    assert "templates/site/index.html" in checked.out


def test_a_postmortem_template_cannot_run_code(repo: Path, tmp_path: Path) -> None:
    pwned = tmp_path / "pwned"
    ok(repo, "declare", "Outage", "--severity", "low", "--by", "alice")
    ok(repo, "ack", "INC-0001", "--by", "alice")
    ok(repo, "resolve", "INC-0001", "--action", "rollback", "--summary", "done", "--by", "alice")
    (repo / "templates").mkdir()
    (repo / "templates" / "postmortem.md").write_text(ATTACK % pwned + "\n")
    commit_all(repo)
    before = git(repo, "rev-parse", "HEAD")
    result = run_cli("postmortem", "INC-0001", "--by", "alice", cwd=repo)
    assert not pwned.exists()
    assert result.code == 2, result.err
    assert "templates/postmortem.md" in result.err
    assert git(repo, "rev-parse", "HEAD") == before


def test_validate_flags_a_template_that_does_not_parse(repo: Path) -> None:
    folder = repo / "templates" / "site"
    folder.mkdir(parents=True)
    (folder / "index.html").write_text("{% if %}\n")
    checked = run_cli("validate", cwd=repo)
    assert checked.code == 1
    assert "templates/site/index.html:1" in checked.out


# --- item 10: symlinks -------------------------------------------------------------------------


def test_a_template_symlink_is_refused_and_nothing_of_its_target_is_published(
    repo: Path, tmp_path: Path
) -> None:
    git(repo, "config", "http.extraHeader", f"Authorization: basic {MARK}")
    folder = repo / "templates" / "site"
    folder.mkdir(parents=True)
    (folder / "style.css").symlink_to("../../.git/config")
    commit_all(repo)
    out = tmp_path / "out"
    result = run_cli("site", "build", "--out", str(out), cwd=repo)
    assert result.code == 2, result.err
    assert "templates/site/style.css" in result.err and "symlink" in result.err
    assert not out.exists() or MARK not in site_text(out)
    checked = run_cli("validate", cwd=repo)
    assert checked.code == 1 and "templates/site/style.css" in checked.out


def test_a_record_symlink_is_refused(repo: Path, tmp_path: Path) -> None:
    record = public_incident(repo, title=f"Outside {MARK}")
    outside = tmp_path / "outside.yaml"
    outside.write_text(record.read_text().replace("INC-0001", "INC-0002"))
    (repo / "incidents" / "INC-0002.yaml").symlink_to(outside)
    commit_all(repo)
    checked = run_cli("validate", cwd=repo)
    assert (
        checked.code == 1 and "incidents/INC-0002.yaml" in checked.out and "symlink" in checked.out
    )
    out = tmp_path / "out"
    result = run_cli("site", "build", "--out", str(out), cwd=repo)
    assert result.code in (1, 2), result.err
    assert "incidents/INC-0002.yaml" in result.err
    assert not (out / "incidents" / "INC-0002.html").exists()


def test_a_symlinked_records_folder_is_refused(repo: Path, tmp_path: Path) -> None:
    public_incident(repo, title=f"Outside {MARK}")
    outside = tmp_path / "elsewhere"
    (repo / "incidents").rename(outside)
    (repo / "incidents").symlink_to(outside)
    checked = run_cli("validate", cwd=repo)
    assert (
        checked.code == 1 and "incidents/INC-0001.yaml" in checked.out and "symlink" in checked.out
    )
    out = tmp_path / "out"
    result = run_cli("site", "build", "--out", str(out), cwd=repo)
    assert result.code == 1 and "incidents/INC-0001.yaml" in result.err
    assert MARK not in site_text(out)


# --- item 16: control characters in XML outputs ------------------------------------------------


def test_control_characters_in_records_never_break_the_feeds_and_badges(
    repo: Path, tmp_path: Path
) -> None:
    public_incident(repo, title="Other incident")  # INC-0001 stays valid and published
    ok(repo, "declare", "Checkout errors", "--component", "api", "--by", "alice")
    ok(
        repo,
        "update",
        "INC-0002",
        "--status",
        "investigating",
        "--message",
        "Looking",
        "--by",
        "alice",
    )
    record = repo / "incidents" / "INC-0002.yaml"
    text = record.read_text().replace(
        "title: Checkout errors", 'title: "Checkout\\x01 errors\\x0b"'
    )
    record.write_text(text.replace("message: Looking", 'message: "Look\\x1bing\\x00"'))
    commit_all(repo)
    checked = run_cli("validate", cwd=repo)
    assert checked.code == 1
    assert "incidents/INC-0002.yaml" in checked.out and "control character" in checked.out
    out = tmp_path / "out"
    built = run_cli("site", "build", "--out", str(out), cwd=repo)
    assert built.code == 1 and "incidents/INC-0002.yaml" in built.err
    xml_files = [out / "history.atom", out / "history.rss", *sorted((out / "badges").glob("*.svg"))]
    assert all(p.exists() for p in xml_files) and len(xml_files) > 2
    for path in xml_files:
        ET.fromstring(path.read_bytes())  # well-formed
    assert "Checkout" not in site_text(out)


def test_a_control_character_in_a_component_name_is_a_finding_and_stops_the_build(
    repo: Path, tmp_path: Path
) -> None:
    settings = repo / "incidents.yaml"
    settings.write_text(settings.read_text().replace("name: Public API", 'name: "Public\\x02 API"'))
    checked = run_cli("validate", cwd=repo)
    assert (
        checked.code == 1
        and "incidents.yaml" in checked.out
        and "components[0].name" in checked.out
    )
    built = run_cli("site", "build", "--out", str(tmp_path / "out"), cwd=repo)
    assert built.code == 2 and "incidents.yaml" in built.err
    assert not (tmp_path / "out").exists()


# --- item 19: base_url -------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", "file:///etc/passwd"])
def test_base_url_must_be_http(repo: Path, tmp_path: Path, url: str) -> None:
    settings = repo / "incidents.yaml"
    settings.write_text(settings.read_text().replace("https://status.example.com/", url))
    checked = run_cli("validate", cwd=repo)
    assert checked.code == 1 and "base_url" in checked.out
    built = run_cli("site", "build", "--out", str(tmp_path / "out"), cwd=repo)
    assert built.code in (1, 2) and "base_url" in built.err
    assert not (tmp_path / "out").exists() or url not in site_text(tmp_path / "out")
    flag = run_cli("site", "build", "--out", str(tmp_path / "o2"), "--base-url", url, cwd=repo)
    assert flag.code == 2 and "--base-url" in flag.err
