"""Notice builders and channel payloads, against the services' own validators and real
servers on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from slack_sdk.models.blocks import Block

from incidents_cli.core import lifecycle
from incidents_cli.core.cadence import quiet_incidents
from incidents_cli.core.notifications import (
    Channel,
    Links,
    Notice,
    Snapshot,
    for_channel,
    in_order,
    quiet_notice,
    record_notices,
)
from incidents_cli.core.settings import (
    DEFAULT_ACK_WITHIN,
    DEFAULT_UPDATE_EVERY,
    Component,
    Settings,
)
from incidents_cli.integrations import chat, mail
from incidents_cli.site.model import build_page
from incidents_cli.site.notices import maintenance_notices, public_notices
from incidents_cli.site.public import IMPACT_OF_SEVERITY, maintenance_windows, public_incident
from tests.fakes.http_recorder import HttpRecorder
from tests.fakes.smtp_server import SmtpServer, self_signed_context

DATA = Path(__file__).parent / "data"
T0 = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
SETTINGS = Settings(
    components=(Component("api", "Public API"), Component("web", "Website")),
    people={"alice": "Alice", "bob": "Bob"},
)
LINKS = Links(
    site="https://status.example.com",
    record="https://git.example.com/acme/incidents/blob/main/{path}",
    component_names={"api": "Public API", "web": "Website"},
)
MARK = "SECRET-MARK"


def event(minutes: int) -> lifecycle.Event:
    at = T0 + timedelta(minutes=minutes)
    return lifecycle.Event("alice", at, SETTINGS, at)


def history() -> list[dict[str, Any]]:
    """Versions of one incident after each transition, markers in every internal field."""
    versions = []
    record = lifecycle.declare(
        "INC-0001",
        "Checkout errors",
        event(0),
        severity="high",
        components=["api"],
        regions=[f"eu-{MARK}"],
        summary=f"summary {MARK}",
    ).record
    versions.append(record)
    record = lifecycle.acknowledge(record, event(3)).record
    versions.append(record)
    record = lifecycle.assign(record, event(4), commander="alice", responders=["bob"]).record
    versions.append(record)
    record = lifecycle.note(record, event(5), f"note {MARK}", evidence=[f"ev {MARK}"]).record
    versions.append(record)
    record = lifecycle.public_update(
        record,
        event(10),
        status="identified",
        message="Payments fail for some users.",
        components={"api": "partial_outage"},
        eta=T0 + timedelta(hours=2),
    ).record
    versions.append(record)
    record = lifecycle.resolve(
        record,
        event(40),
        action="rollback",
        summary=f"rolled back {MARK}",
        verified_in=[f"eu-{MARK}"],
    ).record
    versions.append(record)
    return versions


def notices(
    old: Snapshot, new: Snapshot, audience: str, now: datetime, links: Links
) -> list[Notice]:
    """What the notify use case assembles for one audience."""
    views = [
        v for i, r in new.incidents.items() if (v := public_incident(r, new.postmortems.get(i)))
    ]
    windows = [w for r in new.maintenance.values() for w in maintenance_windows(r)]
    page = build_page(SETTINGS, views, windows, now)
    if audience == "public":
        found = public_notices(old, new, links, page)
    else:
        found = record_notices(old, new, audience, links)
    found += maintenance_notices(new, now, audience, links, page)
    return in_order(found, audience)


def snap(record: dict[str, Any] | None = None, **more: Any) -> Snapshot:
    incidents = {record["id"]: record} if record else {}
    return Snapshot(incidents=incidents, **more)


# --- which notices ---------------------------------------------------------------------------


def test_internal_audience_hears_every_phase_change_once_in_time_order() -> None:
    final = history()[-1]
    got = notices(snap(), snap(final), "internal", T0 + timedelta(hours=1), LINKS)
    assert [n.event for n in got] == [
        "declared",
        "acknowledged",
        "role_assigned",
        "public_update",
        "resolved",
    ]
    assert got[1].headline == "INC-0001 acknowledged: Checkout errors"
    assert ("Severity", "high") in [(f.label, f.value) for f in got[1].facts]
    assert got[3].link == "https://git.example.com/acme/incidents/blob/main/incidents/INC-0001.yaml"
    assert len({n.key for n in got}) == len(got)


def test_only_what_changed_between_two_versions_is_news() -> None:
    versions = history()
    got = notices(snap(versions[3]), snap(versions[4]), "internal", T0 + timedelta(hours=1), LINKS)
    assert [n.event for n in got] == ["public_update"]
    assert got[0].body == "Payments fail for some users."
    assert notices(snap(versions[4]), snap(versions[4]), "internal", T0, LINKS) == []


def test_public_audience_hears_nothing_before_the_first_public_update() -> None:
    versions = history()
    assert notices(snap(), snap(versions[3]), "public", T0 + timedelta(hours=1), LINKS) == []
    got = notices(snap(), snap(versions[-1]), "public", T0 + timedelta(hours=1), LINKS)
    assert [n.event for n in got] == ["public_update", "resolved"]
    assert got[0].link == "https://status.example.com/incidents/INC-0001.html"
    assert got[0].component_changes == (("api", "operational", "partial_outage"),)


def test_a_private_incident_never_reaches_a_public_audience() -> None:
    final = {**history()[-1], "public": False}
    assert notices(snap(), snap(final), "public", T0 + timedelta(hours=1), LINKS) == []
    assert notices(snap(), snap(final), "internal", T0 + timedelta(hours=1), LINKS)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []


def test_public_payloads_carry_no_internal_marker() -> None:
    final = history()[-1]
    channel = Channel("status", "webhook", "public")
    for notice in notices(snap(), snap(final), "public", T0 + timedelta(hours=1), LINKS):
        bodies = [
            chat.slack_payload(notice),
            chat.teams_payload(notice),
            chat.discord_payload(notice),
            *chat.webhook_payloads(notice, channel, chat.Context()),
        ]
        message = mail.build_message(notice, channel, ["a@example.com"], T0)
        text = json.dumps(bodies) + message.as_string()
        assert MARK not in text
        for name in ("alice", "bob", "rollback"):
            assert name not in text


def test_support_hears_public_updates_with_the_internal_summary_but_no_roles() -> None:
    final = history()[-1]
    got = notices(snap(), snap(final), "support", T0 + timedelta(hours=1), LINKS)
    assert [n.event for n in got] == ["public_update", "resolved"]
    update = got[0]
    assert f"summary {MARK}" in update.body
    assert ("ETA", "2026-03-01T16:00:00Z") in [(f.label, f.value) for f in update.facts]
    assert "alice" not in json.dumps(
        _strings([update.body, [(f.label, f.value) for f in update.facts]])
    )


def test_channel_filters_and_what_was_sent() -> None:
    final = history()[-1]
    got = notices(snap(), snap(final), "internal", T0 + timedelta(hours=1), LINKS)
    only_web = Channel("web", "slack", "internal", components=("web",))
    assert for_channel(only_web, got) == []
    critical = Channel("crit", "slack", "internal", severities=("critical",))
    assert for_channel(critical, got) == []
    updates = Channel("u", "slack", "internal", events=("public_update",))
    assert [n.event for n in for_channel(updates, got)] == ["public_update"]
    public = notices(snap(), snap(final), "public", T0 + timedelta(hours=1), LINKS)
    high = Channel("h", "slack", "public", severities=("high",))
    assert for_channel(high, public, impact_of=IMPACT_OF_SEVERITY) == public
    crit = Channel("c", "slack", "public", severities=("critical",))
    assert for_channel(crit, public, impact_of=IMPACT_OF_SEVERITY) == []
    every = Channel("all", "slack", "internal")
    assert for_channel(every, got, sent=[got[0].key]) == got[1:]
    assert for_channel(every, got, since=T0 + timedelta(minutes=5)) == got[3:]


def test_maintenance_is_announced_then_starts_then_ends() -> None:
    window = {
        "id": "db-upgrade",
        "title": "Database upgrade",
        "start": "2026-03-02T02:00:00Z",
        "end": "2026-03-02T03:00:00Z",
        "components": ["api"],
    }
    new = Snapshot(maintenance={"db-upgrade": window})
    channel = Channel("status", "webhook", "public")
    sent: list[str] = []

    def run(now: datetime, snapshot: Snapshot = new) -> list[Notice]:
        found = for_channel(channel, notices(Snapshot(), snapshot, "public", now, LINKS), sent=sent)
        sent.extend(n.key for n in found)
        return found

    before = datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert [n.event for n in run(before)] == ["maintenance_announced"]
    assert run(before + timedelta(hours=1)) == []
    moved = Snapshot(maintenance={"db-upgrade": {**window, "end": "2026-03-02T04:00:00Z"}})
    assert [n.event for n in run(before, moved)] == ["maintenance_announced"]
    during = datetime(2026, 3, 2, 2, 30, tzinfo=UTC)
    started = run(during)
    assert [n.event for n in started] == ["maintenance_started"]
    assert started[0].component_changes == (("api", "operational", "under_maintenance"),)
    assert run(during) == []
    after = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
    assert [n.event for n in run(after)] == ["maintenance_ended"]


def test_a_recurring_window_is_announced_one_occurrence_at_a_time() -> None:
    weekly = {
        "id": "patching",
        "title": "Weekly patching",
        "start": "2026-03-02T02:00:00Z",
        "end": "2026-03-02T03:00:00Z",
        "components": ["api"],
        "recurrence": "FREQ=WEEKLY;COUNT=3",
        "cancelled_occurrences": ["2026-03-09T02:00:00Z"],
    }
    new = Snapshot(maintenance={"patching": weekly})
    got = notices(Snapshot(), new, "public", datetime(2026, 3, 1, tzinfo=UTC), LINKS)
    assert [(n.event, n.subject) for n in got] == [("maintenance_announced", "patching-20260302")]
    later = notices(Snapshot(), new, "public", datetime(2026, 3, 3, tzinfo=UTC), LINKS)
    assert [(n.event, n.subject) for n in later] == [
        ("maintenance_ended", "patching-20260302"),
        ("maintenance_announced", "patching-20260316"),  # the 9th was called off
    ]


# --- cadence ---------------------------------------------------------------------------------


def _quiet(record: dict[str, Any], as_of: datetime) -> list[str]:
    found = quiet_incidents(
        [("incidents/x.yaml", 1, record)], DEFAULT_UPDATE_EVERY, DEFAULT_ACK_WITHIN, as_of
    )
    return [q.incident for q in found]


def test_cadence_at_the_edges_of_update_every() -> None:
    with_update = history()[4]  # high; last public update at T0+10m; update_every high = 1h
    last = T0 + timedelta(minutes=10)
    assert _quiet(with_update, last + timedelta(hours=1)) == []
    assert _quiet(with_update, last + timedelta(hours=1, seconds=1)) == ["INC-0001"]
    silent = history()[2]  # high, acknowledged, nothing said in public; ack window 15m
    assert _quiet(silent, T0 + timedelta(minutes=15)) == []
    assert _quiet(silent, T0 + timedelta(minutes=15, seconds=1)) == ["INC-0001"]
    assert _quiet(history()[-1], T0 + timedelta(days=1)) == []  # resolved: not quiet


def test_a_quiet_reminder_has_one_key_per_interval() -> None:
    record = history()[4]
    last = T0 + timedelta(minutes=10)

    def key(as_of: datetime) -> str:
        (quiet,) = quiet_incidents(
            [("p", 1, record)], DEFAULT_UPDATE_EVERY, DEFAULT_ACK_WITHIN, as_of
        )
        return quiet_notice(quiet, LINKS).key

    assert key(last + timedelta(hours=1, minutes=1)) == key(last + timedelta(hours=1, minutes=59))
    assert key(last + timedelta(hours=1, minutes=59)) != key(last + timedelta(hours=2))


# --- payloads against the services' validators ---------------------------------------------


def long_notice() -> Notice:
    final = history()[-1]
    (update, _) = notices(snap(), snap(final), "public", T0 + timedelta(hours=1), LINKS)
    from dataclasses import replace

    return replace(update, headline="H" * 400, body="<b>&" * 5000)


def test_slack_payload_passes_block_kit_validation_even_when_too_long() -> None:
    for notice in [long_notice(), *notices(snap(), snap(history()[-1]), "internal", T0, LINKS)]:
        payload = chat.slack_payload(notice)
        assert len(payload["blocks"]) <= 50
        for raw in payload["blocks"]:
            block = Block.parse(raw)
            assert block is not None
            block.validate_json()
    payload = chat.slack_payload(long_notice())
    assert payload["blocks"][1]["text"]["text"].startswith("&lt;b&gt;&amp;")


def test_teams_card_validates_against_the_adaptive_card_schema() -> None:
    schema = json.loads((DATA / "adaptive-card-1.4.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft6Validator(schema)
    for notice in [long_notice(), *notices(snap(), snap(history()[-1]), "internal", T0, LINKS)]:
        payload = chat.teams_payload(notice)
        assert payload["type"] == "message"
        (attachment,) = payload["attachments"]
        assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
        errors = list(validator.iter_errors(attachment["content"]))
        assert errors == [], errors[0].message if errors else ""
        assert attachment["content"]["version"] == "1.4"


def test_discord_embed_stays_within_its_limits() -> None:
    embed = chat.discord_payload(long_notice())["embeds"][0]
    assert len(embed["title"]) <= 256
    assert len(embed["description"]) <= 4096
    total = len(embed["title"]) + len(embed["description"]) + len(embed["footer"]["text"])
    total += sum(len(f["name"]) + len(f["value"]) for f in embed["fields"])
    assert total <= 6000


def test_webhook_is_statuspage_shaped_and_signed_over_the_exact_body() -> None:
    final = history()[-1]
    (update, _) = notices(snap(), snap(final), "public", T0 + timedelta(hours=1), LINKS)
    channel = Channel("hook", "webhook", "public", secret_env="HOOK_SECRET")
    context = chat.Context(
        page={"id": "incidents", "status_indicator": "minor", "status_description": "x"},
        generated_at="2026-03-01T15:00:00Z",
    )
    requests = chat.requests_for(channel, update, context, secret="s3cret")
    assert [sorted(r.payload()) for r in requests] == [
        ["incident", "meta", "notice", "page"],
        ["component", "component_update", "meta", "page"],
    ]
    incident = requests[0].payload()["incident"]
    assert incident["id"] == "INC-0001" and incident["status"] == "resolved"
    bodies = [u["body"] for u in incident["incident_updates"]]  # newest first
    assert bodies == ["This incident has been resolved.", "Payments fail for some users."]
    assert requests[1].payload()["component_update"]["old_status"] == "operational"
    assert requests[1].payload()["component_update"]["new_status"] == "partial_outage"
    with HttpRecorder() as server:
        chat.post_all(server.url("/hook"), requests)
        got = server.at("/hook")
    assert [r.body for r in got] == [r.body for r in requests]
    import hashlib
    import hmac

    for received in got:
        expected = hmac.new(b"s3cret", received.body, hashlib.sha256).hexdigest()
        assert received.header("X-Incidents-Signature-256") == f"sha256={expected}"
        assert received.header("Content-Type") == "application/json; charset=utf-8"
        assert received.header("X-Incidents-Event") == "public_update"


def test_a_failed_post_names_the_channel_and_the_status_never_the_url() -> None:
    notice = long_notice()
    requests = chat.requests_for(Channel("chat", "slack", "public"), notice, chat.Context())
    with HttpRecorder() as server:
        server.fail("/secret-token", 500)
        with pytest.raises(chat.DeliveryError) as caught:
            chat.post_all(server.url("/secret-token"), requests)
    assert "chat" in str(caught.value) and "HTTP 500" in str(caught.value)
    assert "secret-token" not in str(caught.value)


# --- mail --------------------------------------------------------------------------------------


def test_mail_has_plain_and_html_parts_and_list_unsubscribe() -> None:
    notice = long_notice()
    channel = Channel(
        "subs",
        "email",
        "public",
        sender="Status <status@example.com>",
        unsubscribe="https://status.example.com/unsubscribe?email={email}",
    )
    (outgoing,) = mail.messages_for(notice, channel, ["ann@example.com"], T0)
    assert outgoing.to == ("ann@example.com",)
    message = outgoing.message
    assert message["To"] == "ann@example.com"
    assert message["List-Unsubscribe"] == (
        "<https://status.example.com/unsubscribe?email=ann@example.com>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",))
    rich = message.get_body(("html",))
    assert plain is not None and rich is not None
    assert "<b>&" in plain.get_content()
    assert "&lt;b&gt;&amp;" in rich.get_content()


def test_parse_subscribers_skips_comments_and_repeats() -> None:
    text = "# status subscribers\nann@example.com\n\nAnn@Example.com  # again\nnot-an-address\n"
    assert mail.parse_subscribers(text) == ["ann@example.com"]


@pytest.mark.parametrize("security", ["none", "starttls", "tls"])
def test_mail_reaches_a_real_smtp_server(
    security: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = None
    if security != "none":
        context, cert = self_signed_context(tmp_path)
        monkeypatch.setenv("SSL_CERT_FILE", cert)
    notice = long_notice()
    channel = Channel(
        "team",
        "email",
        "internal",
        to=("oncall@example.com", "sre@example.com"),
        sender="status@example.com",
    )
    with SmtpServer(context, implicit=security == "tls") as smtp:
        server = mail.Server("127.0.0.1", smtp.port, security)
        with mail.Mailer(server, "team") as mailer:
            for outgoing in mail.messages_for(notice, channel, [], T0):
                assert mailer.send(outgoing, notice.key) == {}
        (received,) = smtp.received
    assert received.rcpt_tos == ["oncall@example.com", "sre@example.com"]
    assert received.tls is (security != "none")
    parsed: EmailMessage = received.message
    assert parsed["Subject"] == " ".join(notice.headline.split())
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]


def test_a_severity_change_is_news_for_internal_channels_only() -> None:
    before = history()[4]
    after = lifecycle.change_severity(before, event(20), "critical").record
    internal = notices(snap(before), snap(after), "internal", T0 + timedelta(hours=1), LINKS)
    assert [(n.event, n.body) for n in internal] == [
        ("severity_changed", "Severity changed from high to critical")
    ]
    assert notices(snap(before), snap(after), "public", T0 + timedelta(hours=1), LINKS) == []
    assert notices(snap(before), snap(after), "support", T0 + timedelta(hours=1), LINKS) == []


def test_the_update_resolve_and_reopen_post_is_told_once_by_that_event() -> None:
    resolved = history()[-1]
    reopened = lifecycle.reopen(resolved, event(50), "errors are back").record
    now = T0 + timedelta(hours=1)
    for audience in ("public", "internal"):
        got = notices(snap(resolved), snap(reopened), audience, now, LINKS)
        assert [n.event for n in got] == ["reopened"], audience
    public = notices(snap(resolved), snap(reopened), "public", now, LINKS)
    assert public[0].body == lifecycle.REOPENED_MESSAGE
    before = history()[-2]
    for audience in ("public", "internal"):
        got = notices(snap(before), snap(resolved), audience, now, LINKS)
        assert [n.event for n in got] == ["resolved"], audience


def test_a_url_git_or_a_person_mangled_is_one_delivery_error_naming_no_secret() -> None:
    from incidents_cli.integrations.chat import DeliveryError, Poster, Request

    poster = Poster("http://127.0.0.1:9/hook\x00secret")
    with pytest.raises(DeliveryError) as caught:
        poster.post(Request("ops", "INC-0001/declared", b"{}", {}))
    assert "ops: could not deliver INC-0001/declared" in str(caught.value)
    assert "secret" not in str(caught.value)
