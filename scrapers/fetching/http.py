"""The only way connectors talk to the outside world: a guarded, bounded, polite HTTP client.

`HttpClient` owns what every connector needs and none should re-implement:
- connect and read timeouts (settings.SCRAPER_TIMEOUT), and one deadline per exchange (twice that) covering
  connect, status line, headers and body: a watchdog shuts the socket down when it passes, so a server
  sending one byte at a time cannot hold a worker; and, when the caller sets `deadline`, one for the whole
  scrape, past which no request is sent;
- a response size cap (settings.SCRAPER_MAX_BYTES) enforced while streaming, before the body is in memory;
- at most 3 redirects, each target re-checked (scheme, address), the auth header dropped on a new origin;
- the SSRF guard (scrapers.fetching.guard): every address of a host is checked, then the socket connects to
  one of the checked addresses;
- http and https only; no proxies, .netrc or cookies from the environment;
- retries of idempotent requests on connection errors and 502/503/504, with a bounded exponential backoff;
- a per-host limit on requests in flight and a polite delay (scrapers.fetching.throttle), when given a
  limiter;
- the auth header injected into requests, never logged, and the token redacted from every error message;
- counters `calls` (requests sent, redirects and retries included) and `bytes_received` (body bytes read).

A response is checked against the content a connector expects with `expect(JSON)` (or CALENDAR, CSV, HTML,
or a connector's own `ContentKind`): a new kind of content needs no change here.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import socket
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3 import connection as urllib3_connection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError, ReadTimeoutError
from urllib3.exceptions import HTTPError as Urllib3Error

from scrapers.fetching.errors import (
    ConnectorError,
    ContentTypeError,
    HttpError,
    HttpStatusError,
    HttpTimeoutError,
    ResponseTooLargeError,
    ScrapeDeadlineError,
    redact_token,
)
from scrapers.fetching.guard import AddressGuard, Resolver, check_url, default_resolver
from scrapers.fetching.throttle import default_limiter

logger = logging.getLogger(__name__)

MAX_REDIRECTS = 3
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 token
RETRY_STATUSES = frozenset({502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ERROR_EXCERPT_CHARS = 300


@dataclasses.dataclass(frozen=True)
class ContentKind:
    """A kind of content and the Content-Types that carry it; "+json" matches any "application/...+json"."""

    name: str
    types: tuple[str, ...]

    def accepts(self, content_type: str) -> bool:
        return bool(content_type) and any(
            content_type == t or (t.startswith("+") and content_type.endswith(t)) for t in self.types
        )


JSON = ContentKind("json", ("application/json", "text/json", "+json"))
CALENDAR = ContentKind("calendar", ("text/calendar", "application/ics", "text/x-vcalendar"))
CSV = ContentKind("csv", ("text/csv", "application/csv", "text/plain", "application/vnd.ms-excel"))
HTML = ContentKind("html", ("text/html", "application/xhtml+xml"))


class _GuardedConnectionMixin:
    """Connects only to the addresses the guard checked (the connection's host name is kept for TLS/SNI).

    Each connection enters its client's `connections`, so that the exchange watchdog can shut it down.
    """

    guard: AddressGuard
    connections: weakref.WeakSet[Any]
    raw_sock: socket.socket | None = None
    _dns_host: str
    host: str
    port: int
    timeout: Any
    source_address: Any
    socket_options: Any

    def _new_conn(self) -> socket.socket:
        addresses = self.guard.checked_addresses(self._dns_host, self.port)
        last_error: OSError | None = None
        self.connections.add(self)
        for address in addresses:
            try:
                # Kept beside the TLS socket urllib3 wraps it in: the watchdog can end a stuck handshake too.
                self.raw_sock = urllib3_connection.connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
                return self.raw_sock
            except TimeoutError as exc:
                raise ConnectTimeoutError(
                    self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
                ) from exc
            except socket.gaierror as exc:
                raise NameResolutionError(self.host, self, exc) from exc  # type: ignore[arg-type]
            except OSError as exc:
                last_error = exc
        raise NewConnectionError(self, f"Failed to establish a new connection: {last_error}")


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose connection pools connect through an AddressGuard."""

    def __init__(self, guard: AddressGuard, **kwargs: Any) -> None:
        self.guard = guard
        self.connections: weakref.WeakSet[Any] = weakref.WeakSet()
        super().__init__(max_retries=0, **kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        attrs = {"guard": self.guard, "connections": self.connections}
        http_conn = type(
            "GuardedHTTPConnection", (_GuardedConnectionMixin, urllib3_connection.HTTPConnection), attrs
        )
        https_conn = type(
            "GuardedHTTPSConnection", (_GuardedConnectionMixin, urllib3_connection.HTTPSConnection), attrs
        )
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
            "https": type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
        }
        self.poolmanager.key_fn_by_scheme = dict(self.poolmanager.key_fn_by_scheme)


@dataclasses.dataclass
class HttpResponse:
    """A fully read response (the body is within the size cap)."""

    status_code: int
    url: str
    headers: CaseInsensitiveDict[str]
    content: bytes
    encoding: str | None

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()

    @property
    def text(self) -> str:
        """The body decoded with the declared charset (UTF-8 by default, a BOM removed)."""
        encoding = (self.encoding or "utf-8").lower()
        if encoding in {"utf-8", "utf8"}:
            encoding = "utf-8-sig"
        try:
            return self.content.decode(encoding)
        except LookupError:
            raise ConnectorError(f"{self.url} declares an unknown charset {self.encoding!r}") from None
        except UnicodeDecodeError as exc:
            raise ConnectorError(
                f"{self.url} is not valid {self.encoding or 'UTF-8'} text (byte {exc.start})"
            ) from None

    def expect(self, kind: ContentKind) -> HttpResponse:
        """Refuse a response whose Content-Type is not one of `kind`'s."""
        content_type = self.content_type
        if not kind.accepts(content_type):
            shown = content_type or "no Content-Type"
            listed = ", ".join(t for t in kind.types if not t.startswith("+"))
            raise ContentTypeError(f"expected {kind.name} ({listed}) from {self.url}, got {shown}")
        return self

    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except json.JSONDecodeError as exc:
            raise ConnectorError(
                f"invalid JSON from {self.url}: {exc.msg} at line {exc.lineno} column {exc.colno}"
            ) from None


class HttpClient:
    """See the module docstring. One client per source run; not thread-safe."""

    def __init__(
        self,
        *,
        auth_header: str = "",
        token: str = "",
        timeout: float | None = None,
        max_bytes: int | None = None,
        allow_private: bool | None = None,
        allowed_hosts: Iterable[str] | None = None,
        resolver: Resolver | None = None,
        limiter: Any = "default",
        retries: int = 2,
        backoff: float = 0.5,
        user_agent: str | None = None,
    ) -> None:
        self.auth_header = auth_header.strip()
        self._token = token
        self.timeout = float(timeout if timeout is not None else getattr(settings, "SCRAPER_TIMEOUT", 15.0))
        self.max_bytes = int(
            max_bytes if max_bytes is not None else getattr(settings, "SCRAPER_MAX_BYTES", 5_000_000)
        )
        if allow_private is None:
            allow_private = bool(getattr(settings, "SCRAPER_ALLOW_PRIVATE_ADDRESSES", False))
        if allowed_hosts is None:
            allowed_hosts = getattr(settings, "SCRAPER_ALLOWED_HOSTS", ())
        self.guard = AddressGuard(
            allow_private=allow_private,
            allowed_hosts=frozenset(h.strip().lower() for h in allowed_hosts if h.strip()),
            resolver=resolver or default_resolver,
        )
        if limiter == "default":
            limiter = default_limiter()
        self.limiter = limiter
        self.retries = max(0, min(retries, 5))
        self.backoff = max(0.0, min(backoff, 5.0))
        self.user_agent = user_agent or f"rdvpasseport/1.0 (+{settings.SITE_URL}/a-propos)"
        self.calls = 0
        self.bytes_received = 0
        # time.monotonic() past which no request may start (the whole scrape's deadline), when set.
        self.deadline: float | None = None

        self.session = requests.Session()
        self.session.trust_env = False  # no proxy, .netrc or CA bundle from the environment
        self.session.headers.clear()
        self.session.headers.update(
            {"User-Agent": self.user_agent, "Accept": "*/*", "Accept-Encoding": "gzip, deflate"}
        )
        self._adapter = GuardedAdapter(self.guard)
        self.session.mount("http://", self._adapter)
        self.session.mount("https://", self._adapter)

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.session.close()

    def redact(self, text: str) -> str:
        """Remove the token (raw or URL-encoded) from a message."""
        return redact_token(text, self._token)

    # Public API.

    def get(self, url: str, *, params: Any = None, headers: Mapping[str, str] | None = None) -> HttpResponse:
        return self.request("GET", url, params=params, headers=headers)

    def post(
        self,
        url: str,
        *,
        json_body: Any = None,
        data: Any = None,
        params: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        return self.request("POST", url, params=params, json_body=json_body, data=data, headers=headers)

    def put(
        self, url: str, *, json_body: Any = None, params: Any = None, headers: Mapping[str, str] | None = None
    ) -> HttpResponse:
        return self.request("PUT", url, params=params, json_body=json_body, headers=headers)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Any = None,
        json_body: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        raise_for_status: bool = True,
    ) -> HttpResponse:
        """Send a request, follow up to 3 redirects, and return the whole (capped) response.

        Raises an HttpError (a ConnectorError) with a precise, token-free message on any failure; on a
        non-2xx final status too unless raise_for_status is False.
        """
        method = method.upper()
        prepared = self.session.prepare_request(
            requests.Request(
                method, url, params=params, json=json_body, data=data, headers=dict(headers or {})
            )
        )
        check_url(prepared.url or url)
        origin = _origin(prepared.url or url)
        if self.auth_header and self._token:
            self._check_auth_header()
            prepared.headers[self.auth_header] = self._token

        for _hop in range(MAX_REDIRECTS + 1):
            response = self._send_with_retries(prepared)
            if not response.is_redirect:
                return self._finish(response, raise_for_status=raise_for_status)
            location = response.headers.get("Location", "")
            response.close()
            try:
                target = urljoin(prepared.url or url, location)
            except ValueError:
                raise HttpError(f"redirect with a malformed Location from {self._safe_url(url)}") from None
            check_url(target)
            prepared = self._redirected(prepared, response.status_code, target, origin)
        raise HttpError(f"too many redirects (more than {MAX_REDIRECTS}) from {self._safe_url(url)}")

    # Internals.

    def _check_auth_header(self) -> None:
        if not _HEADER_NAME.fullmatch(self.auth_header):
            raise HttpError(
                f"the source's auth header name {self.auth_header!r} is not a valid HTTP header name"
            )
        try:
            self._token.encode("latin-1")
        except UnicodeEncodeError:
            raise HttpError(
                "the source's token has characters an HTTP header cannot carry (non Latin-1)"
            ) from None
        if any(ord(c) < 32 or ord(c) == 127 for c in self._token) or self._token != self._token.strip():
            raise HttpError("the source's token has control characters or surrounding spaces")

    def _redirected(
        self, prepared: requests.PreparedRequest, status: int, target: str, origin: tuple[str, str, int]
    ) -> requests.PreparedRequest:
        new = prepared.copy()
        new.url = target
        if status == 303 or (status in (301, 302) and prepared.method == "POST"):
            new.method = "GET"
            new.body = None
            for name in ("Content-Type", "Content-Length"):
                new.headers.pop(name, None)
        if _origin(target) != origin and self.auth_header:
            # The token is for the configured server only, never for whoever it redirects to.
            new.headers.pop(self.auth_header, None)
        new.headers.pop("Cookie", None)
        return new

    def _send_with_retries(self, prepared: requests.PreparedRequest) -> requests.Response:
        attempts = 1 + (self.retries if prepared.method in IDEMPOTENT_METHODS else 0)
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = self._send_once(prepared)
            except requests.ConnectionError as exc:
                if last or isinstance(exc, requests.ConnectTimeout):
                    raise self._translate(exc, prepared.url or "") from None
                logger.info(
                    "retrying %s %s after a connection error", prepared.method, self._safe_url(prepared.url)
                )
            else:
                if response.status_code not in RETRY_STATUSES or last:
                    return response
                response.close()
                logger.info(
                    "retrying %s %s after HTTP %s",
                    prepared.method,
                    self._safe_url(prepared.url),
                    response.status_code,
                )
            time.sleep(self.backoff * (2**attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def _send_once(self, prepared: requests.PreparedRequest) -> requests.Response:
        host = urlsplit(prepared.url or "").hostname or ""
        url = prepared.url or ""
        with self._limited(host):
            deadline = self._exchange_deadline(url)
            self.calls += 1
            timeout = max(0.05, min(self.timeout, deadline - time.monotonic()))
            with self._watchdog(deadline) as expired:
                try:
                    response = self.session.send(
                        prepared, stream=True, timeout=(timeout, timeout), allow_redirects=False
                    )
                except ValueError as exc:  # requests parses a redirect's Location before returning
                    raise HttpError(
                        f"{self._safe_url(url)} answered with a malformed URL ({exc}): a redirect's Location?"
                    ) from None
                except requests.RequestException as exc:
                    if expired.is_set():
                        raise self._expired(url, deadline) from None
                    if isinstance(exc, requests.ConnectionError):
                        raise
                    raise self._translate(exc, url) from None
                try:
                    if not response.is_redirect:
                        self._read_capped(response, deadline=deadline, expired=expired)
                except BaseException:
                    response.close()
                    raise
        logger.debug("%s %s -> %s", prepared.method, self._safe_url(prepared.url), response.status_code)
        return response

    def _exchange_deadline(self, url: str) -> float:
        """When this exchange must be over: twice the timeout from now, and never past the scrape's deadline."""
        now = time.monotonic()
        if self.deadline is not None and now >= self.deadline:
            raise ScrapeDeadlineError(
                f"the scrape ran past its deadline (SCRAPE_SOFT_TIME_LIMIT): {self._safe_url(url)} not asked"
            )
        exchange = now + self.timeout * 2
        return exchange if self.deadline is None else min(exchange, self.deadline)

    @contextmanager
    def _watchdog(self, deadline: float) -> Iterator[threading.Event]:
        """Shut this client's sockets down when `deadline` passes: a blocked read then returns at once.

        Timeouts bound each socket read, not their sum: a server sending its status line, headers or body one
        byte at a time, each within the read timeout, would otherwise hold the worker for as long as it likes.
        """
        expired = threading.Event()

        def fire() -> None:
            expired.set()
            for connection in list(self._adapter.connections):
                for sock in (getattr(connection, "sock", None), connection.raw_sock):
                    # OSError: already closed, or detached into its TLS socket.
                    if sock is not None:
                        with suppress(OSError):
                            sock.shutdown(socket.SHUT_RDWR)

        timer = threading.Timer(max(0.0, deadline - time.monotonic()), fire)
        timer.daemon = True
        timer.start()
        try:
            yield expired
        finally:
            timer.cancel()

    def _expired(self, url: str, deadline: float) -> HttpTimeoutError:
        if self.deadline is not None and deadline >= self.deadline:
            return ScrapeDeadlineError(
                f"the scrape ran past its deadline (SCRAPE_SOFT_TIME_LIMIT) while {self._safe_url(url)} answered"
            )
        return HttpTimeoutError(
            f"{self._safe_url(url)} did not send its whole answer (status, headers and body) within "
            f"{self.timeout * 2:g} s"
        )

    @contextmanager
    def _limited(self, host: str) -> Iterator[None]:
        if self.limiter is None:
            yield
            return
        with self.limiter.slot(host):
            yield

    def _read_capped(self, response: requests.Response, *, deadline: float, expired: threading.Event) -> None:
        url = self._safe_url(response.url)
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise ResponseTooLargeError(
                f"response from {url} is too large: Content-Length {declared} bytes > limit {self.max_bytes}"
            )
        chunks: list[bytes] = []
        size = 0
        try:
            # read1, not iter_content: iter_content waits for a whole chunk, so a server trickling a byte
            # now and then (each within the read timeout) would hold the worker far past the deadline.
            while chunk := response.raw.read1(65536, decode_content=True):
                size += len(chunk)
                self.bytes_received += len(chunk)
                if size > self.max_bytes:
                    raise ResponseTooLargeError(
                        f"response from {url} is too large: more than {self.max_bytes} bytes"
                    )
                if time.monotonic() > deadline:
                    raise self._expired(response.url, deadline)
                chunks.append(chunk)
        except (requests.RequestException, Urllib3Error, OSError) as exc:
            if expired.is_set():
                raise self._expired(response.url, deadline) from None
            raise self._translate(exc, response.url) from None
        if expired.is_set():  # the watchdog cut the body short: what was read is not the whole answer
            raise self._expired(response.url, deadline)
        response._content = b"".join(chunks)
        response._content_consumed = True  # type: ignore[attr-defined]

    def _finish(self, response: requests.Response, *, raise_for_status: bool) -> HttpResponse:
        result = HttpResponse(
            status_code=response.status_code,
            url=self._safe_url(response.url),
            headers=response.headers,
            content=response._content or b"",
            encoding=requests.utils.get_encoding_from_headers(response.headers)
            if "charset" in response.headers.get("Content-Type", "").lower()
            else None,
        )
        if raise_for_status and not 200 <= response.status_code < 300:
            body = self.redact(_excerpt(result.content))
            reason = f" {response.reason}" if response.reason else ""
            message = f"HTTP {response.status_code}{reason} from {result.url}"
            if body:
                message += f": {body}"
            raise HttpStatusError(message, status=response.status_code, body=body, url=result.url)
        return result

    def _translate(self, exc: BaseException, url: str) -> HttpError:
        safe = self._safe_url(url)
        if isinstance(exc, requests.ConnectTimeout):
            return HttpTimeoutError(f"connecting to {safe} timed out after {self.timeout:g} s")
        if isinstance(exc, requests.ReadTimeout | ReadTimeoutError):
            return HttpTimeoutError(f"{safe} did not answer within {self.timeout:g} s")
        if isinstance(exc, requests.exceptions.SSLError):
            return HttpError(f"TLS error with {safe}: {self.redact(_first_line(exc))}")
        if isinstance(exc, requests.ConnectionError):
            text = _first_line(exc)
            if "timed out" in text.lower():
                return HttpTimeoutError(f"{safe} did not answer within {self.timeout:g} s")
            return HttpError(f"cannot connect to {safe}: {self.redact(text)}")
        return HttpError(f"request to {safe} failed: {self.redact(_first_line(exc))}")

    def _safe_url(self, url: str | None) -> str:
        return self.redact(url or "")


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, (parts.hostname or "").lower(), port


def _excerpt(content: bytes) -> str:
    text = content[: ERROR_EXCERPT_CHARS * 4].decode("utf-8", errors="replace")
    text = " ".join(text.split())
    if len(text) > ERROR_EXCERPT_CHARS:
        text = text[:ERROR_EXCERPT_CHARS] + "…"
    return text


def _first_line(exc: BaseException) -> str:
    # urllib3 wraps the root cause in several layers; the innermost one is the informative one.
    root: BaseException = exc
    seen = {id(root)}
    while True:
        nxt = getattr(root, "reason", None) or root.__cause__ or root.__context__
        if not isinstance(nxt, BaseException) or id(nxt) in seen:  # a chain may loop back
            break
        seen.add(id(nxt))
        root = nxt
    text = str(root) or type(root).__name__
    return text.splitlines()[0] if text else type(root).__name__
