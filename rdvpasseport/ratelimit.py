"""Per-client rate limits on the search page, the autocomplete and the JSON API.

Each rule of settings.RATELIMITS is (bucket, path prefixes, rate). A request whose path starts with one of a
rule's prefixes counts against that bucket for its client address, in a fixed window (INCR then EXPIRE of a
key named after the window, in one Redis transaction; Django's cache when REDIS_URL is unset). Past the limit
the client gets a 429 with Retry-After until the window ends: a French page, or JSON under /api/.

When Redis does not answer, requests go through: the site keeps serving rather than refusing everybody.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from collections.abc import Callable

import redis
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext, ngettext
from prometheus_client import Counter

from rdvpasseport.rates import Rate, parse_rate
from rdvpasseport.redis_client import redis_client

logger = logging.getLogger(__name__)

RATE_LIMITED = Counter(
    "rdvpasseport_ratelimited_requests",
    "Requests refused with a 429 by the rate limits, by bucket.",
    ["bucket"],
)


def client_ip(request: HttpRequest) -> str:
    """The address of the client, as seen by the outermost of TRUSTED_PROXY_COUNT reverse proxies.

    Each proxy appends the address it received the request from to X-Forwarded-For, so the entry
    TRUSTED_PROXY_COUNT from the right is the first one a client cannot forge. Anything unusable falls
    back to REMOTE_ADDR.
    """
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) < proxies:
            _warn_missing_proxy(proxies=proxies, remote=remote, entries=len(forwarded))
        else:
            candidate = forwarded[-proxies]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                logger.warning("Unusable X-Forwarded-For entry %r, using REMOTE_ADDR", candidate[:60])
    return remote


_missing_proxy_warned = [False]


def _warn_missing_proxy(*, proxies: int, remote: str, entries: int) -> None:
    """Once per process: a request came in with fewer X-Forwarded-For entries than trusted proxies.

    Behind the proxies TRUSTED_PROXY_COUNT counts, every request carries that many entries. One that does
    not came around them, or there is no proxy at all: then any client could write the address that rate
    limits, the admin lockout and the /metrics network check see.
    """
    if _missing_proxy_warned[0]:
        return
    _missing_proxy_warned[0] = True
    logger.warning(
        "TRUSTED_PROXY_COUNT=%d, but a request from %s carried %d X-Forwarded-For entries: is the proxy in "
        "front of every request? Without one, clients choose the address rate limits see; set "
        "TRUSTED_PROXY_COUNT=0 (docs/OPERATIONS.md, Client addresses)",
        proxies,
        remote,
        entries,
    )


def client_key(address: str) -> str:
    """The unit a limit applies to: one IPv4 address, or one IPv6 /64 (what one subscriber usually gets)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64] or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def _count(key: str, ttl: int) -> int:
    if settings.REDIS_URL:
        pipe = redis_client(settings.REDIS_URL).pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, ttl)
        count, _ = pipe.execute()
        return int(count)
    cache.add(key, 0, timeout=ttl)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=ttl)
        return 1


def hit(*, bucket: str, client: str, rate: Rate, now: float | None = None) -> tuple[bool, int]:
    """Count one request of `client` in `bucket`; return (allowed, seconds until the window ends)."""
    now = time.time() if now is None else now
    window_index = int(now // rate.window)
    retry_after = max(1, math.ceil((window_index + 1) * rate.window - now))
    key = f"ratelimit:{bucket}:{client}:{rate.window}:{window_index}"
    try:
        count = _count(key, ttl=rate.window + 1)
    except (redis.RedisError, OSError) as exc:
        logger.warning("Rate limit store unavailable, letting the request through: %s", exc)
        return True, 0
    return count <= rate.limit, retry_after


def rule_for(path: str) -> tuple[str, Rate] | None:
    for bucket, prefixes, rate_text in settings.RATELIMITS:
        if any(path.startswith(prefix) for prefix in prefixes):
            rate = parse_rate(rate_text)
            return (bucket, rate) if rate else None
    return None


def too_many_requests(request: HttpRequest, *, retry_after: int) -> HttpResponse:
    # The limit answers before LocaleMiddleware has run: choose the language the same way it would.
    with translation.override(translation.get_language_from_request(request)):
        return _too_many_requests(request, retry_after=retry_after)


def _too_many_requests(request: HttpRequest, *, retry_after: int) -> HttpResponse:
    message = ngettext(
        "Trop de requêtes : merci de réessayer dans %(seconds)d seconde.",
        "Trop de requêtes : merci de réessayer dans %(seconds)d secondes.",
        retry_after,
    ) % {"seconds": retry_after}
    if request.path_info.startswith("/api/"):
        response: HttpResponse = JsonResponse({"error": message, "retry_after": retry_after}, status=429)
    else:
        body = render_to_string(
            "429.html",
            {"retry_after": retry_after, "message": message, "title": gettext("Trop de requêtes")},
            request=request,
        )
        response = HttpResponse(body, status=429)
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


class RateLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # Fail at start-up, not on the first search, when a rate is malformed.
        for _bucket, _prefixes, rate_text in settings.RATELIMITS:
            parse_rate(rate_text)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.RATELIMIT_ENABLED:
            rule = rule_for(request.path_info)
            if rule is not None:
                bucket, rate = rule
                allowed, retry_after = hit(bucket=bucket, client=client_key(client_ip(request)), rate=rate)
                if not allowed:
                    RATE_LIMITED.labels(bucket=bucket).inc()
                    return too_many_requests(request, retry_after=retry_after)
        return self.get_response(request)
