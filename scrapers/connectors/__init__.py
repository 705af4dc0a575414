"""Connectors: one package per kind of booking source, all behind scrapers.connectors.base.Connector.

`CONNECTORS` is the registry: one dotted path per kind (a new kind is one line here). `get_connector(spec)`
picks the class for `spec.kind`; `CONNECTOR_KINDS` feeds the admin's choices.
"""

from __future__ import annotations

from typing import Any

from django.utils.module_loading import import_string

from scrapers.connectors.base import (
    ConfigOption,
    Connector,
    FetchResult,
    MeetingPointData,
    SlotData,
    SourceSpec,
    config_options,
    config_problems,
)
from scrapers.fetching.errors import ConnectorError
from scrapers.fetching.http import HttpClient

CONNECTORS: list[str] = [
    "scrapers.connectors.ants.AntsConnector",
    "scrapers.connectors.rendezvousonline.RendezvousOnlineConnector",
    "scrapers.connectors.synbird.SynbirdConnector",
    "scrapers.connectors.ics.IcsConnector",
    "scrapers.connectors.csv.CsvConnector",
    "scrapers.connectors.html.HtmlConnector",
    "scrapers.connectors.clicrdv.ClicRdvConnector",
]

CONNECTOR_CLASSES: dict[str, type[Connector]] = {cls.kind: cls for cls in map(import_string, CONNECTORS)}
CONNECTOR_KINDS: list[tuple[str, str]] = [(kind, cls.label) for kind, cls in CONNECTOR_CLASSES.items()]


def connector_class(kind: str) -> type[Connector]:
    """The connector class of a kind; ConnectorError naming the known kinds when there is none."""
    try:
        return CONNECTOR_CLASSES[kind]
    except KeyError:
        known = ", ".join(CONNECTOR_CLASSES)
        raise ConnectorError(f"unknown connector kind {kind!r}; known kinds: {known}") from None


def get_connector(spec: SourceSpec, *, http: HttpClient | None = None) -> Connector:
    """The connector for spec.kind, with its own HTTP client unless one is given."""
    return connector_class(spec.kind)(spec, http=http)


def kind_config_problems(kind: str, config: Any) -> list[str]:
    """What is wrong with `config` for a source of this (known) kind, one line per option; [] when it fits."""
    return config_problems(connector_class(kind).Config, config, kind=kind)


def kind_default_max_documents(kind: str) -> int:
    """The max_documents of a new source of this (known) kind that names none."""
    return connector_class(kind).default_max_documents


def kind_options(kind: str) -> list[ConfigOption]:
    """The options a (known) kind declares, for the admin's help and the README's table."""
    return config_options(connector_class(kind).Config)


__all__ = [
    "CONNECTORS",
    "CONNECTOR_CLASSES",
    "CONNECTOR_KINDS",
    "Connector",
    "ConnectorError",
    "FetchResult",
    "MeetingPointData",
    "SlotData",
    "SourceSpec",
    "connector_class",
    "get_connector",
    "kind_default_max_documents",
    "kind_config_problems",
    "kind_options",
]
