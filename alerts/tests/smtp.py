"""A real SMTP server on 127.0.0.1 (aiosmtpd) for the tests, and what it received."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage

from aiosmtpd.controller import Controller


class Inbox:
    """What the SMTP server received, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))  # type: ignore[attr-defined]
        return "250 Message accepted"

    def texts(self, message: EmailMessage) -> tuple[str, str]:
        """(plain text, HTML) of a multipart message."""
        plain = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        return (plain.get_content() if plain else "", html.get_content() if html else "")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def smtp_server(settings) -> Iterator[Inbox]:
    """Start the server and point Django's SMTP backend (and SITE_URL) at it, through pytest-django's settings."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.SITE_URL = "https://rdv.example"
    try:
        yield inbox
    finally:
        controller.stop()
