"""Connectors: one module per kind of booking source, all behind scrapers.connectors.base.Connector.

`get_connector(spec)` picks the class for `spec.kind`; `CONNECTOR_KINDS` feeds the admin's choices.
"""

from __future__ import annotations

from typing import Any

from scrapers.connectors.ants import AntsConnector
from scrapers.connectors.base import (
    Connector,
    ConnectorError,
    FetchResult,
    MeetingPointData,
    SlotData,
    SourceSpec,
)
from scrapers.connectors.csv import CsvConnector
from scrapers.connectors.html import HtmlConnector
from scrapers.connectors.ics import IcsConnector
from scrapers.connectors.rendezvousonline import RendezvousOnlineConnector
from scrapers.connectors.synbird import SynbirdConnector

CONNECTORS: dict[str, type[Connector]] = {
    cls.kind: cls
    for cls in (
        AntsConnector,
        RendezvousOnlineConnector,
        SynbirdConnector,
        IcsConnector,
        CsvConnector,
        HtmlConnector,
    )
}
CONNECTOR_KINDS: list[tuple[str, str]] = [(kind, cls.label) for kind, cls in CONNECTORS.items()]


def get_connector(spec: SourceSpec, *, http: Any = None) -> Connector:
    """The connector for spec.kind, with its own HTTP client unless one is given."""
    try:
        cls = CONNECTORS[spec.kind]
    except KeyError:
        known = ", ".join(CONNECTORS)
        raise ConnectorError(f"unknown connector kind {spec.kind!r}; known kinds: {known}") from None
    return cls(spec, http=http)


__all__ = [
    "CONNECTORS",
    "CONNECTOR_KINDS",
    "Connector",
    "ConnectorError",
    "FetchResult",
    "MeetingPointData",
    "SlotData",
    "SourceSpec",
    "get_connector",
]
