"""The per-host limiter on the real Redis: permits shared by all workers, expiry, polite delay."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis
from django.conf import settings
from django.test import override_settings
from redis.backoff import NoBackoff
from redis.retry import Retry

from scrapers.fetching.errors import HostBusyError
from scrapers.fetching.throttle import RedisHostLimiter, default_limiter


@pytest.fixture
def connection() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


@pytest.fixture
def make_limiter(connection: redis.Redis) -> Iterator[Callable[..., RedisHostLimiter]]:
    prefix = f"test-throttle:{uuid.uuid4().hex}"

    def make(**kwargs: object) -> RedisHostLimiter:
        kwargs.setdefault("polite_delay", 0)
        return RedisHostLimiter(connection, prefix=prefix, **kwargs)  # type: ignore[arg-type]

    yield make
    for key in connection.scan_iter(f"{prefix}:*"):
        connection.delete(key)


def test_the_next_acquire_blocks_until_a_permit_is_released(make_limiter) -> None:
    limiter = make_limiter(max_in_flight=2)
    first = limiter.try_acquire("mairie.example")
    second = limiter.try_acquire("mairie.example")
    assert first and second
    acquired: list[str | None] = []
    waiter = threading.Thread(target=lambda: acquired.append(limiter.acquire("mairie.example", timeout=10)))

    waiter.start()
    waiter.join(timeout=0.5)
    assert waiter.is_alive()  # the third request waits
    limiter.release("mairie.example", first)
    waiter.join(timeout=5)

    assert not waiter.is_alive()
    assert acquired and acquired[0] is not None
    assert limiter.in_flight("mairie.example") == 2


def test_a_second_limiter_sees_the_same_permits(make_limiter) -> None:
    # Two workers: two limiter objects on the same Redis keys.
    worker_a = make_limiter(max_in_flight=1)
    worker_b = make_limiter(max_in_flight=1)

    token = worker_a.try_acquire("mairie.example")

    assert token is not None
    assert worker_b.try_acquire("mairie.example") is None
    assert worker_b.acquire("mairie.example", timeout=0.1) is None
    worker_a.release("mairie.example", token)
    assert worker_b.try_acquire("mairie.example") is not None


def test_permits_are_counted_per_host(make_limiter) -> None:
    limiter = make_limiter(max_in_flight=1)

    assert limiter.try_acquire("a.example") is not None
    assert limiter.try_acquire("b.example") is not None
    assert limiter.try_acquire("A.EXAMPLE") is None


def test_an_expired_permit_is_reclaimed(make_limiter) -> None:
    # A worker that crashed never releases: its permit expires after permit_ttl.
    limiter = make_limiter(max_in_flight=1, permit_ttl=0.3)
    assert limiter.try_acquire("mairie.example") is not None
    assert limiter.try_acquire("mairie.example") is None

    time.sleep(0.4)

    assert limiter.try_acquire("mairie.example") is not None


def test_the_slot_raises_when_no_permit_comes(make_limiter) -> None:
    limiter = make_limiter(max_in_flight=1, acquire_timeout=0.1)
    limiter.try_acquire("mairie.example")

    with (
        pytest.raises(HostBusyError, match="mairie.example already has 1 requests in flight"),
        limiter.slot("mairie.example"),
    ):
        pass


def test_the_slot_releases_its_permit_even_on_error(make_limiter) -> None:
    limiter = make_limiter(max_in_flight=1)

    with pytest.raises(RuntimeError), limiter.slot("mairie.example"):
        assert limiter.in_flight("mairie.example") == 1
        raise RuntimeError("request failed")

    assert limiter.in_flight("mairie.example") == 0


def test_requests_to_one_host_queue_up_a_polite_delay_apart(make_limiter) -> None:
    limiter = make_limiter(polite_delay=0.2)

    waits = [limiter.wait_turn("mairie.example") for _ in range(3)]

    # Each caller reserves the next turn: the first goes at once, the others wait (up to one delay each).
    assert waits[0] == 0
    assert 0 < waits[1] <= 0.2
    assert 0 < waits[2] <= 0.2
    assert limiter.wait_turn("other.example") == 0


def test_an_unreachable_redis_does_not_stop_requests() -> None:
    broken = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    limiter = RedisHostLimiter(broken, polite_delay=0)

    with limiter.slot("mairie.example"):
        reached = True

    assert reached


@override_settings(REDIS_URL="", SCRAPER_HOST_CONCURRENCY=3)
def test_there_is_no_default_limiter_without_redis() -> None:
    assert default_limiter() is None


@override_settings(SCRAPER_HOST_CONCURRENCY=3, SCRAPER_POLITE_DELAY=0.5)
def test_the_default_limiter_follows_the_settings() -> None:
    limiter = default_limiter()

    assert limiter is not None
    assert (limiter.max_in_flight, limiter.polite_delay) == (3, 0.5)
