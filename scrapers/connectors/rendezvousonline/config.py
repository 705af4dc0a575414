from pydantic import Field, field_validator

from scrapers.connectors.base import OneTownHallConfig, ReasonIds, Text, WebUrl, ids_cover_reasons

DEFAULT_BOOKING_BASE = "https://rendezvousonline.fr"


class Config(OneTownHallConfig):
    structure_id: int = Field(ge=0, description="The Citopia structure's numeric id.")
    reason_ids: ReasonIds = Field(
        description='The Citopia reason id of each reason, e.g. {"CNI": 7, "PASSPORT": 8}; others are not asked.'
    )
    alias: Text = Field("", description="The town's alias on rendezvousonline.fr, for the booking link.")
    motif: Text = Field(
        "", description="The service of the booking link: {booking_base}/alias/<alias>/service/<motif>."
    )
    motifs: dict[str, Text] | None = Field(
        None, description='One motif per reason instead: {"CNI": "...", ...}.'
    )
    booking_base: WebUrl = Field(DEFAULT_BOOKING_BASE, description="The booking site of the links.")
    max_weeks: int = Field(10, ge=1, le=52, description="Weeks fetched at most per reason and people count.")

    check_reason_ids = field_validator("reason_ids")(ids_cover_reasons)
