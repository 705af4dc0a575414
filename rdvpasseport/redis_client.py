"""The one way the code talks to Redis directly: a client per URL, quick to give up when Redis is slow.

Callers that can do without Redis (rate limits, health checks, the per-host limiter) catch redis.RedisError
and go on: a short timeout and no retries keep a missing Redis from slowing every request down.
"""

from __future__ import annotations

from functools import lru_cache

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry


def redis_client(url: str) -> redis.Redis:
    """A client for `url`, shared by the callers of this process; timeouts from REDIS_SOCKET_TIMEOUT."""
    return _client(url, float(settings.REDIS_SOCKET_TIMEOUT))


@lru_cache(maxsize=8)
def _client(url: str, timeout: float) -> redis.Redis:
    # Connecting takes one round trip on a healthy network: half the read timeout is plenty.
    return redis.Redis.from_url(
        url, socket_connect_timeout=timeout / 2, socket_timeout=timeout, retry=Retry(NoBackoff(), 0)
    )
