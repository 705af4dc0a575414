from __future__ import annotations

import pytest
import time_machine

from opendata.tests.factories import World, make_world, paris

NOW = paris(2026, 11, 20, 10, 0)


@pytest.fixture
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def world(db, frozen_now) -> World:
    return make_world(frozen_now)
