"""Attack round 10 on `incidents ingest`: hostile payloads."""

from __future__ import annotations

import resource
import subprocess
from pathlib import Path

import git
import pytest

from .conftest import run_cli
from .console_helpers import SCRIPT, person_env, run_script

AS_OF = "2026-11-28T03:00:00Z"


@pytest.mark.xfail(
    strict=True,
    reason="a payload that is not UTF-8 on standard input is reported as a YAML error of "
    "incidents/INC-0001.yaml, a record that does not exist",
)
def test_a_payload_that_is_not_utf8_on_stdin_is_named_as_the_payload(repo: Path) -> None:
    head = git.Repo(repo).head.commit
    payload = b'{"title":"caf\xe9","status":"firing","dedup_key":"k"}'
    result = subprocess.run(
        [str(SCRIPT), "-C", str(repo), "ingest", "generic", "--as-of", AS_OF],
        input=payload,
        capture_output=True,
        env=person_env(),
        check=False,
        timeout=120,
    )
    err = result.stderr.decode()
    assert result.returncode == 2, err
    assert err.startswith("<stdin>"), err
    assert "INC-0001" not in err
    assert git.Repo(repo).head.commit == head


@pytest.mark.xfail(
    strict=True,
    reason="a lone surrogate escape in the payload's JSON is reported as a YAML error of "
    "incidents/INC-0001.yaml, a record that does not exist",
)
def test_a_lone_surrogate_in_the_payload_is_named_as_the_payload(repo: Path) -> None:
    payload = repo.parent / "payload.json"
    payload.write_text('{"title":"x\\ud800","status":"firing","dedup_key":"k"}')
    result = run_cli("ingest", "generic", str(payload), "--as-of", AS_OF, cwd=repo)
    assert result.code == 2, result.err
    assert result.err.startswith(str(payload)), result.err
    assert "INC-0001" not in result.err


def _limit_memory() -> None:
    limit = 1 << 30  # 1 GiB of address space: the CLI needs far less
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@pytest.mark.xfail(
    strict=True,
    reason="the payload file is read whole before its 2 MiB limit is checked: an endless "
    "file (a device, a FIFO) exhausts memory (MemoryError, exit 3)",
)
def test_an_endless_payload_file_is_refused_at_the_limit(repo: Path) -> None:
    result = subprocess.run(
        [str(SCRIPT), "-C", str(repo), "ingest", "generic", "/dev/zero", "--as-of", AS_OF],
        capture_output=True,
        text=True,
        env=person_env(),
        check=False,
        timeout=120,
        preexec_fn=_limit_memory,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr == "/dev/zero: the payload is bigger than 2 MiB\n"


ALERTMANAGER_LONE_SURROGATE = (
    '{"version":"4","groupKey":"{}:{alertname=\\"x\\ud800\\"}","status":"firing",'
    '"receiver":"incidents","groupLabels":{},"commonLabels":{},"commonAnnotations":{},'
    '"externalURL":"http://am","alerts":[{"status":"firing","labels":{"alertname":"x"},'
    '"annotations":{},"startsAt":"2026-11-28T02:00:00Z","endsAt":"0001-01-01T00:00:00Z",'
    '"generatorURL":"http://p","fingerprint":"f1"}]}'
)


@pytest.mark.xfail(
    strict=True,
    reason="a lone surrogate in the alert group's key (generic dedup_key, Alertmanager "
    "groupKey) reaches pending_path's encode(): UnicodeEncodeError, exit 3",
)
@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        ("generic", '{"title":"x","status":"firing","dedup_key":"k\\ud800"}'),
        ("alertmanager", ALERTMANAGER_LONE_SURROGATE),
    ],
    ids=["generic", "alertmanager"],
)
def test_a_lone_surrogate_in_the_group_key_is_refused_not_a_bug(
    repo: Path, fmt: str, text: str
) -> None:
    payload = repo.parent / "payload.json"
    payload.write_text(text)
    head = git.Repo(repo).head.commit
    result = run_script(repo, "ingest", fmt, str(payload), "--as-of", AS_OF)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(str(payload)), result.stderr
    assert git.Repo(repo).head.commit == head


@pytest.mark.xfail(
    strict=True,
    reason="a deeply nested payload (200 KB, under the 2 MiB limit) is RecursionError in "
    "json.loads, which read_payload does not catch: exit 3",
)
def test_a_deeply_nested_payload_is_refused_not_a_bug(repo: Path) -> None:
    payload = repo.parent / "payload.json"
    payload.write_text("[" * 100_000 + "]" * 100_000)
    head = git.Repo(repo).head.commit
    result = run_script(repo, "ingest", "generic", str(payload), "--as-of", AS_OF)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(str(payload)), result.stderr
    assert git.Repo(repo).head.commit == head
