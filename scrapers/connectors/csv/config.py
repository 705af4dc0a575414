from typing import Annotated, Any

from pydantic import BeforeValidator, Field, model_validator

from scrapers.connectors.base import TOWN_HALL_HELP, OneTownHallConfig, TownHall


def _keyed_town_halls(value: Any) -> Any:
    # {"<town_hall_id>": {...}}: the key is the town hall's external id unless it gives one.
    if value is None:
        return []
    if isinstance(value, dict):
        return [{"external_id": key, **(v if isinstance(v, dict) else {})} for key, v in value.items()]
    return value


class Config(OneTownHallConfig):
    town_hall: TownHall | None = Field(None, description=TOWN_HALL_HELP + " Or town_halls.")
    town_halls: Annotated[list[TownHall], BeforeValidator(_keyed_town_halls)] = Field(
        default_factory=list,
        description="The town halls the file speaks of, each as town_hall, its external_id being the file's "
        'town_hall_id; or an object {"<town_hall_id>": {...}}.',
    )

    @model_validator(mode="after")
    def _one_way_to_name_town_halls(self) -> "Config":
        if (self.town_hall is None) == (not self.town_halls):
            raise ValueError("give either town_hall or town_halls (the town halls the file speaks of)")
        return self

    def configured_town_halls(self) -> list[TownHall]:
        return [self.town_hall] if self.town_hall else list(self.town_halls)
