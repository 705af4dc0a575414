"""The cache backend: Django's Redis cache, failing open.

Pages read the cache for conveniences only (the demo banner, the workers' ping, the heartbeat). When Redis is
down or hangs, a read is a miss and a write is dropped, after the short socket timeouts of CACHES["OPTIONS"],
so that every page keeps answering from PostgreSQL. After a failure the cache is not asked again for
RETRY_AFTER_SECONDS: a hung Redis costs one timeout every few seconds, not one per request.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any

import redis
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

# Errors that mean "Redis is not answering", not a bug of ours.
UNAVAILABLE = (redis.RedisError, OSError)
WARN_EVERY_SECONDS = 60.0
RETRY_AFTER_SECONDS = 5.0
_last_warning = [-WARN_EVERY_SECONDS]


def _fail_open(method: Callable[..., Any], fallback: Callable[..., Any]) -> Callable[..., Any]:
    """`method`, answering fallback(*args) instead of raising when Redis is unavailable."""

    @functools.wraps(method)
    def wrapper(self: RedisCache, *args: Any, **kwargs: Any) -> Any:
        if time.monotonic() < self.unavailable_until:
            return fallback(*args, **kwargs)
        try:
            return method(self, *args, **kwargs)
        except UNAVAILABLE as exc:
            now = time.monotonic()
            self.unavailable_until = now + RETRY_AFTER_SECONDS
            if now - _last_warning[0] >= WARN_EVERY_SECONDS:  # one line a minute, not one per request
                _last_warning[0] = now
                logger.warning(
                    "Cache unavailable, %s skipped (pages answer without it): %s", method.__name__, exc
                )
            return fallback(*args, **kwargs)

    return wrapper


def _missing_key(key: Any, *args: Any, **kwargs: Any) -> int:
    raise ValueError(f"Key {key!r} not found: the cache is unavailable")


class FailOpenRedisCache(RedisCache):
    # Django keeps one cache object per thread: each learns on its own that Redis is gone.
    unavailable_until = 0.0

    get = _fail_open(RedisCache.get, lambda key, default=None, version=None: default)
    get_many = _fail_open(RedisCache.get_many, lambda *args, **kwargs: {})
    has_key = _fail_open(RedisCache.has_key, lambda *args, **kwargs: False)
    set = _fail_open(RedisCache.set, lambda *args, **kwargs: None)
    add = _fail_open(RedisCache.add, lambda *args, **kwargs: False)
    set_many = _fail_open(RedisCache.set_many, lambda data, *args, **kwargs: list(data))
    touch = _fail_open(RedisCache.touch, lambda *args, **kwargs: False)
    delete = _fail_open(RedisCache.delete, lambda *args, **kwargs: False)
    delete_many = _fail_open(RedisCache.delete_many, lambda *args, **kwargs: None)
    incr = _fail_open(RedisCache.incr, _missing_key)
