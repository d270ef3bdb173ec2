"""Chat and webhook channels: Slack, Microsoft Teams, Discord and a Statuspage-shaped webhook.

One module per outside service family; this one turns a ``Notice`` into each service's JSON
and POSTs it with httpx (the project's one HTTP client). The payload builders are pure and
keep within each service's documented limits, so a long update is cut, never refused:
- Slack incoming webhooks, Block Kit: at most 50 blocks, header text 150 characters, section
  text 3000, section fields 10 of 2000 each, context elements 10.
- Teams workflow webhooks: a message with one Adaptive Card attachment, card version 1.4 (the
  version Teams renders on desktop, web and mobile alike).
- Discord webhooks: embed title 256, description 4096, 25 fields of 256/1024, footer 2048, and
  6000 characters over the whole embed.
- ``webhook``: Atlassian Statuspage's subscriber notification (``meta``, ``page``, then
  ``incident`` with ``incident_updates`` newest first, or ``component_update`` and
  ``component``), signed with HMAC-SHA256 of the exact body when a secret is configured.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from incidents_cli.core.errors import IncidentsError
from incidents_cli.core.notifications import Channel, Notice
from incidents_cli.core.text import clip
from incidents_cli.core.timeutil import format_time

SLACK_MAX_BLOCKS = 50
SLACK_HEADER_MAX = 150
SLACK_TEXT_MAX = 3000
SLACK_FIELDS_MAX = 10
SLACK_FIELD_MAX = 2000
SLACK_CONTEXT_MAX = 10
DISCORD_TITLE_MAX = 256
DISCORD_DESCRIPTION_MAX = 4096
DISCORD_FIELDS_MAX = 25
DISCORD_FIELD_NAME_MAX = 256
DISCORD_FIELD_VALUE_MAX = 1024
DISCORD_FOOTER_MAX = 2048
DISCORD_TOTAL_MAX = 6000
ADAPTIVE_CARD_VERSION = "1.4"
ADAPTIVE_CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
SIGNATURE_HEADER = "X-Incidents-Signature-256"
TIMEOUT_SECONDS = 10.0

# event -> colour (Discord's embed colour and Teams' container style)
COLOUR = {
    "declared": 0xD93F0B,
    "acknowledged": 0xFBCA04,
    "escalation_due": 0xB60205,
    "update_due": 0xFBCA04,
    "resolved": 0x0E8A16,
    "maintenance_announced": 0x1D76DB,
    "maintenance_started": 0x1D76DB,
    "maintenance_ended": 0x0E8A16,
}
DEFAULT_COLOUR = 0x5319E7


class DeliveryError(IncidentsError):
    """A channel did not take a message; the next run retries it."""

    exit_code = 1


def cut(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, marked with an ellipsis when cut."""
    return clip(text, limit)


def _is_url(link: str | None) -> bool:
    return bool(link) and str(link).startswith(("https://", "http://"))


# --- Slack -------------------------------------------------------------------------------


def slack_escape(text: str) -> str:
    """Slack's mrkdwn treats &, < and > as control characters; these three must be escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(notice: Notice) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": cut(notice.headline, SLACK_HEADER_MAX)},
        }
    ]
    if notice.body.strip():
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": cut(slack_escape(notice.body), SLACK_TEXT_MAX)},
            }
        )
    facts = list(notice.facts)
    for start in range(0, len(facts), SLACK_FIELDS_MAX):
        chunk = facts[start : start + SLACK_FIELDS_MAX]
        blocks.append(
            {
                "type": "section",
                "fields": [
                    {
                        "type": "mrkdwn",
                        "text": cut(
                            f"*{slack_escape(f.label)}*\n{slack_escape(f.value)}", SLACK_FIELD_MAX
                        ),
                    }
                    for f in chunk
                ],
            }
        )
    context = [{"type": "mrkdwn", "text": format_time(notice.at)}]
    if notice.link:
        shown = (
            f"<{notice.link}|{slack_escape(notice.subject)}>"
            if _is_url(notice.link)
            else slack_escape(notice.link)
        )
        context.append({"type": "mrkdwn", "text": cut(shown, SLACK_TEXT_MAX)})
    blocks.append({"type": "context", "elements": context[:SLACK_CONTEXT_MAX]})
    return {"text": cut(notice.headline, SLACK_TEXT_MAX), "blocks": blocks[:SLACK_MAX_BLOCKS]}


# --- Microsoft Teams -----------------------------------------------------------------------


def adaptive_card(notice: Notice) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": notice.headline,
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
        }
    ]
    if notice.body.strip():
        body.append({"type": "TextBlock", "text": notice.body, "wrap": True})
    facts = [{"title": f.label, "value": f.value} for f in notice.facts]
    if notice.link and not _is_url(notice.link):
        facts.append({"title": "Record", "value": notice.link})
    facts.append({"title": "Time", "value": format_time(notice.at)})
    body.append({"type": "FactSet", "facts": facts})
    card: dict[str, Any] = {
        "$schema": ADAPTIVE_CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": ADAPTIVE_CARD_VERSION,
        "fallbackText": notice.headline,
        "body": body,
    }
    if notice.link and _is_url(notice.link):
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open", "url": notice.link}]
    return card


def teams_payload(notice: Notice) -> dict[str, Any]:
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": adaptive_card(notice),
            }
        ],
    }


# --- Discord -------------------------------------------------------------------------------


def discord_payload(notice: Notice) -> dict[str, Any]:
    title = cut(notice.headline, DISCORD_TITLE_MAX)
    footer = cut(notice.subject, DISCORD_FOOTER_MAX)
    pairs = [
        (cut(f.label, DISCORD_FIELD_NAME_MAX), cut(f.value or "-", DISCORD_FIELD_VALUE_MAX))
        for f in notice.facts[:DISCORD_FIELDS_MAX]
    ]
    fields = [{"name": name, "value": value, "inline": True} for name, value in pairs]
    used = len(title) + len(footer) + sum(len(name) + len(value) for name, value in pairs)
    room = max(0, min(DISCORD_DESCRIPTION_MAX, DISCORD_TOTAL_MAX - used))
    embed: dict[str, Any] = {
        "title": title,
        "description": cut(notice.body, room) if room else "",
        "timestamp": format_time(notice.at),
        "color": COLOUR.get(notice.event, DEFAULT_COLOUR),
        "fields": fields,
        "footer": {"text": footer},
    }
    if _is_url(notice.link):
        embed["url"] = notice.link
    return {"embeds": [embed], "allowed_mentions": {"parse": []}}


# --- the Statuspage-shaped webhook --------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What the webhook shape needs beyond the notice: the page's status as the site computes
    it (a public notice carries its own Statuspage document, built from the public view)."""

    page: Mapping[str, Any] = field(default_factory=dict)
    component_names: Mapping[str, str] = field(default_factory=dict)
    generated_at: str = ""


def _notice_document(notice: Notice) -> dict[str, Any]:
    return {
        "event": notice.event,
        "audience": notice.audience,
        "at": format_time(notice.at),
        "subject": notice.subject,
        "headline": notice.headline,
        "text": notice.body,
        "facts": {f.label: f.value for f in notice.facts},
        "link": notice.link,
    }


def webhook_payloads(notice: Notice, channel: Channel, context: Context) -> list[dict[str, Any]]:
    """One ``incident`` notification, then one ``component_update`` per component change."""
    meta = {
        "unsubscribe": channel.unsubscribe,
        "documentation": None,
        "generated_at": context.generated_at or format_time(notice.at),
    }
    document = notice.document
    if document is None:
        # Not a public notice: say only what this audience may hear, in the same frame.
        document = {
            "id": notice.subject,
            "name": notice.headline,
            "status": notice.event,
            "updated_at": format_time(notice.at),
            "shortlink": notice.link,
            "incident_updates": [],
        }
    out: list[dict[str, Any]] = [
        {
            "meta": meta,
            "page": dict(context.page),
            "incident": dict(document),
            "notice": _notice_document(notice),
        }
    ]
    for number, (component, old, new) in enumerate(notice.component_changes, start=1):
        out.append(
            {
                "meta": meta,
                "page": dict(context.page),
                "component_update": {
                    "id": f"{notice.key}#{number}",
                    "component_id": component,
                    "component_type": "Component",
                    "created_at": format_time(notice.at),
                    "old_status": old,
                    "new_status": new,
                },
                "component": {
                    "id": component,
                    "name": context.component_names.get(component, component),
                    "status": new,
                    "updated_at": format_time(notice.at),
                },
            }
        )
    return out


def signature(secret: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256 over the exact body, as GitHub signs its webhooks."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


# --- requests ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One HTTP POST, complete: what --dry-run shows and what is sent."""

    channel: str
    key: str
    body: bytes
    headers: dict[str, str]

    def payload(self) -> Any:
        return json.loads(self.body)


def encode(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


BUILDERS: dict[str, Callable[[Notice], dict[str, Any]]] = {
    "slack": slack_payload,
    "teams": teams_payload,
    "discord": discord_payload,
}


def requests_for(
    channel: Channel, notice: Notice, context: Context, secret: str | None = None
) -> list[Request]:
    if channel.type == "webhook":
        payloads = webhook_payloads(notice, channel, context)
    else:
        payloads = [BUILDERS[channel.type](notice)]
    delivery = hashlib.sha256(f"{channel.name}\0{notice.key}".encode()).hexdigest()[:32]
    out = []
    for number, payload in enumerate(payloads):
        body = encode(payload)
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if channel.type == "webhook":
            headers["X-Incidents-Event"] = notice.event
            headers["X-Incidents-Delivery"] = f"{delivery}-{number}"
            if secret:
                headers[SIGNATURE_HEADER] = signature(secret, body)
        out.append(Request(channel.name, notice.key, body, headers))
    return out


class Poster:
    """POSTs requests to one URL with a shared httpx client; 2xx is success, anything else
    (a redirect too, as Statuspage counts it) is a failure that names the channel, never the
    URL (it is a secret)."""

    def __init__(self, url: str, timeout: float = TIMEOUT_SECONDS) -> None:
        import httpx  # imported when a message is actually sent: --help stays fast

        self._httpx = httpx
        self.url = url
        self.client = httpx.Client(timeout=timeout, follow_redirects=False)

    def post(self, request: Request) -> None:
        try:
            response = self.client.post(self.url, content=request.body, headers=request.headers)
        except (self._httpx.HTTPError, self._httpx.InvalidURL) as error:  # not an HTTPError
            raise DeliveryError(
                f"{request.channel}: could not deliver {request.key}: {type(error).__name__}"
            ) from None
        if not 200 <= response.status_code < 300:
            raise DeliveryError(
                f"{request.channel}: could not deliver {request.key}: HTTP {response.status_code}"
            )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Poster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def post_all(url: str, requests: Sequence[Request]) -> None:
    with Poster(url) as poster:
        for request in requests:
            poster.post(request)
