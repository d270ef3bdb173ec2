"""What a cold build does before its work starts (git asked without waiting for it), the
blob id of each file read (hashed with whichever SHA-1 is loaded), and each view's JSON."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incidents_cli.site.inputs import view_json
from incidents_cli.store.git import blob_id

from .conftest import run_cli


def test_blob_ids_are_git_s_with_openssl_s_sha1_and_with_python_s_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = "id: INC-0001\ntitle: Ünïcode and\ttabs\n".encode() * 50
    expected = subprocess.run(
        ["git", "hash-object", "--stdin"], input=data, capture_output=True, check=True
    ).stdout.decode()
    import hashlib  # noqa: F401  (loaded: blob_id takes OpenSSL's)

    assert blob_id(data) == expected.strip()
    monkeypatch.delitem(sys.modules, "hashlib")  # a transition: not loaded for one file
    assert blob_id(data) == expected.strip()
    assert blob_id(b"") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"


def test_a_site_outside_git_builds_with_no_commit_time_and_no_commit_counts(
    tmp_path: Path,
) -> None:
    demo = tmp_path / "demo"
    assert run_cli("demo", str(demo)).code == 0
    plain = tmp_path / "plain"
    shutil.copytree(demo, plain, ignore=shutil.ignore_patterns(".git", "_site"))
    as_of = ("--as-of", "2030-01-01T00:00:00Z")
    inside = run_cli("site", "build", "--out", str(tmp_path / "in"), *as_of, cwd=demo)
    outside = run_cli("site", "build", "--out", str(tmp_path / "out"), *as_of, cwd=plain)
    assert (inside.code, outside.code) == (0, 0), outside.err
    assert (tmp_path / "out" / "index.html").read_bytes() == (
        tmp_path / "in" / "index.html"
    ).read_bytes()
    # without git, no maintenance window has a commit that changed it: each is SEQUENCE 0
    assert "SEQUENCE:" not in (tmp_path / "out" / "maintenance.ics").read_text().replace(
        "SEQUENCE:0", ""
    )
    # and without --as-of, "now" is the clock's (there is no HEAD to take it from)
    assert run_cli("site", "build", "--out", str(tmp_path / "now"), cwd=plain).code == 0


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=20,
    )
)
def test_a_view_s_json_reads_back_as_the_same_data(value: object) -> None:
    """orjson writes it where it can (Python's json where it refuses: integers over 64 bits,
    lone surrogates); ``json.loads`` reads either back as the data, as the cache reads it."""
    data = {"id": "INC-0001", "value": value}
    assert json.loads(view_json(data)) == data
