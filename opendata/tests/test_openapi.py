"""The OpenAPI 3.1 description of /api/v1/: valid, readable as a page, and true to the API (schemathesis
against the live server: no 500, every response matching the document)."""

from __future__ import annotations

import pytest
import schemathesis
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from opendata.openapi import openapi_document
from opendata.tests.factories import make_world


def test_the_document_is_valid_openapi_3_1(client: Client, db) -> None:
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    document = response.json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": "http://testserver"}]
    assert set(document["paths"]) == {"/api/v1/communes", "/api/v1/search"}
    search = {p["name"]: p for p in document["paths"]["/api/v1/search"]["get"]["parameters"]}
    assert search["documents_number"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 6,
        "default": 1,
    }
    assert search["reason"]["schema"]["enum"] == ["CNI", "PASSPORT", "CNI-PASSPORT"]


def test_the_api_page_renders_the_document_without_javascript(client: Client, db) -> None:
    response = client.get("/api")

    assert response.status_code == 200
    page = response.content.decode()
    assert "GET /api/v1/search" in page and "GET /api/v1/communes" in page
    assert "documents_number" in page and "CNI, PASSPORT, CNI-PASSPORT" in page
    assert "<details" in page
    assert 'href="/api/v1/openapi.json"' in page
    assert "<script" not in page.split("</head>")[1]


def test_the_public_api_allows_cross_origin_get_without_credentials(client: Client, db) -> None:
    response = client.get("/api/v1/communes", {"q": "cli"}, headers={"Origin": "https://ailleurs.example"})
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response

    preflight = client.options(
        "/api/v1/search",
        headers={"Origin": "https://ailleurs.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 200
    assert preflight["Access-Control-Allow-Methods"] == "GET, OPTIONS"

    # Nothing else is shared with other origins: not the pages, not the ANTS endpoints, not the admin.
    for path in ("/", "/ants/getManagedMeetingPoints", "/admin/login/"):
        other = client.get(path, headers={"Origin": "https://ailleurs.example"})
        assert "Access-Control-Allow-Origin" not in other, path


# schemathesis' own pytest plugin (schema.parametrize) does not run under pytest 9: its strategies are driven
# by hypothesis directly, one operation and one generation mode at a time.
@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("operation_id", ["communes", "search"])
def test_the_api_conforms_to_its_document(live_server, transactional_db, operation_id: str, mode) -> None:
    make_world(timezone.now())
    api = schemathesis.openapi.from_dict(openapi_document(server_url=live_server.url))
    operation = next(
        result.ok()
        for result in api.get_all_operations()
        if result.ok().definition.raw["operationId"] == operation_id
    )

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def conforms(case) -> None:
        # An accepted but unknown place ("zzz") is a documented 400, not a 2xx: the positive-data check
        # would take it for a refusal of valid input.
        case.call_and_validate(base_url=live_server.url, excluded_checks=[positive_data_acceptance])

    conforms()


def test_the_document_and_its_page_speak_the_readers_language(client: Client, db) -> None:
    french = client.get("/api/v1/openapi.json").json()
    english = client.get("/api/v1/openapi.json", headers={"Accept-Language": "en"}).json()

    assert french["paths"]["/api/v1/communes"]["get"]["summary"] == "Suggestions de communes"
    assert english["paths"]["/api/v1/communes"]["get"]["summary"] == "Commune suggestions"
    validate(english)
    page = client.get("/api", headers={"Accept-Language": "en"}).content.decode()
    assert "Public API" in page and "Number of people (one slot each)." in page
