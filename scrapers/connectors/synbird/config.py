from typing import Any

from pydantic import Field, field_validator

from scrapers.connectors.base import OneTownHallConfig, ReasonIds, Text, WebUrl, ids_cover_reasons

DEFAULT_BOOKING_BASE = "https://app.synbird.com"


class Config(OneTownHallConfig):
    company_id: str = Field(min_length=1, description="The Synbird company id.")
    place_id: str = Field(min_length=1, description="The Synbird place id (the town hall's desk).")
    prestation_ids: ReasonIds = Field(
        description='The Synbird prestation id of each reason, e.g. {"CNI": 3}; others are not asked.'
    )
    slug: Text = Field("", description="The booking link becomes {booking_base}/<slug>.")
    booking_base: WebUrl = Field(DEFAULT_BOOKING_BASE, description="The booking site of the links.")
    extra_body: dict[str, Any] = Field(
        default_factory=dict, description="Fields merged into every request body (what an instance expects)."
    )

    check_reason_ids = field_validator("prestation_ids")(ids_cover_reasons)
