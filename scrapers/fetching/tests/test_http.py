"""The scrapers' HTTP client against a real server on 127.0.0.1: guard, caps, redirects, retries, secrets."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator

import pytest
from django.test import override_settings
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from scrapers.fetching.errors import (
    BlockedAddressError,
    ContentTypeError,
    HostBusyError,
    HttpError,
    HttpStatusError,
    HttpTimeoutError,
    ResponseTooLargeError,
)
from scrapers.fetching.guard import forbidden_reason
from scrapers.fetching.http import CALENDAR, HTML, JSON, HttpClient, _first_line
from scrapers.fetching.throttle import RedisHostLimiter

TOKEN = "s3cr3t-t0ken-value"


def client(**kwargs: object) -> HttpClient:
    kwargs.setdefault("limiter", None)
    kwargs.setdefault("backoff", 0)
    return HttpClient(**kwargs)  # type: ignore[arg-type]


def allowed_server(httpserver: HTTPServer) -> list[str]:
    return [f"127.0.0.1:{httpserver.port}"]


def test_it_sends_user_agent_and_auth_header_and_counts(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/points", headers={"X-HUB-RDV-AUTH-TOKEN": TOKEN}).respond_with_json(
        [{"id": 1}]
    )
    http = client(auth_header="X-HUB-RDV-AUTH-TOKEN", token=TOKEN)

    response = http.get(httpserver.url_for("/points"))

    assert response.expect(JSON).json() == [{"id": 1}]
    request = httpserver.log[0][0]
    assert request.headers["User-Agent"] == "rdvpasseport/1.0 (+http://127.0.0.1:8000/a-propos)"
    assert http.calls == 1
    assert http.bytes_received == len(response.content) > 0


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "::1",
        "fe80::1",
        "fc00::1",
        "224.0.0.1",
        "0.0.0.0",
        "240.0.0.1",
        "100.64.0.1",
        "::ffff:127.0.0.1",
        "2002:7f00:1::",
    ],
)
def test_it_classifies_internal_addresses_as_forbidden(address: str) -> None:
    assert forbidden_reason(address) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700:4700::1111", "::ffff:93.184.216.34"])
def test_it_lets_public_addresses_through(address: str) -> None:
    assert forbidden_reason(address) is None


@override_settings(SCRAPER_ALLOW_PRIVATE_ADDRESSES=False, SCRAPER_ALLOWED_HOSTS=[])
def test_it_refuses_loopback_server_when_private_addresses_are_off(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/points").respond_with_json([])

    with pytest.raises(BlockedAddressError, match=r"127\.0\.0\.1 \(loopback address\)"):
        client().get(httpserver.url_for("/points"))

    assert httpserver.log == []


@override_settings(SCRAPER_ALLOW_PRIVATE_ADDRESSES=False, SCRAPER_ALLOWED_HOSTS=[])
@pytest.mark.parametrize(
    ("address", "label"),
    [
        ("10.0.0.7", "private"),
        ("169.254.169.254", "link-local"),
        ("::1", "loopback"),
        ("127.0.0.1", "loopback"),
    ],
)
def test_it_refuses_host_names_resolving_to_internal_addresses(address: str, label: str) -> None:
    http = client(resolver=lambda host, port: [address])

    with pytest.raises(BlockedAddressError, match=rf"resolves to {address} \({label} address\)"):
        http.get("http://mairie.example/api")


@override_settings(SCRAPER_ALLOW_PRIVATE_ADDRESSES=False, SCRAPER_ALLOWED_HOSTS=[])
def test_it_refuses_a_host_when_any_of_its_addresses_is_internal() -> None:
    # A rebinding name answers one public and one internal address: checking only the first is not enough.
    http = client(resolver=lambda host, port: ["93.184.216.34", "127.0.0.1"])

    with pytest.raises(BlockedAddressError, match="127.0.0.1"):
        http.get("http://rebind.example/api")


def test_it_connects_to_the_address_it_checked(httpserver: HTTPServer) -> None:
    # mairie.example does not exist in DNS: the request only arrives because the socket is opened to the
    # address the guard resolved and checked, not to a second resolution.
    httpserver.expect_request("/api").respond_with_json({"ok": True})
    resolved: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        resolved.append(host)
        return ["127.0.0.1"]

    response = client(resolver=resolver).get(f"http://mairie.example:{httpserver.port}/api")

    assert response.json() == {"ok": True}
    assert resolved == ["mairie.example"]
    assert httpserver.log[0][0].headers["Host"] == f"mairie.example:{httpserver.port}"


@override_settings(SCRAPER_ALLOW_PRIVATE_ADDRESSES=False)
@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5/admin",
        "http://[::1]:{port}/secret",
        "http://127.0.0.1:1/secret",
    ],
)
def test_it_refuses_a_redirect_from_an_allowed_server_to_an_internal_address(
    httpserver: HTTPServer, target: str
) -> None:
    httpserver.expect_request("/start").respond_with_data(
        "", status=302, headers={"Location": target.format(port=httpserver.port)}
    )
    http = client(allowed_hosts=allowed_server(httpserver))

    with pytest.raises(BlockedAddressError, match="refused to connect"):
        http.get(httpserver.url_for("/start"))

    assert http.calls == 2  # the redirect was read, the target never answered


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://example.org/x", "gopher://example.org/"])
def test_it_refuses_redirects_to_other_schemes(httpserver: HTTPServer, target: str) -> None:
    httpserver.expect_request("/start").respond_with_data("", status=301, headers={"Location": target})

    with pytest.raises(BlockedAddressError, match="only http and https"):
        client().get(httpserver.url_for("/start"))


def test_it_refuses_urls_with_credentials() -> None:
    with pytest.raises(BlockedAddressError, match="credentials"):
        client().get("http://user:pass@127.0.0.1:1/")


def test_it_follows_redirects_and_drops_the_token_on_another_origin(httpserver: HTTPServer) -> None:
    other = f"http://other.example:{httpserver.port}/landing"
    httpserver.expect_request("/same").respond_with_data("", status=302, headers={"Location": "/moved"})
    httpserver.expect_request("/moved").respond_with_data("", status=302, headers={"Location": other})
    httpserver.expect_request("/landing").respond_with_data("ok", content_type="text/plain")
    http = client(auth_header="X-Auth", token=TOKEN, resolver=lambda host, port: ["127.0.0.1"])

    response = http.get(httpserver.url_for("/same"))

    assert response.text == "ok"
    seen = {request.path: request.headers.get("X-Auth") for request, _ in httpserver.log}
    assert seen == {"/same": TOKEN, "/moved": TOKEN, "/landing": None}


def test_it_stops_after_three_redirects(httpserver: HTTPServer) -> None:
    for hop in range(5):
        httpserver.expect_request(f"/hop{hop}").respond_with_data(
            "", status=302, headers={"Location": f"/hop{hop + 1}"}
        )

    with pytest.raises(HttpError, match="too many redirects"):
        client().get(httpserver.url_for("/hop0"))

    assert len(httpserver.log) == 4


def test_it_refuses_a_declared_oversized_body_without_reading_it(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/big").respond_with_data(b"x" * 5000, content_type="application/json")
    http = client(max_bytes=1024)

    with pytest.raises(ResponseTooLargeError, match="Content-Length 5000 bytes > limit 1024"):
        http.get(httpserver.url_for("/big"))

    assert http.bytes_received == 0


def test_it_stops_reading_a_streamed_body_at_the_cap(httpserver: HTTPServer) -> None:
    def endless(request: Request) -> Response:
        chunks = (b"y" * 65536 for _ in range(200))  # 13 MB, no Content-Length
        return Response(chunks, content_type="text/csv")

    httpserver.expect_request("/stream").respond_with_handler(endless)
    http = client(max_bytes=100_000)

    with pytest.raises(ResponseTooLargeError, match="more than 100000 bytes"):
        http.get(httpserver.url_for("/stream"))

    assert http.bytes_received < 300_000


def test_it_gives_up_on_a_slow_server(httpserver: HTTPServer) -> None:
    def slow(request: Request) -> Response:
        time.sleep(1.0)
        return Response("[]", content_type="application/json")

    httpserver.expect_request("/slow").respond_with_handler(slow)

    with pytest.raises(HttpTimeoutError, match="did not answer within 0.2 s"):
        client(timeout=0.2).get(httpserver.url_for("/slow"))


def test_it_retries_a_get_on_503_then_succeeds(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/flaky").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/flaky").respond_with_json({"ok": 1})
    http = client()

    assert http.get(httpserver.url_for("/flaky")).json() == {"ok": 1}
    assert http.calls == 2


def test_it_gives_up_after_bounded_retries(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/down").respond_with_data("bad gateway", status=502)
    http = client(retries=2)

    with pytest.raises(HttpStatusError, match="HTTP 502") as excinfo:
        http.get(httpserver.url_for("/down"))

    assert excinfo.value.status == 502
    assert http.calls == 3


def test_it_does_not_retry_a_500_nor_a_post(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/broken").respond_with_data("boom", status=500)
    httpserver.expect_request("/post", method="POST").respond_with_data("busy", status=503)
    http = client()

    with pytest.raises(HttpStatusError, match="HTTP 500 INTERNAL SERVER ERROR from .*/broken: boom"):
        http.get(httpserver.url_for("/broken"))
    with pytest.raises(HttpStatusError, match="HTTP 503"):
        http.post(httpserver.url_for("/post"), json_body={"a": 1})

    assert http.calls == 2


def test_it_retries_a_refused_connection() -> None:
    http = client(retries=1, resolver=lambda host, port: ["127.0.0.1"])

    with pytest.raises(HttpError, match="cannot connect"):
        http.get("http://closed.example:1/")

    assert http.calls == 2


def test_it_checks_content_types(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/page").respond_with_data("<html></html>", content_type="text/html")
    response = client().get(httpserver.url_for("/page"))

    assert response.expect(HTML) is response
    with pytest.raises(ContentTypeError, match="expected json .* got text/html"):
        response.expect(JSON)
    with pytest.raises(ContentTypeError, match="expected calendar"):
        response.expect(CALENDAR)


def test_it_never_puts_the_token_in_error_messages(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/echo").respond_with_data(f"bad token {TOKEN}", status=401)
    http = client(auth_header="X-Auth", token=TOKEN)

    with pytest.raises(HttpStatusError) as excinfo:
        http.get(httpserver.url_for("/echo"), params={"apikey": TOKEN})

    assert TOKEN not in str(excinfo.value)
    assert TOKEN not in excinfo.value.body
    assert "HTTP 401" in str(excinfo.value)
    assert "[redacted]" in str(excinfo.value)


def test_it_decodes_text_with_or_without_bom(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/bom").respond_with_data("\ufeffcafé".encode(), content_type="text/csv")
    httpserver.expect_request("/latin").respond_with_data(
        "café".encode("latin-1"), content_type="text/csv; charset=iso-8859-1"
    )
    http = client()

    assert http.get(httpserver.url_for("/bom")).text == "café"
    assert http.get(httpserver.url_for("/latin")).text == "café"


@pytest.fixture
def limiter() -> Iterator[RedisHostLimiter]:
    import uuid

    import redis
    from django.conf import settings

    connection = redis.Redis.from_url(settings.REDIS_URL)
    prefix = f"test-http:{uuid.uuid4().hex}"
    yield RedisHostLimiter(connection, max_in_flight=1, polite_delay=0, acquire_timeout=0.2, prefix=prefix)
    for key in connection.scan_iter(f"{prefix}:*"):
        connection.delete(key)


def test_it_waits_for_a_permit_of_the_host_limiter(httpserver: HTTPServer, limiter: RedisHostLimiter) -> None:
    httpserver.expect_request("/points").respond_with_json([])
    held = limiter.try_acquire("127.0.0.1")
    assert held is not None
    http = client(limiter=limiter)

    with pytest.raises(HostBusyError, match="127.0.0.1 already has 1 requests in flight"):
        http.get(httpserver.url_for("/points"))
    limiter.release("127.0.0.1", held)

    assert http.get(httpserver.url_for("/points")).json() == []
    assert limiter.in_flight("127.0.0.1") == 0


def test_it_refuses_a_token_a_header_cannot_carry_without_echoing_it(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/points").respond_with_json([])
    bad_token = "abc\r\nX-Injected: 1"

    with pytest.raises(HttpError, match="control characters") as excinfo:
        client(auth_header="X-Auth", token=bad_token).get(httpserver.url_for("/points"))

    assert "X-Injected" not in str(excinfo.value)
    assert httpserver.log == []


def test_https_goes_through_the_same_guard() -> None:
    with (
        override_settings(SCRAPER_ALLOW_PRIVATE_ADDRESSES=False, SCRAPER_ALLOWED_HOSTS=[]),
        pytest.raises(BlockedAddressError, match="10.9.8.7"),
    ):
        client(resolver=lambda host, port: ["10.9.8.7"]).get("https://mairie.example/api")

    with pytest.raises(HttpError, match="cannot connect to https://mairie.example:1/"):
        client(retries=0, resolver=lambda host, port: ["127.0.0.1"]).get("https://mairie.example:1/")


def test_it_gives_up_on_a_server_trickling_its_body(httpserver: HTTPServer) -> None:
    # Each byte comes well within the read timeout, but the body as a whole takes far longer than allowed.
    def trickle(request: Request) -> Response:
        def body() -> Iterator[bytes]:
            for _ in range(40):
                time.sleep(0.05)
                yield b" "

        return Response(body(), content_type="application/json")

    httpserver.expect_request("/trickle").respond_with_handler(trickle)
    http = client(timeout=0.2)

    with pytest.raises(HttpTimeoutError, match="whole answer .* within 0.4 s"):
        http.get(httpserver.url_for("/trickle"))

    # Given up while the body was still coming, not after waiting for all of it.
    assert http.bytes_received < 40


def test_it_hides_a_token_sent_form_encoded_in_a_query_string(httpserver: HTTPServer) -> None:
    token = "s3cr3t t0ken/value"
    httpserver.expect_request("/echo").respond_with_data("no", status=403)
    http = client(token=token)

    with pytest.raises(HttpStatusError) as excinfo:
        http.get(httpserver.url_for("/echo"), params={"apikey": token})

    assert "s3cr3t+t0ken" not in str(excinfo.value)
    assert "apikey=[redacted]" in str(excinfo.value)


def test_an_error_chain_looping_back_on_itself_still_gives_a_message() -> None:
    outer, inner = OSError("outer"), OSError("connection reset by peer")
    outer.__cause__, inner.__cause__ = inner, outer
    answer: list[str] = []
    worker = threading.Thread(target=lambda: answer.append(_first_line(outer)), daemon=True)

    worker.start()
    worker.join(timeout=5)

    assert answer == ["connection reset by peer"]


def test_it_decodes_a_gzip_body_and_caps_what_it_inflates_to(httpserver: HTTPServer) -> None:
    small = gzip.compress(b'{"ok": 1}')
    bomb = gzip.compress(b"0" * 10_000_000)  # about 10 kB on the wire
    for path, body in (("/small", small), ("/bomb", bomb)):
        httpserver.expect_request(path).respond_with_data(
            body, content_type="application/json", headers={"Content-Encoding": "gzip"}
        )
    http = client(max_bytes=100_000)

    assert http.get(httpserver.url_for("/small")).json() == {"ok": 1}
    with pytest.raises(ResponseTooLargeError, match="more than 100000 bytes"):
        http.get(httpserver.url_for("/bomb"))
    assert http.bytes_received < 300_000
