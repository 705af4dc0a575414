"""The one Redis client factory: shared per URL, short timeouts, no retries."""

from __future__ import annotations

import time

import pytest
import redis
from django.conf import settings
from django.test import override_settings

from rdvpasseport.redis_client import redis_client


def test_one_client_is_shared_per_url() -> None:
    assert redis_client(settings.REDIS_URL) is redis_client(settings.REDIS_URL)
    assert redis_client(settings.REDIS_URL) is not redis_client("redis://127.0.0.1:1/0")


@override_settings(REDIS_SOCKET_TIMEOUT=0.4)
def test_timeouts_come_from_the_setting_and_nothing_is_retried() -> None:
    options = redis_client(settings.REDIS_URL).connection_pool.connection_kwargs

    assert options["socket_timeout"] == 0.4
    assert options["socket_connect_timeout"] == 0.2
    assert options["retry"].get_retries() == 0


def test_a_redis_that_is_down_fails_at_once() -> None:
    started = time.monotonic()
    with pytest.raises(redis.ConnectionError):
        redis_client("redis://127.0.0.1:1/0").ping()

    assert time.monotonic() - started < 1
