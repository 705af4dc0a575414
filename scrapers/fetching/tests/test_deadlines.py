"""Deadlines of the HTTP client against hostile servers on 127.0.0.1.

A source that sent its status line and headers one byte at a time once held a worker thread for 420 s: each
byte came within the read timeout, and the body deadline did not cover the headers.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from pytest_httpserver import HTTPServer

from scrapers.fetching.errors import HttpError, HttpTimeoutError, ScrapeDeadlineError
from scrapers.fetching.http import HttpClient

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n" + b"X-Pad: y\r\n" * 200


@dataclass
class TricklingServer:
    """Accepts connections, reads the request, then sends `answer` one byte every `pause` seconds (at once
    when `pause` is 0): an HTTP server that says exactly what the test wants, however broken."""

    answer: bytes = ANSWER
    pause: float = 0.02
    sent: list[int] = field(default_factory=list)  # bytes sent per connection before the client hung up
    requests: int = 0

    def __post_init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slots"

    def _serve(self) -> None:
        self.listener.settimeout(0.1)
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            self.requests += 1
            count = 0
            try:
                if not self.pause:
                    conn.sendall(self.answer)
                    count = len(self.answer)
                for byte in (
                    self.answer if self.pause else b""
                ):  # ANSWER: about 2,000 bytes, 40 s at this pace
                    if self.stopping.is_set():
                        break
                    conn.sendall(bytes([byte]))
                    count += 1
                    time.sleep(self.pause)
            except OSError:
                pass  # the client hung up
            self.sent.append(count)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        self.listener.close()


@pytest.fixture
def trickling() -> Iterator[TricklingServer]:
    server = TricklingServer()
    yield server
    server.stop()


def client(**kwargs: object) -> HttpClient:
    kwargs.setdefault("limiter", None)
    kwargs.setdefault("backoff", 0)
    kwargs.setdefault("retries", 0)
    return HttpClient(**kwargs)  # type: ignore[arg-type]


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)


def test_status_and_headers_sent_a_byte_at_a_time_end_at_the_exchange_deadline(trickling) -> None:
    http = client(timeout=0.2)

    with pytest.raises(HttpTimeoutError, match="did not send its whole answer .* within 0.4 s"):
        http.get(trickling.url)

    # The client hung up while the headers were still coming: the worker is free again.
    wait_for(lambda: trickling.sent)
    assert trickling.sent and trickling.sent[0] < len(ANSWER)


def test_a_retried_request_does_not_start_over_after_the_deadline(trickling) -> None:
    http = client(timeout=0.2, retries=2)

    with pytest.raises(HttpTimeoutError):
        http.get(trickling.url)

    assert trickling.requests == 1  # a deadline is no connection error to retry


def test_no_request_starts_once_the_scrape_is_past_its_deadline(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/slots").respond_with_json({})
    http = client()
    http.deadline = time.monotonic() - 1

    with pytest.raises(ScrapeDeadlineError, match="past its deadline"):
        http.get(httpserver.url_for("/slots"))

    assert httpserver.log == []


def test_the_scrape_deadline_cuts_an_answer_short(trickling) -> None:
    http = client(timeout=30)
    http.deadline = time.monotonic() + 0.3

    with pytest.raises(ScrapeDeadlineError, match="while .* answered"):
        http.get(trickling.url)

    wait_for(lambda: trickling.sent)
    assert trickling.sent[0] < len(ANSWER)


@pytest.mark.parametrize("location", ["http://[::1", "http://127.0.0.1:99999/x", "//[::1:80/x"])
def test_a_redirect_with_a_malformed_location_is_an_http_error(location: str) -> None:
    # It once raised a bare ValueError, reported as "Unexpected error".
    answer = f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n".encode()
    server = TricklingServer(answer=answer, pause=0)
    try:
        with pytest.raises(HttpError, match="malformed"):
            client().get(server.url)
    finally:
        server.stop()
