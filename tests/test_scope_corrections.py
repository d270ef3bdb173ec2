"""#15: scope that changes as the blast radius narrows or widens, stable references, and
corrections (amend, retract) that reach every public output. Real repositories, the real CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import run_cli
from .lifecycle_helpers import (
    api_incident,
    assert_api_matches_statuspage_v2,
    assert_one_commit,
    build_site,
    feed_entries,
    head,
    investigating,
    ok,
    record,
    site_files,
)
from .test_transitions_cli import state

MARK = "SECRET-MARKER-7f3a"


def scope_entries(data: dict[str, object]) -> list[str]:
    timeline = data["timeline"]
    assert isinstance(timeline, list)
    return [e["text"] for e in timeline if e["kind"] == "scope"]


def test_scope_changes_are_timeline_entries_in_one_commit(repo: Path) -> None:
    iid = investigating(repo)
    before = head(repo)
    ok(
        repo,
        "scope",
        iid,
        "--add-component",
        "database",
        "--remove-component",
        "api",
        "--add-region",
        "us-east",
        "--title",
        "Checkout fails",
        "--at",
        "2026-03-01T10:10:00Z",
        "--by",
        "alice",
    )
    subject, files = assert_one_commit(
        repo, before, Incident_Id=iid, Phase="investigating", Actor="alice"
    )
    assert subject == f"{iid} scope: Checkout fails"
    assert files == [f"incidents/{iid}.yaml"]
    data = record(repo, iid)
    assert data["components"] == ["database"]
    assert data["regions"] == ["eu-west", "us-east"]
    assert data["title"] == "Checkout fails"
    texts = scope_entries(data)
    assert len(texts) == 4, "one timeline entry per change"
    assert any("database" in t and "added" in t for t in texts)
    assert any("api" in t and "removed" in t for t in texts)
    assert any("us-east" in t for t in texts)
    assert any("Checkout is slow" in t and "Checkout fails" in t for t in texts)
    assert all(e["actor"] == "alice" for e in data["timeline"] if e["kind"] == "scope")

    before = head(repo)
    ok(repo, "scope", iid, "--private")
    assert_one_commit(repo, before, Incident_Id=iid)
    assert record(repo, iid)["public"] is False
    before = head(repo)
    ok(repo, "scope", iid, "--public")
    assert_one_commit(repo, before, Incident_Id=iid)
    assert record(repo, iid).get("public", True) is True


def test_a_region_found_later_can_be_verified_at_resolve(repo: Path) -> None:
    iid = investigating(repo)
    ok(repo, "scope", iid, "--add-region", "us-east")
    ok(
        repo,
        "resolve",
        iid,
        "--action",
        "rollback",
        "--summary",
        "Rolled back",
        "--verified-in",
        "eu-west",
        "--verified-in",
        "us-east",
    )
    assert record(repo, iid)["resolution"]["verified_in"] == ["eu-west", "us-east"]


SCOPE_REFUSALS = [
    (("scope", "INC-0001"), "nothing to change"),
    (("scope", "INC-0001", "--add-component", "nope"), "unknown component 'nope'"),
    (("scope", "INC-0001", "--add-component", "api"), "api is already"),
    (("scope", "INC-0001", "--remove-component", "web"), "web is not"),
    (("scope", "INC-0001", "--remove-region", "us-east"), "us-east is not"),
    (("scope", "INC-0001", "--title", "  "), "title"),
    (("scope", "INC-0001", "--public", "--private"), "--public"),
    (("scope", "INC-0009", "--add-region", "x"), "no incident INC-0009"),
]


@pytest.mark.parametrize(
    ("args", "message"), SCOPE_REFUSALS, ids=[" ".join(a[2:4]) for a, _ in SCOPE_REFUSALS]
)
def test_scope_refusals_change_nothing(repo: Path, args: tuple[str, ...], message: str) -> None:
    investigating(repo)
    before = state(repo)
    result = run_cli(*args, cwd=repo)
    assert result.code == 2, result.err
    assert message in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert state(repo) == before


def test_scope_of_a_closed_incident_is_refused(repo: Path) -> None:
    ok(repo, "declare", "Blip", "--severity", "low", "--component", "api")
    ok(repo, "ack", "INC-0001")
    ok(repo, "resolve", "INC-0001", "--action", "other", "--summary", "Gone")
    ok(repo, "close", "INC-0001")
    before = state(repo)
    result = run_cli("scope", "INC-0001", "--add-component", "web", cwd=repo)
    assert result.code == 2 and "cannot scope INC-0001: it is closed" in result.err
    assert state(repo) == before


def test_update_for_a_component_not_on_the_incident_adds_it(repo: Path) -> None:
    iid = investigating(repo)
    before = head(repo)
    result = run_cli(
        "update",
        iid,
        "--status",
        "identified",
        "--message",
        "Sign-in is affected too.",
        "--component",
        "auth=partial_outage",
        cwd=repo,
    )
    assert result.code == 0, result.err
    assert "auth" in result.err and "added" in result.err  # the notice
    assert_one_commit(repo, before, Incident_Id=iid)
    data = record(repo, iid)
    assert data["components"] == ["api", "auth"]
    assert data["updates"][-1]["components"] == {"auth": "partial_outage"}
    assert any("auth" in e["text"] for e in data["timeline"] if e["kind"] == "scope")


def test_show_gives_every_entry_and_update_a_stable_ref(repo: Path) -> None:
    iid = investigating(repo)
    ok(repo, "note", iid, "Pool at 100%", "--kind", "finding", "--at", "2026-03-01T10:20:00Z")
    data = record(repo, iid)
    refs = [e["ref"] for e in data["timeline"]]
    assert refs == ["N1", "N2", "N3", "N4", "N5"]
    assert [u["ref"] for u in data["updates"]] == ["U1"]
    shown = ok(repo, "show", iid)
    assert "U1 " in shown
    line = next(line for line in shown.splitlines() if "Pool at 100%" in line)
    assert line.split()[0] == "N5"

    # a back-filled note sorts into place but takes the next number: old refs never move
    ok(repo, "note", iid, "Deploy at 09:58", "--kind", "change", "--at", "2026-03-01T10:01:00Z")
    data = record(repo, iid)
    by_text = {e["text"]: e["ref"] for e in data["timeline"]}
    assert by_text["Pool at 100%"] == "N5"
    assert by_text["Deploy at 09:58"] == "N6"
    assert run_cli("validate", cwd=repo).code == 0


def test_a_record_written_before_refs_gets_them_in_order(repo: Path) -> None:
    iid = investigating(repo)
    import git
    import yaml

    path = repo / "incidents" / f"{iid}.yaml"
    data = yaml.safe_load(path.read_text())
    for entry in data["timeline"] + data["updates"]:
        entry.pop("ref", None)
    path.write_text(yaml.safe_dump(data, sort_keys=False))

    g = git.Repo(repo)
    g.git.add("-A")
    g.index.commit("records from an older version")
    shown = ok(repo, "show", iid, "--json")
    assert '"ref": "N4"' in shown and '"ref": "U1"' in shown
    ok(repo, "note", iid, "later")
    assert [e["ref"] for e in record(repo, iid)["timeline"]][-1] == "N5"


def test_amending_a_public_update_corrects_every_public_output(repo: Path, tmp_path: Path) -> None:
    iid = investigating(repo)
    ok(
        repo,
        "update",
        iid,
        "--status",
        "identified",
        "--message",
        f"The paymnet provider is down. {MARK}",
        "--at",
        "2026-03-01T10:30:00Z",
    )
    before = head(repo)
    ok(
        repo,
        "amend",
        iid,
        "U2",
        "--message",
        "The payment provider is down.",
        "--at",
        "2026-03-01T10:31:00Z",
        "--by",
        "bob",
    )
    subject, files = assert_one_commit(repo, before, Incident_Id=iid, Actor="bob")
    assert "U2" in subject and files == [f"incidents/{iid}.yaml"]
    data = record(repo, iid)
    update = data["updates"][1]
    assert update["message"] == "The payment provider is down."
    assert update["amended"] == {"at": "2026-03-01T10:31:00Z", "actor": "bob"}
    entry = data["timeline"][-1]
    assert (entry["kind"], entry["refers_to"], entry["actor"]) == ("amended", "U2", "bob")
    # git keeps the original
    import git

    assert MARK in git.Repo(repo).git.show(f"{before}:incidents/{iid}.yaml")

    out = build_site(repo, tmp_path / "site")
    files_out = site_files(out)
    assert not [name for name, text in files_out.items() if MARK in text]
    assert "The payment provider is down." in files_out[f"incidents/{iid}.html"]
    assert "The payment provider is down." in files_out["history.atom"]
    bodies = [u["body"] for u in api_incident(out, iid)["incident_updates"]]
    assert "The payment provider is down." in bodies
    assert len(feed_entries(out)) == 2


def test_a_retracted_public_update_disappears_from_every_public_output(
    repo: Path, tmp_path: Path
) -> None:
    iid = investigating(repo)
    ok(
        repo,
        "update",
        iid,
        "--status",
        "identified",
        "--message",
        f"Wrong incident: {MARK}",
        "--component",
        "web=major_outage",
        "--at",
        "2026-03-01T10:30:00Z",
    )
    ok(
        repo,
        "update",
        iid,
        "--status",
        "monitoring",
        "--message",
        "A fix is deployed.",
        "--at",
        "2026-03-01T10:40:00Z",
    )
    before = head(repo)
    reason = f"posted on the wrong incident {MARK}-reason"
    ok(repo, "retract", iid, "U2", "--reason", reason, "--at", "2026-03-01T10:41:00Z")
    subject, _ = assert_one_commit(repo, before, Incident_Id=iid)
    assert "U2" in subject
    data = record(repo, iid)
    retracted = data["updates"][1]["retracted"]
    assert retracted["reason"] == reason and retracted["actor"] == "Test Responder"
    entry = next(e for e in data["timeline"] if e["kind"] == "retracted")
    assert entry["refers_to"] == "U2"
    # the component only that update brought onto the incident leaves with it
    assert data["components"] == ["api"]
    assert "web" in data["timeline"][-1]["text"] and data["timeline"][-1]["kind"] == "scope"
    assert "U2" in ok(repo, "show", iid)  # show still lists it, marked

    out = build_site(repo, tmp_path / "site")
    files_out = site_files(out)
    assert [name for name, text in files_out.items() if MARK in text] == []
    assert "A fix is deployed." in files_out[f"incidents/{iid}.html"]
    assert len(feed_entries(out)) == 2
    api = api_incident(out, iid)
    assert [u["body"] for u in api["incident_updates"]] == [
        "A fix is deployed.",
        "Checkout is slow for some customers.",
    ]
    # ids and anchors of the remaining updates did not move
    assert [u["id"] for u in api["incident_updates"]] == [f"{iid}-3", f"{iid}-1"]
    assert 'id="update-3"' in files_out[f"incidents/{iid}.html"]
    # the retracted update's component status is gone too
    assert "web" not in [c["id"] for c in api["components"]]
    assert_api_matches_statuspage_v2(out)


def test_retracting_the_only_public_update_takes_the_incident_off_the_page(
    repo: Path, tmp_path: Path
) -> None:
    iid = investigating(repo)
    ok(repo, "retract", iid, "U1", "--reason", "announced too early")
    out = build_site(repo, tmp_path / "site")
    assert not (out / "incidents" / f"{iid}.html").exists()
    assert "Checkout is slow" not in (out / "history.atom").read_text()


def test_amending_and_retracting_a_note(repo: Path) -> None:
    iid = investigating(repo)
    ok(repo, "note", iid, "Pool at 10%", "--kind", "finding", "--at", "2026-03-01T10:20:00Z")
    before = head(repo)
    ok(repo, "amend", iid, "N5", "--message", "Pool at 100%")
    assert_one_commit(repo, before, Incident_Id=iid)
    data = record(repo, iid)
    note = next(e for e in data["timeline"] if e["ref"] == "N5")
    assert note["text"] == "Pool at 100%" and note["amended"]["actor"] == "Test Responder"
    before = head(repo)
    ok(repo, "retract", iid, "N5", "--reason", "wrong dashboard")
    assert_one_commit(repo, before, Incident_Id=iid)
    note = next(e for e in record(repo, iid)["timeline"] if e["ref"] == "N5")
    assert note["retracted"]["reason"] == "wrong dashboard"


CORRECTION_REFUSALS = [
    (("amend", "INC-0001", "U9", "--message", "x"), "INC-0001 has no U9"),
    (("amend", "INC-0001", "X1", "--message", "x"), "X1"),
    (("amend", "INC-0001", "U1", "--message", " "), "needs"),
    (("amend", "INC-0001", "U1", "--message", "Checkout is slow for some customers."), "same"),
    (("amend", "INC-0001", "N1", "--message", "x"), "only notes and public updates"),
    (("retract", "INC-0001", "N1", "--reason", "x"), "only notes and public updates"),
    (("retract", "INC-0001", "U1", "--reason", " "), "--reason"),
    (("retract", "INC-0001", "U2", "--reason", "again"), "retracted already"),
    (("amend", "INC-0001", "U2", "--message", "new"), "retracted"),
]


@pytest.mark.parametrize(
    ("args", "message"),
    CORRECTION_REFUSALS,
    ids=[f"{a[0]} {a[2]} {i}" for i, (a, _) in enumerate(CORRECTION_REFUSALS)],
)
def test_correction_refusals_change_nothing(
    repo: Path, args: tuple[str, ...], message: str
) -> None:
    iid = investigating(repo)
    ok(repo, "update", iid, "--status", "identified", "--message", "Second.")
    ok(repo, "retract", iid, "U2", "--reason", "too early")
    before = state(repo)
    result = run_cli(*args, cwd=repo)
    assert result.code == 2, result.err
    assert message in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert state(repo) == before


def test_scope_help_offers_public_and_private_and_both_together_are_refused(repo: Path) -> None:
    """Two flags rather than click's --public/--private pair: with the pair, the last one
    given would win, and `--public --private` (a slip that decides what the status page
    shows) would quietly mean --private instead of being refused."""
    shown = run_cli("scope", "--help", cwd=repo)
    assert shown.code == 0
    lines = " ".join(shown.out.split())
    assert "--public Show it on the status page." in lines
    assert "--private Keep it off the status page." in lines
    investigating(repo)
    for both in (("--public", "--private"), ("--private", "--public")):
        refused = run_cli("scope", "INC-0001", *both, cwd=repo)
        assert refused.code == 2 and refused.err.strip() == "--public and --private: choose one"
