from pydantic import Field

from scrapers.connectors.base import OneTownHallConfig, OptionalCount, Text, WebUrl


class Config(OneTownHallConfig):
    summary_contains: Text = Field(
        "", description='Keep only the events whose SUMMARY contains this text (any case), e.g. "Libre".'
    )
    booking_url: WebUrl = Field(
        "", description="The link of a slot without a URL of its own (default: the town hall's links)."
    )
    people_max: OptionalCount = Field(
        None, ge=1, le=20, description="How many people a slot takes, when the town hall says so."
    )
