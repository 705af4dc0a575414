"""Per-host politeness shared by every worker: a limit on requests in flight and a delay between requests.

Both live in Redis so that all Celery workers on all machines see the same counts:
- the limit is a semaphore per host, kept as a sorted set of permit tokens scored by their expiry time
  (Redis's own clock). A worker that crashes while holding a permit cannot leak it: expired permits are
  dropped by the next acquire;
- the polite delay reserves, per host, the next moment a request may start: concurrent callers queue up
  one `polite_delay` apart instead of bursting.
If Redis is unreachable the request goes ahead unthrottled (and a warning is logged): politeness must not
stop the scrapers.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from django.conf import settings

from rdvpasseport.redis_client import redis_client
from scrapers.fetching.errors import HostBusyError

logger = logging.getLogger(__name__)

# Both scripts read the clock of the Redis server so that workers with skewed clocks agree.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
    redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
    return 1
end
return 0
"""

_RESERVE_START = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local next_at = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(now, next_at)
local delay = tonumber(ARGV[1])
redis.call('SET', KEYS[1], start + delay, 'PX', start - now + delay + 1000)
return start - now
"""


class RedisHostLimiter:
    """At most `max_in_flight` requests per host at once, `polite_delay` seconds apart, across all workers."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        max_in_flight: int = 4,
        polite_delay: float = 0.2,
        permit_ttl: float = 120.0,
        acquire_timeout: float = 120.0,
        prefix: str = "rdvpasseport:throttle",
    ) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self.client = client
        self.max_in_flight = max_in_flight
        self.polite_delay = max(0.0, polite_delay)
        self.permit_ttl_ms = max(1, int(permit_ttl * 1000))
        self.acquire_timeout = acquire_timeout
        self.prefix = prefix
        self._acquire = client.register_script(_ACQUIRE)
        self._reserve_start = client.register_script(_RESERVE_START)

    def _key(self, kind: str, host: str) -> str:
        return f"{self.prefix}:{kind}:{host.lower()}"

    def try_acquire(self, host: str) -> str | None:
        """A permit token for this host, or None when `max_in_flight` permits are already out."""
        token = uuid.uuid4().hex
        granted = self._acquire(
            keys=[self._key("permits", host)], args=[self.max_in_flight, self.permit_ttl_ms, token]
        )
        return token if granted == 1 else None

    def acquire(self, host: str, *, timeout: float | None = None) -> str | None:
        """Wait up to `timeout` seconds (default acquire_timeout) for a permit; None if none came."""
        deadline = time.monotonic() + (self.acquire_timeout if timeout is None else timeout)
        pause = 0.02
        while True:
            token = self.try_acquire(host)
            if token is not None:
                return token
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            time.sleep(min(remaining, pause * random.uniform(0.5, 1.5)))
            pause = min(pause * 2, 0.25)

    def release(self, host: str, token: str) -> None:
        self.client.zrem(self._key("permits", host), token)

    def in_flight(self, host: str) -> int:
        seconds, microseconds = self.client.time()
        now_ms = seconds * 1000 + microseconds // 1000
        key = self._key("permits", host)
        return int(self.client.zcount(key, now_ms, "+inf"))

    def wait_turn(self, host: str) -> float:
        """Sleep until this host may receive the next request (polite delay); return the seconds slept."""
        if self.polite_delay <= 0:
            return 0.0
        wait_ms = int(
            self._reserve_start(keys=[self._key("next", host)], args=[int(self.polite_delay * 1000)])
        )
        if wait_ms > 0:
            time.sleep(wait_ms / 1000)
        return wait_ms / 1000

    @contextmanager
    def slot(self, host: str) -> Iterator[None]:
        """Hold a permit for one request to `host`, after the polite delay."""
        try:
            token = self.acquire(host)
        except redis.RedisError as exc:
            logger.warning("host limiter unavailable (%s); requesting %s unthrottled", exc, host)
            yield
            return
        if token is None:
            raise HostBusyError(
                f"{host} already has {self.max_in_flight} requests in flight; "
                f"no permit within {self.acquire_timeout:g} s"
            )
        try:
            try:
                self.wait_turn(host)
            except redis.RedisError as exc:
                logger.warning("host limiter unavailable (%s); no polite delay for %s", exc, host)
            yield
        finally:
            try:
                self.release(host, token)
            except redis.RedisError as exc:
                # The permit expires by itself after permit_ttl.
                logger.warning("could not release a permit for %s: %s", host, exc)


def default_limiter() -> RedisHostLimiter | None:
    """A limiter on settings.REDIS_URL with the SCRAPER_* settings, or None when Redis is not configured."""
    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return None
    timeout = float(getattr(settings, "SCRAPER_TIMEOUT", 15.0))
    return RedisHostLimiter(
        redis_client(url),
        max_in_flight=int(getattr(settings, "SCRAPER_HOST_CONCURRENCY", 4)),
        polite_delay=float(getattr(settings, "SCRAPER_POLITE_DELAY", 0.2)),
        # A permit outlives the longest request (connect + read deadline) with a margin.
        permit_ttl=timeout * 4 + 30,
        acquire_timeout=timeout * 4 + 30,
    )
