"""E-mail channels: one message with a plain-text and an HTML part, sent over SMTP.

Built with the standard library's ``email.message.EmailMessage`` (headers are encoded and
folded for us) and sent with ``smtplib`` over STARTTLS (port 587), implicit TLS (port 465),
or, for a relay on the same host only, plain SMTP. Every message carries ``List-Unsubscribe``
(RFC 2369) and, when the address is https, ``List-Unsubscribe-Post`` (RFC 8058), so mail
programs offer a one-click unsubscribe. Subscribers from a list each get their own message:
nobody sees who else is subscribed.

A recipient the server refuses is that recipient's failure, not the message's: `Mailer.send`
returns who was refused, so the caller remembers who did get it and mails only the others
again (each recipient hears each notice once).
"""

from __future__ import annotations

import contextlib
import html
import smtplib
import ssl
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from incidents_cli.core.notifications import Channel, Notice
from incidents_cli.core.timeutil import format_time
from incidents_cli.integrations.chat import DeliveryError

DEFAULT_PORT = {"starttls": 587, "tls": 465, "none": 25}
TIMEOUT_SECONDS = 20.0


def parse_subscribers(text: str) -> list[str]:
    """A subscriber list file: one address a line; blank lines and ``#`` comments skipped;
    duplicates (case-insensitive) once."""
    seen: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        _, address = parseaddr(line)
        if "@" in address:
            seen.setdefault(address.lower(), address)
    return list(seen.values())


def unsubscribe_link(channel: Channel, recipient: str) -> str:
    """The channel's unsubscribe template with {email} filled, or a mailto to the sender."""
    if channel.unsubscribe:
        return channel.unsubscribe.replace("{email}", recipient)
    sender = parseaddr(channel.sender or "")[1]
    return f"mailto:{sender}?subject=unsubscribe"


def plain_text(notice: Notice) -> str:
    lines = [notice.headline, "", notice.body.strip(), ""]
    lines += [f"{fact.label}: {fact.value}" for fact in notice.facts]
    lines.append(f"Time: {format_time(notice.at)}")
    if notice.link:
        lines += ["", notice.link]
    return "\n".join(lines).strip() + "\n"


def html_text(notice: Notice) -> str:
    e = html.escape
    rows = "".join(
        f'<tr><th align="left">{e(f.label)}</th><td>{e(f.value)}</td></tr>' for f in notice.facts
    )
    rows += f'<tr><th align="left">Time</th><td>{e(format_time(notice.at))}</td></tr>'
    body = "".join(f"<p>{e(p)}</p>" for p in notice.body.strip().split("\n\n") if p.strip())
    link = ""
    if notice.link:
        link = (
            f'<p><a href="{e(notice.link)}">{e(notice.link)}</a></p>'
            if notice.link.startswith(("https://", "http://"))
            else f"<p>{e(notice.link)}</p>"
        )
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{e(notice.headline)}</title></head><body>"
        f"<h1>{e(notice.headline)}</h1>{body}<table>{rows}</table>{link}</body></html>\n"
    )


def build_message(
    notice: Notice,
    channel: Channel,
    recipients: Sequence[str],
    now: datetime,
    *,
    unsubscribe_for: str | None = None,
) -> EmailMessage:
    """One message to ``recipients``; ``unsubscribe_for`` is the subscriber it is for."""
    sender = channel.sender or "incidents@localhost"
    message = EmailMessage()
    message["Subject"] = " ".join(notice.headline.split())
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(now)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    link = unsubscribe_link(channel, unsubscribe_for or parseaddr(recipients[0])[1])
    message["List-Unsubscribe"] = f"<{link}>"
    if link.startswith("https://"):
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["X-Incidents-Event"] = notice.event
    message.set_content(plain_text(notice))
    message.add_alternative(html_text(notice), subtype="html")
    return message


def recipient(address: str) -> str:
    """How a recipient is known and remembered: the bare address, in lower case."""
    return parseaddr(address)[1].lower()


def recipients_of(channel: Channel, subscribers: Sequence[str]) -> set[str]:
    """Everyone a notice of the channel goes to."""
    return {recipient(a) for a in (*channel.to, *subscribers)}


@dataclass(frozen=True)
class Outgoing:
    """One message and the envelope recipients it still has to reach."""

    message: EmailMessage
    to: tuple[str, ...]


def messages_for(
    notice: Notice,
    channel: Channel,
    subscribers: Sequence[str],
    now: datetime,
    *,
    skip: Collection[str] = (),
) -> list[Outgoing]:
    """The channel's own recipients together in one message; each subscriber alone. Nobody
    in ``skip`` (see `recipient`: those who have it already) is mailed, and a subscriber who
    is also one of the channel's own recipients gets the team's message only."""
    out = []
    own = {recipient(a): a for a in channel.to}
    left = tuple(a for key, a in own.items() if key not in skip)
    if left:
        out.append(Outgoing(build_message(notice, channel, list(channel.to), now), left))
    for address in subscribers:
        key = recipient(address)
        if key in own or key in skip:
            continue
        message = build_message(notice, channel, [address], now, unsubscribe_for=address)
        out.append(Outgoing(message, (address,)))
    return out


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    security: str
    username: str | None = None
    password: str | None = None


class Mailer:
    """One SMTP connection for a run's messages to one channel."""

    def __init__(self, server: Server, channel: str) -> None:
        self.channel = channel
        context = ssl.create_default_context()
        local = server.host in ("localhost", "127.0.0.1", "::1")
        if server.security == "none" and server.password and not local:
            raise DeliveryError(
                f"{channel}: security: none would send the SMTP password in clear text to "
                f"{server.host}; use starttls or tls (none is for a relay on this host)"
            )
        try:
            if server.security == "tls":
                self.smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    server.host, server.port, timeout=TIMEOUT_SECONDS, context=context
                )
            else:
                self.smtp = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT_SECONDS)
                if server.security == "starttls":
                    self.smtp.starttls(context=context)
            if server.username and server.password:
                self.smtp.login(server.username, server.password)
        except (OSError, smtplib.SMTPException) as error:
            with contextlib.suppress(Exception):
                self.smtp.close()  # made before starttls or login failed
            raise DeliveryError(
                f"{channel}: cannot reach the mail server {server.host}:{server.port} "
                f"({server.security}): {type(error).__name__}: {error}"
            ) from None

    def send(self, outgoing: Outgoing, key: str) -> dict[str, str]:
        """Send one message; returns the recipients the server refused (address: its reply),
        who did not get it. Any other failure raises: the connection is not to be trusted."""
        refused: dict[str, tuple[int, bytes | str]]
        try:
            refused = dict(self.smtp.send_message(outgoing.message, to_addrs=list(outgoing.to)))
        except smtplib.SMTPRecipientsRefused as error:
            refused = dict(error.recipients)  # all of them: the connection is reset and usable
        except smtplib.SMTPDataError as error:
            if error.smtp_code < 500:  # the server's trouble, for now: stop, try again later
                reply = _reply(error.smtp_code, error.smtp_error)
                raise DeliveryError(
                    f"{self.channel}: could not mail {key}: SMTPDataError: {reply}"
                ) from None
            # refused for good after DATA (a mailbox's policy): this message's recipients'
            # refusal, as at RCPT TO, not everyone's (smtplib reset the connection: usable)
            refused = {address: (error.smtp_code, error.smtp_error) for address in outgoing.to}
        except smtplib.SMTPNotSupportedError as error:
            if not any(_non_ascii(address) for address in outgoing.to):
                raise DeliveryError(
                    f"{self.channel}: could not mail {key}: SMTPNotSupportedError: {error}"
                ) from None
            # a subscriber's non-ASCII address, and a server without SMTPUTF8: theirs alone
            why = "the server does not take non-ASCII addresses (no SMTPUTF8)"
            return {address: why for address in outgoing.to}
        except smtplib.SMTPResponseException as error:
            reply = _reply(error.smtp_code, error.smtp_error)
            raise DeliveryError(
                f"{self.channel}: could not mail {key}: {type(error).__name__}: {reply}"
            ) from None
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryError(
                f"{self.channel}: could not mail {key}: {type(error).__name__}: {error}"
            ) from None
        return {address: _reply(code, text) for address, (code, text) in refused.items()}

    def close(self) -> None:
        try:
            self.smtp.quit()
        except (OSError, smtplib.SMTPException):
            self.smtp.close()

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _non_ascii(address: str) -> bool:
    return not address.isascii()


def _reply(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return " ".join(f"{code} {words}".split())
