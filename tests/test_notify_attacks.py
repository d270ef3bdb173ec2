"""Hostile cases for notify's mail delivery: servers that refuse, drop or are stopped."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tests.fakes.http_recorder import HttpRecorder
from tests.fakes.smtp_server import SmtpServer
from tests.test_notify_cli import _git, clone, incident, notify, origin, sent, servers

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
