"""Every connector kind fails cleanly on transport problems: status, timeout, size, guard, redirect, type.

Each case runs a real HTTP server on 127.0.0.1 answering the first request the connector sends.
"""

from __future__ import annotations

import datetime as dt
import importlib
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.test import override_settings
from django.utils.module_loading import import_string
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from scrapers.connectors import CONNECTOR_CLASSES, CONNECTORS, get_connector
from scrapers.connectors.base import Connector, MeetingPointData, OneTownHallConfig, SlotData, SourceSpec
from scrapers.fetching.errors import ConnectorError
from scrapers.fetching.http import HttpClient
from scrapers.models import Source
from scrapers.tests.connector_case import CommonCase

TOKEN = "s3cr3t-t0ken-value"
WINDOW = {"start": dt.date(2026, 12, 1), "end": dt.date(2026, 12, 31)}


def _common_case(path: str) -> CommonCase | None:
    # "scrapers.connectors.ants.AntsConnector" -> COMMON_CASE of scrapers.connectors.ants.tests
    try:
        tests = importlib.import_module(path.rpartition(".")[0] + ".tests")
    except ModuleNotFoundError:
        return None
    return getattr(tests, "COMMON_CASE", None)


CASES: dict[str, CommonCase] = {
    import_string(path).kind: case for path in CONNECTORS if (case := _common_case(path)) is not None
}
ONE_TOWN_HALL_KINDS = sorted(
    kind
    for kind, cls in CONNECTOR_CLASSES.items()
    if issubclass(cls.Config, OneTownHallConfig) and "town_halls" not in cls.Config.model_fields
)


def test_every_registered_kind_is_exercised_here() -> None:
    # A kind whose package declares no COMMON_CASE (in its tests/__init__.py) fails here.
    assert set(CASES) == set(CONNECTOR_CLASSES)


@pytest.fixture(params=sorted(CASES))
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def build(
    httpserver: HTTPServer,
    make_spec: Callable[..., SourceSpec],
    make_http: Callable[..., HttpClient],
    kind: str,
) -> Callable[..., Connector]:
    def make(**http: Any) -> Connector:
        case = CASES[kind]
        spec = make_spec(
            kind,
            httpserver.url_for(case.base_path) if case.base_path else httpserver.url_for(""),
            config=case.config,
            auth_header=case.auth_header,
        )
        return get_connector(spec, http=make_http(spec, **http))

    return make


def meeting_point(kind: str) -> list[str]:
    return [CASES[kind].meeting_point_id]


def expect_first(httpserver: HTTPServer, kind: str):  # type: ignore[no-untyped-def]
    case = CASES[kind]
    return httpserver.expect_request(case.first_path, method=case.method)


def test_a_valid_empty_answer_gives_no_slot(httpserver: HTTPServer, build, kind: str) -> None:
    case = CASES[kind]
    expect_first(httpserver, kind).respond_with_data(case.body, content_type=case.content_type)
    for follow_up in case.follow_ups:
        httpserver.expect_request(follow_up.path, method=follow_up.method).respond_with_json(follow_up.json)

    result = build().fetch_slots(meeting_point(kind), **WINDOW)

    assert result.slots == []
    assert result.covered == set(meeting_point(kind))
    assert result.errors == []


@pytest.mark.parametrize("kind", ONE_TOWN_HALL_KINDS)
def test_a_one_town_hall_kind_refuses_a_config_listing_several(
    httpserver: HTTPServer, make_spec, kind
) -> None:
    # Else the second town hall would be discovered, then never fetched: online booking, never a slot.
    config = {key: value for key, value in CASES[kind].config.items() if key != "town_hall"}
    config["town_halls"] = [
        CASES[kind].config["town_hall"],
        {"external_id": "th-2", "name": "Mairie de Levallois"},
    ]

    with pytest.raises(ConnectorError, match=f"config.town_halls: is not an option of {kind} sources"):
        get_connector(make_spec(kind, httpserver.url_for("/"), config=config))

    assert httpserver.log == []


def test_an_http_500_fails_the_fetch(httpserver: HTTPServer, build, kind: str) -> None:
    expect_first(httpserver, kind).respond_with_data("internal failure", status=500)

    with pytest.raises(ConnectorError, match="HTTP 500.*internal failure"):
        build().fetch_slots(meeting_point(kind), **WINDOW)


def test_a_slow_server_fails_the_fetch(httpserver: HTTPServer, build, kind: str) -> None:
    case = CASES[kind]

    def slow(request: Request) -> Response:
        time.sleep(0.8)
        return Response(case.body, content_type=case.content_type)

    expect_first(httpserver, kind).respond_with_handler(slow)

    with pytest.raises(ConnectorError, match="did not answer within 0.2 s"):
        build(timeout=0.2).fetch_slots(meeting_point(kind), **WINDOW)


def test_an_oversized_body_fails_the_fetch(httpserver: HTTPServer, build, kind: str) -> None:
    case = CASES[kind]
    expect_first(httpserver, kind).respond_with_data(case.body + " " * 5000, content_type=case.content_type)

    with pytest.raises(ConnectorError, match="too large"):
        build(max_bytes=2048).fetch_slots(meeting_point(kind), **WINDOW)


@override_settings(SCRAPER_ALLOW_PRIVATE_ADDRESSES=False, SCRAPER_ALLOWED_HOSTS=[])
def test_the_guard_refuses_the_first_request_to_a_private_address(
    httpserver: HTTPServer, build, kind: str
) -> None:
    case = CASES[kind]
    expect_first(httpserver, kind).respond_with_data(case.body, content_type=case.content_type)

    with pytest.raises(ConnectorError, match="refused to connect to '127.0.0.1'.*\\(loopback address\\)"):
        build().fetch_slots(meeting_point(kind), **WINDOW)

    assert httpserver.log == []


@override_settings(SCRAPER_ALLOW_PRIVATE_ADDRESSES=False)
def test_the_guard_refuses_a_redirect_to_a_private_address(httpserver: HTTPServer, build, kind: str) -> None:
    # The test server stands for an allowed public server; it redirects to the cloud metadata address.
    expect_first(httpserver, kind).respond_with_data(
        "", status=307, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )

    with pytest.raises(ConnectorError, match="169.254.169.254 \\(link-local address\\)"):
        build(allowed_hosts=[f"127.0.0.1:{httpserver.port}"]).fetch_slots(meeting_point(kind), **WINDOW)

    assert len(httpserver.log) == 1


def test_a_wrong_content_type_fails_the_fetch(httpserver: HTTPServer, build, kind: str) -> None:
    case = CASES[kind]
    wrong = case.wrong_content_type
    expect_first(httpserver, kind).respond_with_data(case.body, content_type=wrong)

    with pytest.raises(ConnectorError, match=f"expected .* got {wrong}"):
        build().fetch_slots(meeting_point(kind), **WINDOW)


def test_the_token_never_appears_in_an_error(httpserver: HTTPServer, build, kind: str) -> None:
    expect_first(httpserver, kind).respond_with_data(f"token {TOKEN} refused", status=401)

    with pytest.raises(ConnectorError) as excinfo:
        build().fetch_slots(meeting_point(kind), **WINDOW)

    assert "HTTP 401" in str(excinfo.value)
    assert TOKEN not in str(excinfo.value)
    request = httpserver.log[0][0]
    if CASES[kind].auth_header:
        assert request.headers.get("X-HUB-RDV-AUTH-TOKEN") == TOKEN
    else:
        assert TOKEN in request.query_string.decode()


def test_an_unknown_kind_is_refused(make_spec: Callable[..., SourceSpec]) -> None:
    with pytest.raises(ConnectorError, match="unknown connector kind 'fax'"):
        get_connector(make_spec("fax", "https://example.org/"))


@pytest.mark.django_db
def test_a_spec_is_built_from_a_source_and_hides_its_token() -> None:
    source = Source.objects.create(
        name="Editor",
        kind="ants",
        base_url="https://editor.example/api",
        token=TOKEN,
        config={"reasons": ["CNI"]},
        max_documents=3,
    )

    spec = SourceSpec.from_source(source)

    assert (spec.id, spec.kind, spec.auth_header, spec.token, spec.max_documents) == (
        source.pk,
        "ants",
        "",
        TOKEN,
        3,
    )
    assert spec.config == {"reasons": ["CNI"]}
    assert TOKEN not in repr(spec)
    # An ants source naming no header sends its token in the standard one.
    assert get_connector(spec).http.auth_header == "X-HUB-RDV-AUTH-TOKEN"


def test_a_slot_needs_an_aware_time_and_is_kept_in_paris_time() -> None:
    with pytest.raises(ValueError, match="aware"):
        SlotData("1", dt.datetime(2026, 12, 1, 9, 0), "CNI", None, "")
    slot = SlotData("1", dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC), "CNI", None, "")
    assert slot.starts_at.isoformat() == "2026-12-01T09:00:00+01:00"


@pytest.mark.parametrize(
    ("kind", "key", "value", "message"),
    [
        ("ants", "batch_size", "many", "must be a whole number, got 'many'"),
        ("ants", "batch_size", 0, "must be at least 1"),
        ("ants", "batch_size", 101, "must be at most 100"),
        ("ics", "people_max", 21, "must be at most 20"),
        ("html", "people_max", "deux", "must be a whole number, got 'deux'"),
        ("rendezvousonline", "max_weeks", 53, "must be at most 52"),
    ],
)
def test_a_numeric_option_out_of_bounds_names_the_key(make_spec, kind, key, value, message):
    config = {**CASES[kind].config, key: value}
    spec = make_spec(kind, "http://127.0.0.1:9/", config=config)

    with pytest.raises(ConnectorError, match=f"^config.{key}: {message}$"):
        get_connector(spec)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("https://rdv.example.fr/clichy", "https://rdv.example.fr/clichy"),
        ("  HTTP://rdv.example.fr/x  ", "HTTP://rdv.example.fr/x"),
        ("javascript:alert(1)", ""),
        ("data:text/html,<script>alert(1)</script>", ""),
        ("/relative/page", ""),
        ("//evil.example/x", ""),
        ("", ""),
    ],
)
def test_only_web_links_from_a_source_reach_the_pages(given, kept):
    slot = SlotData(
        meeting_point_id="1",
        starts_at=dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC),
        reason="CNI",
        people_max=None,
        booking_url=given,
    )
    town_hall = MeetingPointData(external_id="1", name="Mairie", website=given, booking_url=given)

    assert slot.booking_url == kept
    assert (town_hall.website, town_hall.booking_url) == (kept, kept)
