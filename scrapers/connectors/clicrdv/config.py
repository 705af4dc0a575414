from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator

from scrapers.connectors.base import OneTownHallConfig, ReasonIds, WebUrl, ids_cover_reasons


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str | int) and not isinstance(value, bool) else value


class Config(OneTownHallConfig):
    group_id: int = Field(ge=1, description="The ClicRDV group (the town hall's account) id.")
    interventions: ReasonIds = Field(
        description='The ClicRDV intervention id of each reason, e.g. {"CNI": 4021}; others are not asked.'
    )
    calendar_ids: Annotated[list[str], BeforeValidator(_one_or_many)] = Field(
        min_length=1, description="The ClicRDV calendar id(s) (desks or agents) whose free slots are read."
    )
    booking_url: WebUrl = Field(
        "", description="The town hall's ClicRDV booking page (default: the town hall's booking_url)."
    )

    check_interventions = field_validator("interventions")(ids_cover_reasons)
