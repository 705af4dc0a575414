"""Shared fixtures of the scrapers tests (fetch layer, connectors, ingestion): the local HTTP server, connector
specs and recorded payloads."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scrapers.connectors.base import SourceSpec
from scrapers.fetching.http import HttpClient

CONNECTORS_DIR = Path(__file__).parent / "connectors"


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, int]:
    # An IP literal rather than "localhost": URLs then name the address the SSRF guard judges.
    return ("127.0.0.1", 0)


@pytest.fixture
def fixture_text() -> Callable[[str], str]:
    """Read "<kind>/<name>", i.e. scrapers/connectors/<kind>/tests/fixtures/<name>, as text."""

    def read(relative: str) -> str:
        kind, _, name = relative.partition("/")
        return (CONNECTORS_DIR / kind / "tests" / "fixtures" / name).read_text(encoding="utf-8")

    return read


@pytest.fixture
def fixture_json(fixture_text: Callable[[str], str]) -> Callable[[str], Any]:
    def read(relative: str) -> Any:
        return json.loads(fixture_text(relative))

    return read


@pytest.fixture
def make_spec() -> Callable[..., SourceSpec]:
    """Build a SourceSpec without the database: make_spec("ants", base_url, config={...})."""

    def make(kind: str, base_url: str, **overrides: Any) -> SourceSpec:
        values: dict[str, Any] = {
            "id": 1,
            "name": f"Test {kind} source",
            "kind": kind,
            "base_url": base_url,
            "auth_header": "X-HUB-RDV-AUTH-TOKEN",
            "token": "s3cr3t-t0ken-value",
            "config": {},
            "max_documents": 1,
        }
        values.update(overrides)
        return SourceSpec(**values)

    return make


@pytest.fixture
def make_http() -> Callable[..., HttpClient]:
    """An HttpClient for a spec as a connector builds it, minus the backoff: make_http(spec, timeout=0.3)."""

    def make(spec: SourceSpec, **overrides: Any) -> HttpClient:
        values: dict[str, Any] = {"auth_header": spec.auth_header, "token": spec.token, "backoff": 0}
        values.update(overrides)
        return HttpClient(**values)

    return make
