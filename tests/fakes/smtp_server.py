"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message it receives.

STARTTLS is offered when a TLS context is given (a self-signed certificate made in the test),
so the client's upgrade path is exercised against a real handshake.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    tls: bool

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    """Addresses (lower case) refused at RCPT TO, as a server refuses an unknown mailbox."""
    fail_data: set[str] = field(default_factory=set)
    """Addresses (lower case) whose message fails after DATA (451): the whole send fails."""
    reject_data: set[str] = field(default_factory=set)
    """Addresses (lower case) whose message is refused for good after DATA (554), as a
    server's content policy for one mailbox does."""

    async def handle_RCPT(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.lower() in self.refuse:
            return "550 5.1.1 <" + address + ">: no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        if any(to.lower() in self.fail_data for to in envelope.rcpt_tos):
            return "451 4.3.0 try again later"
        if any(to.lower() in self.reject_data for to in envelope.rcpt_tos):
            return "554 5.7.1 message refused by the recipient's policy"
        data = envelope.original_content or b""
        self.received.append(
            Received(
                mail_from=str(envelope.mail_from),
                rcpt_tos=list(envelope.rcpt_tos),
                data=data,
                # STARTTLS sets session.ssl; implicit TLS shows on the transport
                tls=session.ssl is not None
                or server.transport.get_extra_info("ssl_object") is not None,
            )
        )
        return "250 OK"


def _free_port() -> int:
    # aiosmtpd's Controller checks that it is up by connecting to the port it was given, so it
    # needs a real port number rather than 0.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpServer:
    """``with SmtpServer() as smtp: smtp.port``; ``smtp.received``; ``smtp.refuse(address)``."""

    def __init__(
        self,
        tls_context: ssl.SSLContext | None = None,
        implicit: bool = False,
        smtputf8: bool = True,
    ) -> None:
        """``tls_context``: offer (and require) STARTTLS, or with ``implicit``, speak TLS from
        the first byte (port 465 style). ``smtputf8``: offer SMTPUTF8 (non-ASCII addresses)."""
        self.handler = _Handler()
        self.port = _free_port()
        if implicit:
            self.controller = Controller(
                self.handler, hostname="127.0.0.1", port=self.port, ssl_context=tls_context
            )
        else:
            self.controller = Controller(
                self.handler,
                hostname="127.0.0.1",
                port=self.port,
                tls_context=tls_context,
                require_starttls=tls_context is not None,
                enable_SMTPUTF8=smtputf8,
            )

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def refuse(self, *addresses: str) -> None:
        """Refuse these recipients from now on (none: accept everyone again)."""
        self.handler.refuse = {a.lower() for a in addresses}

    def fail_data(self, *addresses: str) -> None:
        """Fail every message to these recipients after DATA (none: accept everyone again)."""
        self.handler.fail_data = {a.lower() for a in addresses}

    def reject_data(self, *addresses: str) -> None:
        """Refuse every message to these recipients for good after DATA (none: accept)."""
        self.handler.reject_data = {a.lower() for a in addresses}

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def self_signed_context(folder: Any) -> tuple[ssl.SSLContext, str]:
    """A server TLS context with a fresh self-signed certificate for 127.0.0.1, and its path.

    Made with the ``cryptography`` package; returns (server context, certificate file) so the
    client can trust exactly that certificate.
    """
    import datetime as dt
    import ipaddress
    from pathlib import Path

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    folder = Path(folder)
    cert_path = folder / "cert.pem"
    key_path = folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert_path), str(key_path))
    return context, str(cert_path)
