import re

import soupsieve
from pydantic import Field, field_validator

from scrapers.connectors.base import OneTownHallConfig, OptionalCount, Text


class Config(OneTownHallConfig):
    slot_selector: str = Field(
        min_length=1, description='CSS selector of one element per free slot, e.g. "ul.creneaux li".'
    )
    datetime_attribute: Text = Field(
        "", description='Read the datetime from this attribute (e.g. "data-start") instead of the text.'
    )
    date_format: Text = Field(
        "",
        description='strptime format of the datetime, French names allowed (e.g. "%A %d %B %Y à %Hh%M"); '
        "default ISO 8601; Paris time without %z.",
    )
    datetime_pattern: Text = Field(
        "", description="A regular expression cutting the datetime out of a longer text (its first group)."
    )
    link_selector: Text = Field(
        "", description="CSS selector, inside the slot element, of the link to book it (its href)."
    )
    require_selector: Text = Field(
        "", description="A selector the page must match, else the layout changed and the fetch fails."
    )
    people_max: OptionalCount = Field(
        None, ge=1, le=20, description="How many people a slot takes, if known."
    )

    @field_validator("slot_selector", "link_selector", "require_selector")
    @classmethod
    def _valid_selector(cls, value: str) -> str:
        if value:
            try:
                soupsieve.compile(value)
            except soupsieve.SelectorSyntaxError as exc:
                raise ValueError(f"invalid CSS selector: {str(exc).splitlines()[0]}") from None
        return value

    @field_validator("datetime_pattern")
    @classmethod
    def _valid_pattern(cls, value: str) -> str:
        if value:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value
