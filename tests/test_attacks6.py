"""atk6's attacks on main (sixth session): each test proves a defect and is marked
xfail(strict=True) until it is fixed. Real repositories, the installed console script
(run as a person runs it: no INCIDENTS_RAISE_BUGS; the test's own home and git identity), no
mocks."""

from __future__ import annotations

from pathlib import Path

import pytest

from .console_helpers import run_script
from .test_site import commit_all, write

_incidents = run_script


def _edit(repo: Path, rel: str, old: str, new: str, message: str) -> None:
    """``old`` in the file (which must hold it) made ``new``, and committed."""
    path = repo / rel
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    commit_all(repo, message)


# ---- a repository's templates: a mistake in one is bad input, never "a bug" (exit 3) ------


@pytest.mark.parametrize(
    "body",
    [
        "{{ 1/0 }}",  # ZeroDivisionError
        "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",  # RecursionError
        "{{ range(10**9)|list|length }}",  # the sandbox's own OverflowError (MAX_RANGE)
        '{{ "%s %s" % (1,) }}',  # TypeError: not enough arguments for format string
        '{{ "x" * 2**62 }}',  # MemoryError / OverflowError, allocates nothing
    ],
    ids=["zero-division", "recursion", "range-limit", "percent-format", "huge-repeat"],
)
def test_a_repository_template_that_fails_is_one_line_exit_2_not_a_bug(
    repo: Path, tmp_path: Path, body: str
) -> None:
    write(repo, "templates/site/index.html", body + "\n")
    commit_all(repo, "a template with a mistake")
    done = _incidents(repo, "site", "build", "--out", str(tmp_path / "out"))
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("templates/site/index.html:1:"), done.stderr
    assert "bug" not in done.stderr


# ---- the rebuild from the state: git must vouch for every file it reads --------------------


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_a_record_made_private_in_a_submodule_git_status_ignores_is_not_kept_public(
    repo: Path, tmp_path: Path
) -> None:
    from .git_helpers import git
    from .test_site import _resolved

    records = tmp_path / "records"  # a teammate's repository of records, added as incidents/
    records.mkdir()
    git(records, "init", "-q")
    write(records, "INC-0001.yaml", _resolved(1, "2026-01-10", "Database outage"))
    git(records, "add", "-A")
    git(records, "commit", "-qm", "records")
    git(repo, "rm", "-q", "incidents/.gitkeep")
    git(
        repo,
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        str(records),
        "incidents",
    )
    (repo / ".gitmodules").write_text(
        f'[submodule "incidents"]\n\tpath = incidents\n\turl = {records}\n\tignore = all\n',
        encoding="utf-8",
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "records as a submodule")
    out = tmp_path / "site"
    as_of = ("--as-of", "2026-02-01T00:00:00Z")
    for _ in range(2):  # the second build keeps the state the next one starts from
        assert _incidents(repo, "site", "build", "--out", str(out), *as_of).returncode == 0
    assert (out / "incidents" / "INC-0001.html").is_file()
    inside = repo / "incidents"
    write(inside, "INC-0001.yaml", (inside / "INC-0001.yaml").read_text() + "public: false\n")
    git(inside, "commit", "-qam", "not public after all")
    assert git(repo, "status", "--porcelain") == ""  # git vouches for the work tree
    rebuilt = _incidents(repo, "site", "build", "--out", str(out), *as_of)
    cold = tmp_path / "cold"
    fresh = _incidents(repo, "site", "build", "--out", str(cold), *as_of, INCIDENTS_NO_CACHE="1")
    assert (rebuilt.returncode, fresh.returncode) == (0, 0), rebuilt.stderr + fresh.stderr
    assert not (cold / "incidents" / "INC-0001.html").exists()  # the cold build: private
    assert b"Database outage" not in (out / "api/v2/incidents.json").read_bytes()
    assert _tree(out) == _tree(cold)


# ---- settings: a time zone that is the build machine's own ---------------------------------


def test_the_machines_own_localtime_is_not_accepted_as_the_teams_time_zone(repo: Path) -> None:
    import zoneinfo

    if "localtime" not in zoneinfo.available_timezones():
        pytest.skip("this machine's zoneinfo has no 'localtime' link")
    _edit(
        repo, "incidents.yaml", "\ntimezone: UTC\n", "\ntimezone: localtime\n", "the machine's zone"
    )
    done = _incidents(repo, "validate")
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)  # a finding
    assert "incidents.yaml:" in done.stdout + done.stderr
    assert "timezone" in done.stdout + done.stderr


# ---- schema patterns: Python's `$` matches before a final newline ----------------------------


def test_a_component_id_with_a_trailing_newline_is_refused_not_made_a_file_name(
    repo: Path, tmp_path: Path
) -> None:
    _edit(
        repo,
        "incidents.yaml",
        "\n  - id: web\n",
        '\n  - id: "web\\n"\n',
        "a component id with a newline",
    )
    checked = _incidents(repo, "validate")
    out = tmp_path / "site"
    built = _incidents(repo, "site", "build", "--out", str(out))
    names = [str(p.relative_to(out)) for p in out.rglob("*")] if out.exists() else []
    assert [name for name in names if "\n" in name] == []  # no file name with a newline
    assert checked.returncode == 1, (checked.stdout, checked.stderr)  # a finding
    assert checked.stdout.startswith("incidents.yaml:30:5: components[1].id: "), checked.stdout
    assert built.returncode == 2 and built.stderr.startswith("incidents.yaml:"), built.stderr


def test_an_id_prefix_with_a_trailing_newline_is_refused_by_validate(repo: Path) -> None:
    _edit(
        repo,
        "incidents.yaml",
        "\nid_prefix: INC\n",
        '\nid_prefix: "INC\\n"\n',
        "an id prefix with a newline",
    )
    checked = _incidents(repo, "validate")
    declared = _incidents(
        repo, "declare", "Checkout down", "--severity", "low", "--component", "api"
    )
    assert declared.returncode == 2
    assert declared.stderr.startswith("incidents.yaml:"), declared.stderr
    assert checked.returncode == 1, (checked.stdout, checked.stderr)  # a finding
    assert checked.stdout.startswith("incidents.yaml:19:1: id_prefix: "), checked.stdout


# ---- --out through a symlink a teammate committed ------------------------------------------


@pytest.mark.parametrize("link, out", [("_site", None), ("public", "public/site")])
def test_a_committed_symlink_never_takes_the_site_out_of_the_repository(
    repo: Path, tmp_path: Path, link: str, out: str | None
) -> None:
    from .git_helpers import git

    elsewhere = tmp_path / "elsewhere"  # an empty folder outside the repository
    elsewhere.mkdir()
    (repo / link).symlink_to(elsewhere)
    git(repo, "add", link)
    git(repo, "commit", "-qm", "where the site goes")
    done = _incidents(repo, "site", "build", *(("--out", out) if out else ()), cwd=repo)
    assert sorted(elsewhere.rglob("*")) == []  # nothing written outside the repository
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr


# ---- oncall.yaml: huge durations ------------------------------------------------------------


@pytest.mark.parametrize("shift", ["2000000w", "999999999w"])
def test_a_huge_rotation_shift_is_bad_input_not_a_bug(repo: Path, shift: str) -> None:
    write(
        repo,
        "oncall.yaml",
        f"rotations:\n  - id: primary\n    members: [alice, bob]\n    shift: {shift}\n"
        '    start: "2026-01-01T00:00:00Z"\n',
    )
    commit_all(repo, "a very long shift")
    asked = _incidents(repo, "oncall", "--at", "2026-11-28T00:00:00Z")
    checked = _incidents(repo, "validate", "oncall.yaml")
    assert asked.returncode == 2, (asked.returncode, asked.stderr)
    assert asked.stderr.startswith("oncall.yaml:") and asked.stderr.count("\n") == 1
    assert checked.returncode == 1, (checked.stdout, checked.stderr)  # a finding: exit 1
    assert checked.stdout.startswith("oncall.yaml:4:5: rotations[0].shift: "), checked.stdout


# ---- incidents.yaml: huge durations ---------------------------------------------------------


@pytest.mark.parametrize(
    "written", ["    ack_within: 15m\n", "    update_every: 1h\n", "  due_within: 48h\n"]
)
@pytest.mark.parametrize("command", [("validate",), ("site", "build")])
def test_a_huge_duration_in_the_settings_is_one_line_exit_2_not_a_bug(
    repo: Path, tmp_path: Path, written: str, command: tuple[str, ...]
) -> None:
    settings = repo / "incidents.yaml"
    text = settings.read_text(encoding="utf-8")
    assert written in text
    huge = written.split(":")[0] + ": 999999999w\n"
    settings.write_text(text.replace(written, huge, 1), encoding="utf-8")
    commit_all(repo, "a very long time")
    out = ("--out", str(tmp_path / "site")) if command[0] == "site" else ()
    done = _incidents(repo, *command, *out)
    expected = 1 if command[0] == "validate" else 2  # validate reports a finding: exit 1
    assert done.returncode == expected, (done.returncode, done.stdout, done.stderr)
    said = (done.stdout + done.stderr).splitlines()
    assert said and said[0].startswith("incidents.yaml:"), said
    assert "is longer than ten years" in said[0], said


@pytest.mark.parametrize(
    "command",
    [("list",), ("show", "1"), ("comms",), ("escalations",), ("stats",), ("oncall",), ("ack", "1")],
)
def test_every_reader_of_the_settings_refuses_a_huge_duration_with_one_line(
    repo: Path, command: tuple[str, ...]
) -> None:
    assert _incidents(repo, "declare", "Checkout down", "--component", "api").returncode == 0
    settings = repo / "incidents.yaml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(text.replace("ack_within: 15m\n", "ack_within: 999999999w\n"), "utf-8")
    commit_all(repo, "a very long time")
    done = _incidents(repo, *command)
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert done.stderr.startswith("incidents.yaml:62:5: severities.high.ack_within: ")
    assert done.stderr.count("\n") == 1, done.stderr


def test_notify_reads_committed_settings_and_shifts_without_overflowing(repo: Path) -> None:
    """notify checks the committed settings as every command does: a duration beyond any
    time is refused in one line naming its place, never input to its arithmetic."""
    assert _incidents(repo, "declare", "Checkout down", "--component", "api").returncode == 0
    settings = repo / "incidents.yaml"
    text = settings.read_text(encoding="utf-8").replace("ack_within: 5m\n", "ack_within: 9999w\n")
    hook = "notify:\n  - {name: hook, type: webhook, audience: internal, url_env: HOOK_URL}\n"
    settings.write_text(text + hook, "utf-8")
    write(
        repo,
        "oncall.yaml",
        "rotations:\n  - id: primary\n    members: [alice, bob]\n    shift: 2000000w\n"
        '    start: "2026-01-01T00:00:00Z"\n',
    )
    commit_all(repo, "a very long time")
    done = _incidents(repo, "notify", "--dry-run", HOOK_URL="http://127.0.0.1:9/hook")
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert done.stderr.startswith("incidents.yaml:"), done.stderr
    assert "ack_within: '9999w' is longer than ten years" in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    # with the settings mended, the shift that is too long is no input to arithmetic either
    settings.write_text(text.replace("ack_within: 9999w\n", "ack_within: 5m\n") + hook, "utf-8")
    commit_all(repo, "a sane window")
    done = _incidents(repo, "notify", "--dry-run", HOOK_URL="http://127.0.0.1:9/hook")
    assert done.returncode == 0, (done.returncode, done.stdout, done.stderr)


@pytest.mark.parametrize("command", [("validate",), ("site", "build")])
def test_a_huge_recurrence_interval_is_bad_input_not_a_bug(
    repo: Path, tmp_path: Path, command: tuple[str, ...]
) -> None:
    write(
        repo,
        "maintenance/MNT-0001.yaml",
        'id: MNT-0001\ntitle: Upgrade\nstart: "2026-12-01T10:00:00Z"\n'
        'end: "2026-12-01T11:00:00Z"\ncomponents: [api]\n'
        "recurrence: FREQ=WEEKLY;INTERVAL=99999999999999;COUNT=5\n",
    )
    commit_all(repo, "a window every few eons")
    out = ("--out", str(tmp_path / "site")) if command[0] == "site" else ()
    done = _incidents(repo, *command, *out)
    assert done.returncode in (1, 2), (done.returncode, done.stdout, done.stderr)
    # validate prints its findings; site build what it built, and on stderr what it left out
    said = (done.stderr if command[0] == "site" else done.stdout).splitlines()
    assert said and said[0].startswith("maintenance/MNT-0001.yaml:"), said


# ---- the published manifest: a digest of internal data --------------------------------------


def test_an_internal_note_changes_no_byte_of_the_published_site(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    assert _incidents(tmp_path, "demo", str(demo)).returncode == 0
    as_of = ("--as-of", "2026-12-01T00:00:00Z")

    def published(out: Path) -> dict[str, bytes]:
        done = _incidents(demo, "site", "build", "--out", str(out), *as_of, INCIDENTS_NO_CACHE="1")
        assert done.returncode == 0, done.stderr
        return _tree(out)

    before = published(tmp_path / "before")
    noted = _incidents(demo, "note", "INC-0003", "Internal: the vendor's account is suspended")
    assert noted.returncode == 0, noted.stderr
    after = published(tmp_path / "after")
    assert before.keys() == after.keys()
    assert [rel for rel in before if before[rel] != after[rel]] == []


@pytest.mark.parametrize("days", ["3000000", "99999999999"])
def test_a_huge_review_interval_of_a_runbook_is_bad_input_not_a_bug(repo: Path, days: str) -> None:
    runbook = repo / "runbooks" / "bad-deploy-rollback.md"
    text = runbook.read_text(encoding="utf-8")
    assert "\nreview_every: 90\n" in text
    runbook.write_text(text.replace("\nreview_every: 90\n", f"\nreview_every: {days}\n"), "utf-8")
    commit_all(repo, "reviewed once an age")
    stale = _incidents(repo, "runbook", "stale")
    assert stale.returncode in (1, 2), (stale.returncode, stale.stderr)
    assert "bug" not in stale.stderr
    assert stale.stderr.startswith("runbooks/bad-deploy-rollback.md:"), stale.stderr
    assert stale.stderr.count("\n") == 1, stale.stderr
    checked = _incidents(repo, "validate")
    assert checked.returncode == 1, (checked.stdout, checked.stderr)
    assert "review_every" in checked.stdout.splitlines()[0], checked.stdout
