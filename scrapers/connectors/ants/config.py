from pydantic import Field

from scrapers.connectors.base import ReasonsConfig


class Config(ReasonsConfig):
    """An ANTS editor lists its own meeting points: no town hall to describe."""

    batch_size: int = Field(20, ge=1, le=100, description="Meeting points per availableTimeSlots request.")
