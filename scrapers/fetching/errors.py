"""What can go wrong while fetching, and how a token is kept out of every message.

`ConnectorError` is the root: the whole fetch failed. Its message is precise English and never contains the
token. Connectors raise it too (for an answer they cannot read); the ingestion records it as a failed run.
"""

from __future__ import annotations

from urllib.parse import quote, quote_plus

REDACTED = "[redacted]"


def redact_token(text: str, token: str) -> str:
    """The text without the token, written raw or URL-encoded (in a path, or a query string's form)."""
    if token:
        # Longest first: no variant is left half-replaced by a shorter one.
        for form in sorted({token, quote(token, safe=""), quote(token), quote_plus(token)}, key=len)[::-1]:
            text = text.replace(form, REDACTED)
    return text


class ConnectorError(Exception):
    """The whole fetch failed (HTTP error, timeout, too big, refused address, bad content type...).

    The message is precise English and never contains the token.
    """


class ConfigError(ConnectorError):
    """A source's configuration does not fit its kind; the message names each offending option."""


class HttpError(ConnectorError):
    """A request failed. Subclasses say how."""


class BlockedAddressError(HttpError):
    """The URL points to a scheme or an address the guard refuses."""


class HttpTimeoutError(HttpError):
    pass


class ScrapeDeadlineError(HttpTimeoutError):
    """The scrape as a whole ran past its deadline (settings.SCRAPE_SOFT_TIME_LIMIT): no more requests."""


class ResponseTooLargeError(HttpError):
    pass


class ContentTypeError(HttpError):
    pass


class HttpStatusError(HttpError):
    """The server answered with a non-2xx status; `status` and `body` (excerpt, token redacted) are kept."""

    def __init__(self, message: str, *, status: int, body: str, url: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = body
        self.url = url


class HostBusyError(ConnectorError):
    """No permit for this host could be had in time."""
