"""Hostile cases for notify's mail delivery: servers that refuse, drop or are stopped."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.fakes.http_recorder import HttpRecorder
from tests.fakes.smtp_server import SmtpServer
from tests.test_notify_cli import (
    AS_OF,
    CHANNELS,
    _git,
    clone,
    incident,
    notify,
    origin,
    sent,
    servers,
)

__all__ = ["origin", "servers"]  # the fixtures, used by name


def test_a_message_refused_for_good_at_data_stops_only_its_recipient(
    origin: Path, tmp_path: Path, servers: tuple[HttpRecorder, SmtpServer]
) -> None:
    """A 554 after DATA for one subscriber's own message (a mailbox's content policy) is that
    subscriber's refusal, like a 550 at RCPT: it stopped the whole channel, so everyone listed
    after that subscriber, and every later notice, was never mailed, run after run."""
    _, smtp = servers
    work = clone(origin, tmp_path / "work")
    (work / "subscribers.txt").write_text("ann@example.com\nben@example.com\ncat@example.com\n")
    _git(work, "commit", "-qam", "three subscribers")
    incident(work)
    _git(work, "push", "-q", "origin", "main")

    def mailed() -> Counter[str]:
        return Counter(to for m in smtp.received for to in m.rcpt_tos)

    smtp.reject_data("ben@example.com")
    code, report = notify(work, "--channel", "subscribers")
    assert code == 1
    assert "ben@example.com: 554 5.7.1" in report["channels"][0]["error"]
    assert mailed() == {"ann@example.com": 2, "cat@example.com": 2}
    code, report = notify(clone(origin, tmp_path / "second"), "--channel", "subscribers")
    assert code == 1 and mailed() == {"ann@example.com": 2, "cat@example.com": 2}
    smtp.reject_data()
    code, report = notify(clone(origin, tmp_path / "third"), "--channel", "subscribers")
    assert code == 0, report
    assert sent(report)["subscribers"] == ["public_update", "resolved"]
    assert mailed() == {"ann@example.com": 2, "ben@example.com": 2, "cat@example.com": 2}


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_run_stopped_mid_channel_pushes_what_it_sent_before_it_ends(
    origin: Path, tmp_path: Path, servers: tuple[HttpRecorder, SmtpServer], stop: int
) -> None:
    """A run stopped in the middle of a channel (Ctrl-C; SIGTERM from a cancelled CI job or
    `timeout`) must push what that channel was told: only earlier channels' states were
    pushed, and SIGTERM ended Python at once, so the next run on a fresh clone told
    everything again. Now a fresh clone repeats at most the message in flight."""

    http, _ = servers
    repo = clone(origin, tmp_path / "a")
    incident(repo)
    _git(repo, "push", "-q", "origin", "main")
    exe = shutil.which("incidents", path=str(Path(sys.executable).parent))
    assert exe is not None, "the console script is installed with the package"
    arrived, release = http.hold("/slack", 3)
    process = subprocess.Popen(
        [
            exe,
            "-C",
            str(repo),
            "notify",
            "--as-of",
            "2026-03-01T15:00:00Z",
            "--channel",
            "ops-slack",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
        # Ctrl-C as at a terminal: a test run started in the background (`cmd &` in a
        # script) ignores SIGINT, and the CLI would inherit that and never be interrupted
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert arrived.wait(timeout=60), "the third message never arrived"
        process.send_signal(stop)
        _, err = process.communicate(timeout=30)
    finally:
        release.set()
    assert process.returncode == 130, err
    code, report = notify(clone(origin, tmp_path / "fresh"), "--channel", "ops-slack")
    assert code == 0, report
    assert sent(report)["ops-slack"] == ["role_assigned", "public_update", "resolved"]


def test_a_non_ascii_subscriber_on_a_server_without_smtputf8_stops_only_that_subscriber(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """smtplib will not send to a non-ASCII address unless the server offers SMTPUTF8: that
    raised, stopping the channel, so everyone listed after such a subscriber, and every
    later notice, was never mailed, run after run. It is that subscriber's refusal."""
    with HttpRecorder() as http, SmtpServer(smtputf8=False) as smtp:
        for name in ("HOOK_URL", "SLACK_URL", "TEAMS_URL", "DISCORD_URL", "PUBLIC_SLACK_URL"):
            monkeypatch.setenv(name, http.url("/x"))
        seed = tmp_path / "seed"
        assert run_cli("init", str(seed)).code == 0
        settings = seed / "incidents.yaml"
        settings.write_text(
            settings.read_text(encoding="utf-8") + CHANNELS.format(port=smtp.port),
            encoding="utf-8",
        )
        (seed / "subscribers.txt").write_text(
            "ann@example.com\njosé@example.com\ncat@example.com\n", encoding="utf-8"
        )
        _git(seed, "add", "incidents.yaml", "subscribers.txt")
        _git(seed, "commit", "-qm", "three subscribers, one with a non-ASCII address")
        work = clone(seed, tmp_path / "work")
        incident(work)
        code, report = notify(work, "--channel", "subscribers")
        assert code == 1
        assert "josé@example.com: " in report["channels"][0]["error"]
        mailed = Counter(to for m in smtp.received for to in m.rcpt_tos)
        assert mailed == {"ann@example.com": 2, "cat@example.com": 2}


def test_two_runs_at_once_on_two_clones_tell_each_message_once(
    origin: Path, tmp_path: Path, servers: tuple[HttpRecorder, SmtpServer]
) -> None:
    http, _ = servers
    work = clone(origin, tmp_path / "work")
    incident(work)
    _git(work, "push", "-q", "origin", "main")
    first, second = clone(origin, tmp_path / "a"), clone(origin, tmp_path / "b")
    exe = shutil.which("incidents", path=str(Path(sys.executable).parent))
    assert exe is not None
    arrived, release = http.hold("/slack", 1)
    args = ["notify", "--as-of", "2026-03-01T15:00:00Z", "--channel", "ops-slack"]
    process = subprocess.Popen(
        [exe, "-C", str(first), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=dict(os.environ),
    )
    try:
        assert arrived.wait(timeout=60), "the first run's first message never arrived"
        notify(second, "--channel", "ops-slack")  # a person runs notify while CI does
    finally:
        release.set()
        _, err = process.communicate(timeout=60)
    heads = [r.json()["text"].split(":")[0] for r in http.at("/slack")]
    assert heads.count("INC-0001 declared") == 1, heads
    assert len(heads) == len(set(heads)), heads
    # the held request never gets an answer (the fake's way): the first run says so
    assert process.returncode == 1 and b"could not deliver INC-0001/declared" in err, err
    assert _git(origin, "for-each-ref", "refs/incidents/notify-claims/") == ""  # released


def test_the_run_that_loses_the_claim_skips_the_channel_with_a_warning(
    origin: Path, tmp_path: Path, servers: tuple[HttpRecorder, SmtpServer]
) -> None:
    """A live claim of another run (another machine, not expired): skip, exit 0, say so."""
    http, _ = servers
    work = clone(origin, tmp_path / "work")
    incident(work)
    _git(work, "push", "-q", "origin", "main")
    claim = _plant_claim(origin, "ops-slack", host="ci-runner-7", expires=time.time() + 300)
    code, report = notify(clone(origin, tmp_path / "b"), "--channel", "ops-slack")
    assert code == 0, report
    assert report["channels"][0]["skipped"].startswith("another notify run is telling it (pid")
    assert any("ops-slack: skipped: " in w and "ci-runner-7" in w for w in report["warnings"])
    assert http.at("/slack") == []
    assert _git(origin, "rev-parse", "refs/incidents/notify-claims/ops-slack") == claim
    text = run_cli("notify", "--as-of", AS_OF, "--channel", "ops-slack", cwd=tmp_path / "b")
    assert text.code == 0 and "skipped: another notify run is telling it" in text.out
    # the remote's claim was fetched to be read, and nothing of it is left in the clone
    assert _git(tmp_path / "b", "for-each-ref", "refs/incidents/notify-claims-seen/") == ""


def test_an_expired_claim_is_taken_over_saying_so(
    origin: Path, tmp_path: Path, servers: tuple[HttpRecorder, SmtpServer]
) -> None:
    """A claim past its expiry (its run crashed on another machine) does not block forever."""
    work = clone(origin, tmp_path / "work")
    incident(work)
    _git(work, "push", "-q", "origin", "main")
    _plant_claim(origin, "ops-slack", host="ci-runner-7", expires=time.time() - 1)
    code, report = notify(clone(origin, tmp_path / "b"), "--channel", "ops-slack")
    assert code == 0, report
    assert any("took over the claim of pid 4242 on ci-runner-7" in w for w in report["warnings"])
    assert sent(report)["ops-slack"]
    assert _git(origin, "for-each-ref", "refs/incidents/notify-claims/") == ""
    assert _git(tmp_path / "b", "for-each-ref", "refs/incidents/notify-claims-seen/") == ""
    code, report = notify(clone(origin, tmp_path / "c"), "--channel", "ops-slack")
    assert code == 0 and sent(report)["ops-slack"] == []


def test_a_run_killed_outright_has_pushed_what_it_told(
    origin: Path, tmp_path: Path, servers: tuple[HttpRecorder, SmtpServer]
) -> None:
    """SIGKILL (a lost CI runner) runs no cleanup: the state was pushed only at the end, so a
    fresh clone told everything again. It is pushed after the first message and then every
    few seconds; the killed run's claim (this host, its pid gone) is taken over at once."""
    http, _ = servers
    work = clone(origin, tmp_path / "work")
    incident(work)
    _git(work, "push", "-q", "origin", "main")
    exe = shutil.which("incidents", path=str(Path(sys.executable).parent))
    assert exe is not None
    arrived, release = http.hold("/slack", 2)
    args = ["notify", "--as-of", "2026-03-01T15:00:00Z", "--channel", "ops-slack"]
    process = subprocess.Popen(
        [exe, "-C", str(clone(origin, tmp_path / "a")), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ),
    )
    try:
        assert arrived.wait(timeout=60), "the second message never arrived"
        process.kill()
        process.wait(timeout=30)
    finally:
        release.set()
    code, report = notify(clone(origin, tmp_path / "fresh"), "--channel", "ops-slack")
    assert code == 0, report
    assert any("that process is gone" in w for w in report["warnings"]), report["warnings"]
    heads = [r.json()["text"].split(":")[0] for r in http.at("/slack")]
    assert heads.count(heads[0]) == 1, heads  # the first message, pushed, is not told again
    assert len(heads) <= len(set(heads)) + 1, heads  # at most the one in flight twice


def _plant_claim(origin: Path, channel: str, host: str, expires: float) -> str:
    """Another run's claim on the remote, as that run would have pushed it."""
    data = {"channel": channel, "host": host, "pid": 4242, "started": "2026-03-01T14:00:00Z"}
    data["expires_epoch"] = expires
    blob = _git_input(origin, json.dumps(data), "hash-object", "-w", "--stdin")
    tree = _git_input(origin, f"100644 blob {blob}\tclaim.json\n", "mktree")
    commit = _git_input(origin, "claim\n", "commit-tree", tree)
    _git(origin, "update-ref", f"refs/incidents/notify-claims/{channel}", commit)
    return commit


def _git_input(path: Path, text: str, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=path, input=text, check=True, capture_output=True, text=True
    ).stdout.strip()


def test_two_runs_at_once_on_one_clone_without_a_remote_tell_each_message_once(
    origin: Path, tmp_path: Path, servers: tuple[HttpRecorder, SmtpServer]
) -> None:
    """No remote to claim on: a lock on the clone; the second run says who holds it."""
    http, _ = servers
    repo = clone(origin, tmp_path / "a")
    _git(repo, "remote", "remove", "origin")
    incident(repo)
    exe = shutil.which("incidents", path=str(Path(sys.executable).parent))
    assert exe is not None
    arrived, release = http.hold("/slack", 2)
    args = ["notify", "--as-of", "2026-03-01T15:00:00Z", "--channel", "ops-slack"]
    process = subprocess.Popen(
        [exe, "-C", str(repo), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ),
    )
    try:
        assert arrived.wait(timeout=60), "the first run's second message never arrived"
        second = run_cli(*args, cwd=repo)
    finally:
        release.set()
        process.wait(timeout=60)
    assert second.code == 0, second.err
    assert f"another incidents notify is running on this clone (pid {process.pid} " in second.err
    assert len(http.at("/slack")) == 2
