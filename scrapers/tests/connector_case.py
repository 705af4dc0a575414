"""What scrapers/tests/test_connector_common.py needs to know of a connector kind to test its transport.

Each connector package declares one, as `COMMON_CASE` in its `tests/__init__.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The town hall of the kinds that describe theirs in their config.
TOWN_HALL = {"external_id": "th-1", "name": "Mairie de Clichy", "booking_url": "https://clichy.example/rdv"}


@dataclass(frozen=True)
class FollowUp:
    """A request the connector sends after a valid first answer, and what answers it."""

    path: str
    method: str
    json: Any


@dataclass(frozen=True)
class CommonCase:
    base_path: str  # the source's base_url, relative to the server
    first_path: str  # the first request the connector sends
    method: str
    content_type: str  # the right one
    wrong_content_type: str  # one the connector must refuse
    body: str  # a valid body of that type, giving no slot
    config: dict[str, Any]
    meeting_point_id: str = TOWN_HALL["external_id"]
    follow_ups: tuple[FollowUp, ...] = ()  # what a valid empty fetch requests after the first answer
    # The source's auth header; empty: the token travels in the query string (and is redacted there).
    auth_header: str = "X-HUB-RDV-AUTH-TOKEN"
